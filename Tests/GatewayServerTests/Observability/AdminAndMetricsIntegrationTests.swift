import Foundation
import GatewayConfig
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import XCTest

@testable import GatewayServer

/// The admin API, `/metrics` and the access log against a running gateway on real sockets.
final class AdminAndMetricsIntegrationTests: XCTestCase {
    private let clientGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let token = "test-admin-token-0123456789"

    override func tearDown() async throws {
        try await clientGroup.shutdownGracefully()
    }

    private struct Running {
        let gateway: TestGateway
        let admin: AdminServer
        let adminPort: Int
        let upstream: TestUpstream
    }

    private func start(accessLog: String? = nil, reloader: (GatewayServer) -> ConfigReloader? = { _ in nil })
        async throws -> Running
    {
        let upstream = try await TestUpstream(name: "main")
        let configuration = GatewayConfiguration(
            node: NodeConfig(id: "test-node"),
            runtime: RuntimeConfig(eventLoops: 2, drainTimeout: .seconds(5)),
            listeners: [ListenerConfig(name: "public", address: HostPort(host: "127.0.0.1", port: 0))],
            upstreams: [UpstreamConfig(name: "u", endpoints: [endpoint(upstream)])],
            routes: [
                prefixRoute("a", "/a/", upstream: "u"),
                prefixRoute("b", "/b/", upstream: "u", rewrite: .stripPrefix("/b")),
            ],
            logging: LoggingConfig(accessLog: accessLog.map { AccessLogConfig(destination: .file(path: $0)) }),
            admin: AdminConfig(address: HostPort(host: "127.0.0.1", port: 0), tokenEnvironmentVariable: "T"))
        let gateway = try await TestGateway.start(configuration)
        let api = AdminAPI(server: gateway.server, reloader: reloader(gateway.server), token: token)
        let admin = AdminServer(config: try XCTUnwrap(configuration.admin), api: api, logger: Logger(label: "admin"))
        let address = try await admin.start()
        return Running(gateway: gateway, admin: admin, adminPort: try XCTUnwrap(address?.port), upstream: upstream)
    }

    private func stop(_ running: Running) async {
        await running.gateway.stop()
        await running.admin.stop()
        await running.upstream.stop()
    }

    private enum Credential {
        case rightToken
        case noHeader
        case header(String)
    }

    private func admin(
        _ running: Running, _ path: String, method: HTTPMethod = .GET, credential: Credential = .rightToken
    ) async throws -> TestResponse {
        let client = try await TestClient.connect(port: running.adminPort, group: clientGroup)
        var headers = [("host", "admin")]
        switch credential {
        case .rightToken: headers.append(("authorization", "Bearer \(self.token)"))
        case .header(let value): headers.append(("authorization", value))
        case .noHeader: break
        }
        let response = try await client.request(method, path, headers: headers)
        await client.close()
        return response
    }

