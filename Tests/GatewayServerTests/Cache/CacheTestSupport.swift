import GatewayConfig
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

@testable import GatewayServer

/// A gateway with one cached route (`/`) in front of a scripted origin, and a manual clock.
struct CacheFixture {
    let origin: ScriptedOrigin
    let gateway: TestGateway
    let clock: ManualClock
    let client: TestClient
    let admin: AdminServer?
    let adminPort: Int
    let group: EventLoopGroup

    static func start(
        route routeCache: RouteCacheConfig = RouteCacheConfig(), cache: CacheConfig? = nil,
        withAdmin: Bool = false, origin script: @escaping ScriptedOrigin.Script, group: EventLoopGroup
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
            routes: [route],
            admin: withAdmin ? AdminConfig(address: HostPort(host: "127.0.0.1", port: 0)) : nil, cache: cache)
        let gateway = try await TestGateway.start(configuration, cacheClock: clock.function)
        let client = try await TestClient.connect(port: gateway.port, group: group)
        var admin: AdminServer?
        var adminPort = 0
        if let adminConfig = configuration.admin {
            let server = AdminServer(
                config: adminConfig, api: AdminAPI(server: gateway.server, reloader: nil, token: nil),
                logger: Logger(label: "admin"))
            adminPort = try await server.start()?.port ?? 0
            admin = server
        }
        return CacheFixture(
            origin: origin, gateway: gateway, clock: clock, client: client, admin: admin, adminPort: adminPort,
            group: group)
    }

    /// Calls the admin API; the body is JSON text.
    func admin(_ method: HTTPMethod, _ path: String, body: String? = nil) async throws -> TestResponse {
        let client = try await TestClient.connect(port: adminPort, group: group)
        let response = try await client.request(
            method, path, headers: [("host", "admin"), ("content-type", "application/json")],
            body: body.map { ByteBuffer(string: $0) })
        await client.close()
        return response
    }

    func get(_ uri: String, _ headers: [(String, String)] = []) async throws -> TestResponse {
        try await client.request(.GET, uri, headers: [("host", "test")] + headers)
    }

    func stop() async {
        await client.close()
        await admin?.stop()
        await gateway.stop()
        await origin.stop()
    }
}
