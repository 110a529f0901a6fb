import GatewayConfig
import GatewayServer
import Logging
import NIOCore

/// The gateway in-process on real sockets, configured from code (listener on port 0).
struct TestGateway {
    let server: GatewayServer
    let port: Int

    static func start(
        upstreams: [UpstreamConfig], routes: [RouteConfig], listener: ListenerConfig? = nil,
        trustedProxies: [CIDR] = [], eventLoops: Int = 2
    ) async throws -> TestGateway {
        let configuration = GatewayConfiguration(
            node: NodeConfig(id: "test-node"),
            runtime: RuntimeConfig(eventLoops: eventLoops, drainTimeout: .seconds(5)),
            listeners: [listener ?? ListenerConfig(name: "test", address: HostPort(host: "127.0.0.1", port: 0))],
            upstreams: upstreams, routes: routes, trustedProxies: trustedProxies)
        return try await start(configuration)
    }

    static func start(_ configuration: GatewayConfiguration, cacheClock: (@Sendable () -> Int64)? = nil) async throws
        -> TestGateway
    {
        var logger = Logger(label: "test-gateway")
        logger.logLevel = .warning
        let server = GatewayServer(
            snapshot: Snapshot(configuration: configuration, generation: 1), logger: logger, cacheClock: cacheClock)
        let bound = try await server.start()
        return TestGateway(server: server, port: bound.values.first?.port ?? 0)
    }

    func stop() async {
        await server.shutdown(drainTimeout: .seconds(5))
    }
}

func endpoint(_ upstream: TestUpstream, weight: Int = 1) -> EndpointConfig {
    EndpointConfig(address: HostPort(host: "127.0.0.1", port: upstream.port), weight: weight)
}

func prefixRoute(
    _ name: String, _ prefix: String, upstream: String, rewrite: RewriteConfig? = nil,
    headers: HeaderRules = HeaderRules(), hosts: [String] = []
) -> RouteConfig {
    RouteConfig(
        name: name, match: RouteMatchConfig(hosts: hosts, path: .prefix(prefix)), upstream: upstream,
        rewrite: rewrite, headers: headers)
}
