import GatewayConfig
import NIOCore
import NIOPosix

@testable import GatewayServer

/// A gateway with one cached route (`/`) in front of a scripted origin, and a manual clock.
struct CacheFixture {
    let origin: ScriptedOrigin
    let gateway: TestGateway
    let clock: ManualClock
    let client: TestClient

    static func start(
        route routeCache: RouteCacheConfig = RouteCacheConfig(), cache: CacheConfig? = nil,
        origin script: @escaping ScriptedOrigin.Script, group: EventLoopGroup
    ) async throws -> CacheFixture {
        let origin = try await ScriptedOrigin(script)
        let clock = ManualClock()
        var route = prefixRoute("cached", "/", upstream: "origin")
        route.cache = routeCache
        let configuration = GatewayConfiguration(
            node: NodeConfig(id: "edge-1"), runtime: RuntimeConfig(eventLoops: 2, drainTimeout: .seconds(5)),
            listeners: [ListenerConfig(name: "test", address: HostPort(host: "127.0.0.1", port: 0))],
            upstreams: [
                UpstreamConfig(
                    name: "origin",
                    endpoints: [EndpointConfig(address: HostPort(host: "127.0.0.1", port: origin.port))])
            ],
            routes: [route], cache: cache)
        let gateway = try await TestGateway.start(configuration, cacheClock: clock.function)
        let client = try await TestClient.connect(port: gateway.port, group: group)
        return CacheFixture(origin: origin, gateway: gateway, clock: clock, client: client)
    }

    func get(_ uri: String, _ headers: [(String, String)] = []) async throws -> TestResponse {
        try await client.request(.GET, uri, headers: [("host", "test")] + headers)
    }

    func stop() async {
        await client.close()
        await gateway.stop()
        await origin.stop()
    }
}
