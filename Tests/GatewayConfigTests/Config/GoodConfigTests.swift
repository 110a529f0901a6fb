import XCTest

@testable import GatewayConfig

/// Valid files: every key lands in the model and omitted keys take the model's defaults.
final class GoodConfigTests: XCTestCase {
    /// The reference config's shape, minus the sections whose features have not landed.
    static let fullConfig = """
        node:
          id: edge-use1-a
          region: us-east

        runtime:
          event_loops: 2
          drain_timeout: 1m30s

        listeners:
          - name: public
            address: 127.0.0.1:8080
            protocols: [http1]
            max_connections: 20000
            timeouts: { header_read: 10s, body_read: 30s, idle: 60s }
            limits: { max_header_bytes: 32KiB, max_headers: 100, max_body: 10MiB }
          - name: ipv6
            address: "[::1]:0"
            limits: { max_body: unlimited }

        upstreams:
          users:
            endpoints:
              - { address: 127.0.0.1:9001, weight: 2 }
              - { address: 127.0.0.1:9002 }
            protocol: http1
            balance: least_request
            pool: { max_per_endpoint: 256, idle_timeout: 60s }
            timeouts: { connect: 1s, response_header: 15s, request: 30s }
          origin-static:
            endpoints: [{ address: localhost:9100 }]
            balance: consistent_hash
            hash_on: { header: X-User-Id }
          sticky:
            endpoints: [{ address: 127.0.0.1:9200 }]
            balance: consistent_hash
            hash_on: client_ip
          cookie.jar:
            endpoints: [{ address: 127.0.0.1:9300 }]
            balance: consistent_hash
            hash_on: { cookie: session }

        trusted_proxies: [127.0.0.1/32, 10.0.0.0/8, "::1"]

        routes:
          - name: users-api
            match: { host: API.example.test, path_prefix: /v1/users, methods: [get, POST] }
            upstream: users
            rewrite: { strip_prefix: /v1 }
            headers:
              request: { set: { X-Gateway: edge }, add: { X-Added: gw }, remove: [X-Debug] }
              response: { remove: [Server] }
            timeouts: { request: 10s }
          - name: user-orders
            match:
              host: ["*.example.test", example.test]
              path: /v1/users/{id}/orders/{order_id}
              headers:
                - { name: X-Canary }
                - { name: X-Tenant, value: acme }
            upstream: users
          - name: static
            match: { path_prefix: /assets/ }
            upstream: origin-static
            rewrite: { replace_prefix: /static/ }
          - name: fallback
            upstream: sticky

        logging:
          level: debug
        """