    func testAdminAsksForTheToken() async throws {
        let running = try await start()
        for path in ["/admin/health", "/admin/ready", "/admin/config", "/admin/upstreams", "/admin/stats", "/metrics"] {
            let missing = try await admin(running, path, credential: .noHeader)
            XCTAssertEqual(missing.status, .unauthorized, path)
            XCTAssertEqual(missing.header("www-authenticate"), "Bearer realm=\"gateway-admin\"")
            XCTAssertTrue(missing.bodyText.contains("\"error\": \"unauthorized\""), missing.bodyText)
            let wrong = try await admin(running, path, credential: .header("Bearer not-the-token"))
            XCTAssertEqual(wrong.status, .unauthorized, path)
            let right = try await admin(running, path)
            XCTAssertEqual(right.status, .ok, "\(path): \(right.bodyText)")
            XCTAssertEqual(right.header("cache-control"), "no-store")
        }
        // The status page's files hold no data: a browser gets them without the token.
        for (path, type) in [
            ("/admin/", "text/html; charset=utf-8"), ("/admin", "text/html; charset=utf-8"),
            ("/admin/status.js", "text/javascript; charset=utf-8"), ("/admin/status.css", "text/css; charset=utf-8"),
        ] {
            let asset = try await admin(running, path, credential: .noHeader)
            XCTAssertEqual(asset.status, .ok, path)
            XCTAssertEqual(asset.header("content-type"), type, path)
            XCTAssertEqual(asset.header("x-content-type-options"), "nosniff", path)
            XCTAssertTrue(asset.header("content-security-policy")?.contains("script-src 'self'") == true, path)
        }
        let page = try await admin(running, "/admin/", credential: .noHeader)
        XCTAssertTrue(page.bodyText.contains(#"<script src="/admin/status.js" defer></script>"#))
        XCTAssertFalse(page.bodyText.contains(token), "the page never holds the token")
        let postToPage = try await admin(running, "/admin/", method: .POST, credential: .noHeader)
        XCTAssertEqual(postToPage.status, .methodNotAllowed)
        let reloadWithoutToken = try await admin(running, "/admin/reload", method: .POST, credential: .noHeader)
        XCTAssertEqual(reloadWithoutToken.status, .unauthorized)
        let unknown = try await admin(running, "/admin/nothing")
        XCTAssertEqual(unknown.status, .notFound)
        let wrongMethod = try await admin(running, "/admin/config", method: .DELETE)
        XCTAssertEqual(wrongMethod.status, .methodNotAllowed)
        XCTAssertEqual(wrongMethod.header("allow"), "GET, HEAD")
        await stop(running)
    }

    func testAdminDocuments() async throws {
        let running = try await start()
        let health = try await admin(running, "/admin/health")
        XCTAssertEqual(try json(health)["status"] as? String, "ok")

        let ready = try json(try await admin(running, "/admin/ready"))
        XCTAssertEqual(ready["ready"] as? Bool, true)
        XCTAssertEqual(ready["generation"] as? Int, 1)
        XCTAssertEqual((ready["listeners"] as? [String: String])?["public"], "127.0.0.1:\(running.gateway.port)")

        let config = try json(try await admin(running, "/admin/config"))
        XCTAssertEqual(config["generation"] as? Int, 1)
        let routes = (config["config"] as? [String: Any])?["routes"] as? [[String: Any]]
        XCTAssertEqual(routes?.map { $0["name"] as? String }, ["a", "b"])

        // One keep-alive connection to the upstream after a request, visible per endpoint.
        let client = try await TestClient.connect(port: running.gateway.port, group: clientGroup)
        _ = try await client.request(.GET, "/a/x")
        let upstreams = try json(try await admin(running, "/admin/upstreams"))
        let entry = (upstreams["upstreams"] as? [[String: Any]])?.first
        XCTAssertEqual(entry?["name"] as? String, "u")
        let endpoint = (entry?["endpoints"] as? [[String: Any]])?.first
        XCTAssertEqual(endpoint?["address"] as? String, "127.0.0.1:\(running.upstream.port)")
        XCTAssertEqual(endpoint?["connections"] as? Int, 1)
        XCTAssertEqual(endpoint?["active_requests"] as? Int, 0)

        _ = try await client.request(.GET, "/nowhere")
        let stats = try json(try await admin(running, "/admin/stats"))
        XCTAssertEqual(stats["generation"] as? Int, 1)
        let statsRoutes = try XCTUnwrap(stats["routes"] as? [[String: Any]])
        XCTAssertEqual(statsRoutes.map { $0["name"] as? String }, ["a", "b", ""], "config order, then no route")
        XCTAssertEqual(statsRoutes.map { $0["requests"] as? Int }, [1, 0, 1])
        XCTAssertEqual(statsRoutes[0]["status_classes"] as? [Int], [0, 1, 0, 0, 0])
        XCTAssertEqual(statsRoutes[2]["status_classes"] as? [Int], [0, 0, 0, 1, 0])
        XCTAssertEqual((statsRoutes[0]["duration_counts"] as? [Int])?.reduce(0, +), 1)
        XCTAssertEqual(
            (stats["duration_bounds_seconds"] as? [Double])?.count,
            (statsRoutes[0]["duration_counts"] as? [Int]).map { $0.count - 1 }, "one more bucket than bounds (+Inf)")
        XCTAssertEqual((stats["total"] as? [String: Any])?["requests"] as? Int, 2)
        XCTAssertEqual((stats["connections"] as? [String: Any])?["open"] as? Int, 1)
        XCTAssertTrue((stats["reloads"] as? [String: Any])?["last"] is NSNull, "no reload yet")
        await client.close()
        await stop(running)
    }

    func testMetricsCountEveryRequestSent() async throws {
        let running = try await start()
        var clients: [TestClient] = []
        for _ in 0..<3 {
            clients.append(try await TestClient.connect(port: running.gateway.port, group: clientGroup))
        }
        var statuses: [HTTPResponseStatus] = []
        for index in 0..<30 {
            let client = clients[index % 3]
            statuses.append(try await client.request(.GET, "/a/\(index)").status)
            if index % 3 == 0 { statuses.append(try await client.request(.POST, "/b/status/503").status) }
            if index % 5 == 0 { statuses.append(try await client.request(.GET, "/nowhere").status) }
            if index % 6 == 0 { statuses.append(try await client.request(.HEAD, "/a/head").status) }
        }
        XCTAssertEqual(statuses.filter { $0 == .ok }.count, 35)
        XCTAssertEqual(statuses.filter { $0 == .serviceUnavailable }.count, 10)
        XCTAssertEqual(statuses.filter { $0 == .notFound }.count, 6)

        let response = try await admin(running, "/metrics")
        XCTAssertEqual(response.header("content-type"), "text/plain; version=0.0.4; charset=utf-8")
        let metrics = PrometheusSamples(response.bodyText)
        XCTAssertEqual(metrics["gateway_requests_total{route=\"a\",method=\"GET\",status_class=\"2xx\"}"], 30)
        XCTAssertEqual(metrics["gateway_requests_total{route=\"a\",method=\"HEAD\",status_class=\"2xx\"}"], 5)
        XCTAssertEqual(metrics["gateway_requests_total{route=\"b\",method=\"POST\",status_class=\"5xx\"}"], 10)
        XCTAssertEqual(metrics["gateway_requests_total{route=\"\",method=\"GET\",status_class=\"4xx\"}"], 6)
        XCTAssertEqual(metrics.sum("gateway_requests_total"), 51)
        XCTAssertEqual(metrics["gateway_request_duration_seconds_count{route=\"a\"}"], 35)
        XCTAssertEqual(metrics["gateway_request_duration_seconds_bucket{route=\"a\",le=\"+Inf\"}"], 35)
        XCTAssertEqual(metrics["gateway_upstream_responses_total{upstream=\"u\",status_class=\"2xx\"}"], 35)
        XCTAssertEqual(metrics["gateway_upstream_responses_total{upstream=\"u\",status_class=\"5xx\"}"], 10)
        XCTAssertEqual(metrics["gateway_upstream_request_duration_seconds_count{upstream=\"u\"}"], 45)
        XCTAssertEqual(metrics["gateway_downstream_connections_accepted_total"], 3)
        XCTAssertEqual(metrics["gateway_downstream_connections{listener=\"public\"}"], 3)
        // One upstream connection per loop that served a client: clients wait for each answer.
        let pooled = metrics["gateway_upstream_pool_connections{endpoint=\"127.0.0.1:\(running.upstream.port)\"}"] ?? 0
        XCTAssertTrue((1...2).contains(pooled), "\(pooled) pooled connections")
        XCTAssertGreaterThan(metrics["gateway_sent_bytes_total{route=\"a\"}"] ?? 0, 35 * 100)
        XCTAssertGreaterThan(metrics["gateway_received_bytes_total{route=\"b\"}"] ?? 0, 10 * 20)
        XCTAssertEqual(metrics["gateway_config_generation"], 1)
        XCTAssertEqual(metrics["gateway_config_reload_failures_total"], 0)
        for client in clients { await client.close() }
        await stop(running)
    }

    func testUpstreamErrorsAreCountedByKind() async throws {
        let probe = try await TestUpstream()
        let deadPort = probe.port
        await probe.stop()
        let gateway = try await TestGateway.start(
            upstreams: [
                UpstreamConfig(
                    name: "dead",
                    endpoints: [EndpointConfig(address: HostPort(host: "127.0.0.1", port: deadPort), weight: 1)])
            ],
            routes: [prefixRoute("all", "/", upstream: "dead")])
        let client = try await TestClient.connect(port: gateway.port, group: clientGroup)
        for _ in 0..<4 {
            let status1 = try await client.request(.GET, "/x").status
            XCTAssertEqual(status1, .badGateway)
        }
        let metrics = PrometheusSamples(await gateway.server.metricsText())
        XCTAssertEqual(metrics["gateway_upstream_errors_total{upstream=\"dead\",kind=\"connect_failure\"}"], 4)
        XCTAssertEqual(metrics["gateway_requests_total{route=\"all\",method=\"GET\",status_class=\"5xx\"}"], 4)
        await client.close()
        await gateway.stop()
    }

    func testAccessLogHasOneJSONLinePerRequest() async throws {
        let path = NSTemporaryDirectory() + "gateway-access-\(UUID().uuidString).log"
        let running = try await start(accessLog: path)
        var expected: [String: Int] = [:]
        let first = try await TestClient.connect(port: running.gateway.port, group: clientGroup)
        let second = try await TestClient.connect(port: running.gateway.port, group: clientGroup)
        for index in 0..<20 {
            let client = index % 2 == 0 ? first : second
            let uri = index % 4 == 3 ? "/missing/\(index)" : "/a/item?n=\(index)"
            let response = try await client.request(.GET, uri, headers: [("host", "shop.test")])
            expected[try XCTUnwrap(response.header("x-request-id")), default: 0] = Int(response.status.code)
        }
        await running.gateway.server.flushAccessLog()
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 20)
        var seen: [String: Int] = [:]
        for line in lines {
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let id = try XCTUnwrap(object["request_id"] as? String)
            seen[id] = object["status"] as? Int
            XCTAssertEqual(object["host"] as? String, "shop.test")
            XCTAssertEqual(object["client_ip"] as? String, "127.0.0.1")
            XCTAssertEqual(object["method"] as? String, "GET")
            let status = object["status"] as? Int
            if status == 200 {
                XCTAssertEqual(object["route"] as? String, "a")
                XCTAssertEqual(object["upstream"] as? String, "127.0.0.1:\(running.upstream.port)")
                XCTAssertNotNil(object["upstream_duration_ms"] as? Double)
                XCTAssertTrue((object["path"] as? String)?.hasPrefix("/a/item?n=") == true)
            } else {
                XCTAssertEqual(status, 404)
                XCTAssertTrue(object["route"] is NSNull)
                XCTAssertTrue(object["upstream"] is NSNull)
            }
            XCTAssertGreaterThan(object["bytes_sent"] as? Int ?? 0, 0)
            XCTAssertNotNil(object["duration_ms"] as? Double)
        }
        XCTAssertEqual(seen, expected)
        await first.close()
        await second.close()
        await stop(running)
    }

    func testReadinessIsFalseWhileDraining() async throws {
        let running = try await start()
        let client = try await TestClient.connect(port: running.gateway.port, group: clientGroup)
        async let slow = client.request(.GET, "/a/slow/500")
        try await running.upstream.requestsReceived(1).get()
        let shutdown = Task { await running.gateway.server.shutdown(drainTimeout: .seconds(5)) }
        // No event tells the outside that draining began: ask until it says so.
        var ready = try await admin(running, "/admin/ready")
        let deadline = ContinuousClock.now + .seconds(5)
        while ready.status == .ok, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
            ready = try await admin(running, "/admin/ready")
        }
        XCTAssertEqual(ready.status, .serviceUnavailable)
        XCTAssertEqual(try json(ready)["reason"] as? String, "draining")
        let finished = try await slow
        XCTAssertEqual(finished.status, .ok, "the in-flight request was dropped by the drain")
        await shutdown.value
        await running.admin.stop()
        await running.upstream.stop()
    }

