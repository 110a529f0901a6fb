import Foundation
import GatewayConfig
import XCTest

@testable import GatewayServer

final class ConfigDocumentTests: XCTestCase {
    func testCredentialHeadersAreRedactedAndTheRestShown() throws {
        let headers = HeaderRules(
            request: HeaderOperations(
                set: [
                    HeaderField(name: "Authorization", value: "Bearer upstream-key"),
                    HeaderField(name: "X-Api-Key", value: "k-123"),
                    HeaderField(name: "X-Gateway", value: "edge-1"),
                ],
                add: [HeaderField(name: "Cookie", value: "session=abc")], remove: ["X-Debug"]),
            response: HeaderOperations(set: [HeaderField(name: "X-Upstream-Token", value: "t")], add: [], remove: []))
        let configuration = GatewayConfiguration(
            node: NodeConfig(id: "edge-1", region: "eu"),
            listeners: [ListenerConfig(name: "public", address: HostPort(host: "127.0.0.1", port: 8080))],
            upstreams: [
                UpstreamConfig(
                    name: "users",
                    endpoints: [EndpointConfig(address: HostPort(host: "10.0.0.1", port: 80), weight: 2)],
                    balance: .consistentHash(.header("x-user")))
            ],
            routes: [
                RouteConfig(
                    name: "r", match: RouteMatchConfig(path: .prefix("/v1/")), upstream: "users",
                    rewrite: .stripPrefix("/v1"), headers: headers, requestTimeout: .milliseconds(1500))
            ],
            admin: AdminConfig(tokenEnvironmentVariable: "ADMIN_TOKEN"))
        let document = ConfigDocument.render(configuration)
        let text = document.rendered
        for secret in ["upstream-key", "k-123", "session=abc"] {
            XCTAssertFalse(text.contains(secret), "\(secret) leaked:\n\(text)")
        }
        XCTAssertTrue(text.contains("edge-1"))
        XCTAssertTrue(text.contains("\"token_env\": \"ADMIN_TOKEN\""), text)

        guard case .array(let routes)? = document["routes"], let route = routes.first else {
            return XCTFail("no routes in \(text)")
        }
        let request = route["headers"]?["request"]
        XCTAssertEqual(request?["set"]?["Authorization"], .string("[redacted]"))
        XCTAssertEqual(request?["set"]?["X-Api-Key"], .string("[redacted]"))
        XCTAssertEqual(request?["set"]?["X-Gateway"], .string("edge-1"))
        XCTAssertEqual(request?["add"]?["Cookie"], .string("[redacted]"))
        XCTAssertEqual(route["headers"]?["response"]?["set"]?["X-Upstream-Token"], .string("[redacted]"))
        XCTAssertEqual(route["timeouts"]?["request"], .string("1500ms"))
        XCTAssertEqual(route["rewrite"]?["strip_prefix"], .string("/v1"))
        XCTAssertEqual(document["upstreams"]?["users"]?["balance"], .string("consistent_hash"))
        XCTAssertEqual(document["upstreams"]?["users"]?["hash_on"]?["header"], .string("x-user"))
        XCTAssertEqual(
            document["listeners"].flatMap { if case .array(let l) = $0 { l.first } else { nil } }?["timeouts"]?["idle"],
            .string("60s"))
    }

    func testResilienceSectionsAreShownWithTheirDefaults() {
        var route = RouteConfig(name: "r", match: RouteMatchConfig(), upstream: "users")
        route.limits = ConcurrencyLimits(maxConcurrent: 7)
        let configuration = GatewayConfiguration(
            node: NodeConfig(id: "edge-1"),
            listeners: [ListenerConfig(name: "public", address: HostPort(host: "127.0.0.1", port: 8080))],
            upstreams: [
                UpstreamConfig(
                    name: "users", endpoints: [EndpointConfig(address: HostPort(host: "10.0.0.1", port: 80))],
                    healthCheck: HealthCheckConfig(path: "/ready", expect: [200, 204]),
                    circuitBreaker: CircuitBreakerConfig(errorRatio: nil),
                    outlier: OutlierConfig(), limits: ConcurrencyLimits(maxConcurrent: 100, maxPending: 10))
            ],
            routes: [route])
        let document = ConfigDocument.render(configuration)
        let users = document["upstreams"]?["users"]
        XCTAssertEqual(users?["health_check"]?["path"], .string("/ready"))
        XCTAssertEqual(users?["health_check"]?["expect"], .array([.int(200), .int(204)]))
        XCTAssertEqual(users?["circuit_breaker"]?["error_ratio"], .string("off"))
        XCTAssertEqual(users?["circuit_breaker"]?["open_for"], .string("30s"))
        XCTAssertEqual(
            users?["circuit_breaker"]?["on"],
            .array([.string("connect_failure"), .string("timeout"), .string("reset"), .int(502), .int(503), .int(504)]))
        XCTAssertEqual(users?["outlier"]?["consecutive_5xx"], .int(5))
        XCTAssertEqual(users?["retries"]?["attempts"], .int(1), "the implicit connect-failure retry is shown")
        XCTAssertEqual(users?["retries"]?["on"], .array([.string("connect_failure")]))
        XCTAssertEqual(users?["limits"]?["max_pending"], .int(10))
        guard case .array(let routes)? = document["routes"], let shown = routes.first else {
            return XCTFail("no routes")
        }
        XCTAssertEqual(shown["limits"]?["max_concurrent"], .int(7))
    }

    func testRenderedJSONIsValid() throws {
        let value = JSONValue.object([
            ("a", .array([.int(1), .null, .bool(true)])), ("b", .string("q\"\n")), ("c", .object([])),
            ("d", .array([])),
        ])
        let parsed = try JSONSerialization.jsonObject(with: Data(value.rendered.utf8)) as? [String: Any]
        XCTAssertEqual(parsed?["b"] as? String, "q\"\n")
        XCTAssertEqual((parsed?["a"] as? [Any])?.count, 3)
    }
}