    func testFullConfigRoundTripsIntoTheModel() throws {
        let config = try XCTUnwrap(parseValid(Self.fullConfig))
        XCTAssertEqual(config.node, NodeConfig(id: "edge-use1-a", region: "us-east"))
        XCTAssertEqual(config.runtime, RuntimeConfig(eventLoops: 2, drainTimeout: .seconds(90)))
        XCTAssertEqual(
            config.listeners,
            [
                ListenerConfig(
                    name: "public", address: HostPort(host: "127.0.0.1", port: 8080), protocols: [.http1],
                    maxConnections: 20_000,
                    timeouts: ListenerTimeouts(headerRead: .seconds(10), bodyRead: .seconds(30), idle: .seconds(60)),
                    limits: ListenerLimits(maxHeaderBytes: 32 * 1024, maxHeaders: 100, maxBody: 10 * 1024 * 1024)),
                ListenerConfig(
                    name: "ipv6", address: HostPort(host: "::1", port: 0),
                    limits: ListenerLimits(maxBody: nil)),
            ])
        XCTAssertEqual(
            config.upstreams,
            [
                UpstreamConfig(
                    name: "users",
                    endpoints: [
                        EndpointConfig(address: HostPort(host: "127.0.0.1", port: 9001), weight: 2),
                        EndpointConfig(address: HostPort(host: "127.0.0.1", port: 9002), weight: 1),
                    ],
                    protocolVersion: .http1, balance: .leastRequest,
                    pool: PoolConfig(maxPerEndpoint: 256, idleTimeout: .seconds(60)),
                    timeouts: UpstreamTimeouts(
                        connect: .seconds(1), responseHeader: .seconds(15), request: .seconds(30))),
                UpstreamConfig(
                    name: "origin-static",
                    endpoints: [EndpointConfig(address: HostPort(host: "localhost", port: 9100))],
                    balance: .consistentHash(.header("x-user-id"))),
                UpstreamConfig(
                    name: "sticky", endpoints: [EndpointConfig(address: HostPort(host: "127.0.0.1", port: 9200))],
                    balance: .consistentHash(.clientIP)),
                UpstreamConfig(
                    name: "cookie.jar", endpoints: [EndpointConfig(address: HostPort(host: "127.0.0.1", port: 9300))],
                    balance: .consistentHash(.cookie("session"))),
            ])
        XCTAssertEqual(config.trustedProxies.map(\.description), ["127.0.0.1/32", "10.0.0.0/8", "::1/128"])
        XCTAssertEqual(config.trustedProxies.map(\.prefixLength), [128, 104, 128])
        XCTAssertEqual(
            config.routes,
            [
                RouteConfig(
                    name: "users-api",
                    match: RouteMatchConfig(
                        hosts: ["api.example.test"], path: .prefix("/v1/users"), methods: ["GET", "POST"]),
                    upstream: "users", rewrite: .stripPrefix("/v1"),
                    headers: HeaderRules(
                        request: HeaderOperations(
                            set: [HeaderField(name: "X-Gateway", value: "edge")],
                            add: [HeaderField(name: "X-Added", value: "gw")], remove: ["x-debug"]),
                        response: HeaderOperations(remove: ["server"])),
                    requestTimeout: .seconds(10)),
                RouteConfig(
                    name: "user-orders",
                    match: RouteMatchConfig(
                        hosts: ["*.example.test", "example.test"], path: .template("/v1/users/{id}/orders/{order_id}"),
                        headers: [HeaderMatch(name: "x-canary"), HeaderMatch(name: "x-tenant", value: "acme")]),
                    upstream: "users"),
                RouteConfig(
                    name: "static", match: RouteMatchConfig(path: .prefix("/assets/")), upstream: "origin-static",
                    rewrite: .replacePrefix("/static/")),
                RouteConfig(name: "fallback", match: RouteMatchConfig(), upstream: "sticky"),
            ])
        XCTAssertEqual(config.logging, LoggingConfig(level: .debug))
    }

    func testMinimalConfigTakesDefaults() throws {
        let config = try XCTUnwrap(parseValid(minimalListeners))
        XCTAssertEqual(
            config,
            GatewayConfiguration(
                node: NodeConfig(id: "test-host"),
                listeners: [ListenerConfig(name: "main", address: HostPort(host: "127.0.0.1", port: 8080))],
                upstreams: [], routes: []))
    }

    func testUpstreamDefaults() throws {
        let config = try XCTUnwrap(
            parseValid(
                minimalListeners + """

                    upstreams:
                      a:
                        endpoints: [{ address: "[::1]:9000" }]
                    """))
        XCTAssertEqual(
            config.upstreams,
            [UpstreamConfig(name: "a", endpoints: [EndpointConfig(address: HostPort(host: "::1", port: 9000))])])
        XCTAssertEqual(config.upstreams.first?.endpoints.first?.address.description, "[::1]:9000")
    }

    func testListenersMayShareAPortOnlyWhenTheOSPicksIt() throws {
        let config = try XCTUnwrap(
            parseValid(
                """
                listeners:
                  - { name: a, address: 127.0.0.1:0 }
                  - { name: b, address: 0.0.0.0:0 }
                  - { name: c, address: 127.0.0.1:8080 }
                  - { name: d, address: 127.0.0.2:8080 }
                """))
        XCTAssertEqual(config.listeners.map(\.name), ["a", "b", "c", "d"])
    }

    func testNodeIDDefaultsToTheGivenName() throws {
        let config = try XCTUnwrap(parseValid("node: { region: eu }\n" + minimalListeners))
        XCTAssertEqual(config.node, NodeConfig(id: "test-host", region: "eu"))
        XCTAssertFalse(ConfigLoader.hostName().isEmpty)
    }

    func testLoadReadsAFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gw-\(UUID().uuidString).yaml").path
        try GoodConfigTests.fullConfig.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        guard case .success(let config) = ConfigLoader.load(path: path, defaultNodeID: "x") else {
            return XCTFail("expected the file to load")
        }
        XCTAssertEqual(config.routes.count, 4)
    }

    func testLoadReportsAMissingFile() {
        guard case .failure(let errors) = ConfigLoader.load(path: "/nonexistent/gw.yaml") else {
            return XCTFail("expected a failure")
        }
        XCTAssertEqual(errors.description, "/nonexistent/gw.yaml: no such file")
    }
}