    func testReloadThroughTheAdminAPI() async throws {
        let path = NSTemporaryDirectory() + "gateway-admin-reload-\(UUID().uuidString).yaml"
        let running = try await start { server in
            var logger = Logger(label: "reloader")
            logger.logLevel = .critical
            return ConfigReloader(path: path, server: server, logger: logger)
        }
        try """
        listeners:
          - name: public
            address: 127.0.0.1:0
        upstreams:
          u: { endpoints: [{ address: 127.0.0.1:\(running.upstream.port) }] }
        routes:
          - name: only
            match: { path_prefix: /only/ }
            upstream: u
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let applied = try await admin(running, "/admin/reload", method: .POST)
        XCTAssertEqual(applied.status, .ok, applied.bodyText)
        XCTAssertEqual(try json(applied)["generation"] as? Int, 2)
        let client = try await TestClient.connect(port: running.gateway.port, group: clientGroup)
        let status2 = try await client.request(.GET, "/a/x").status
        XCTAssertEqual(status2, .notFound)
        let status3 = try await client.request(.GET, "/only/x").status
        XCTAssertEqual(status3, .ok)

        try "listeners: []\nbogus: true\n".write(toFile: path, atomically: true, encoding: .utf8)
        let rejected = try await admin(running, "/admin/reload", method: .POST)
        XCTAssertEqual(rejected.status.code, 422)
        let body = try json(rejected)
        XCTAssertEqual(body["result"] as? String, "rejected")
        XCTAssertEqual(body["generation"] as? Int, 2)
        XCTAssertEqual(
            body["problems"] as? [String],
            ["\(path):1: 'listeners' must not be empty", "\(path):2: unknown key 'bogus' at the top level"])
        let status4 = try await client.request(.GET, "/only/x").status
        XCTAssertEqual(status4, .ok)

        let metrics = PrometheusSamples(try await admin(running, "/metrics").bodyText)
        XCTAssertEqual(metrics["gateway_config_generation"], 2)
        XCTAssertEqual(metrics["gateway_config_reload_successes_total"], 1)
        XCTAssertEqual(metrics["gateway_config_reload_failures_total"], 1)
        XCTAssertEqual(metrics["gateway_config_last_reload_successful"], 0)
        let config = try json(try await admin(running, "/admin/config"))
        XCTAssertEqual(config["generation"] as? Int, 2)
        let statsAfterReloads = try json(try await admin(running, "/admin/stats"))
        let reloads = try XCTUnwrap(statsAfterReloads["reloads"] as? [String: Any])
        XCTAssertEqual(reloads["applied"] as? Int, 1)
        XCTAssertEqual(reloads["rejected"] as? Int, 1)
        let last = try XCTUnwrap(reloads["last"] as? [String: Any])
        XCTAssertEqual(last["result"] as? String, "rejected")
        XCTAssertEqual(last["generation"] as? Int, 2, "the generation still serving")
        XCTAssertEqual((last["problems"] as? [String])?.count, 2)
        XCTAssertNotNil(
            (last["at"] as? String)?.range(
                of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"#, options: .regularExpression))
        await client.close()
        await stop(running)
    }

    private func json(_ response: TestResponse) throws -> [String: Any] {
        XCTAssertEqual(response.header("content-type"), "application/json")
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(response.bodyText.utf8)) as? [String: Any])
    }
}
