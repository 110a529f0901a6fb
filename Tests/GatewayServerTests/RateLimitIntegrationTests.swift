import Foundation
import GatewayConfig
import NIOCore
import NIOHTTP1
import NIOPosix
import XCTest

@testable import GatewayServer

/// The embedded limiter (no Redis) in front of a real upstream.
final class RateLimitIntegrationTests: XCTestCase {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    override func tearDown() async throws {
        try await group.shutdownGracefully()
    }

    private func start(_ policies: [RateLimitPolicyConfig], trusted: [CIDR] = []) async throws -> (
        TestGateway, TestUpstream
    ) {
        let upstream = try await TestUpstream()
        var route = prefixRoute("limited", "/", upstream: "u")
        route.rateLimits = policies.map(\.name)
        let configuration = GatewayConfiguration(
            node: NodeConfig(id: "n"), runtime: RuntimeConfig(eventLoops: 2, drainTimeout: .seconds(5)),
            listeners: [ListenerConfig(name: "test", address: HostPort(host: "127.0.0.1", port: 0))],
            upstreams: [UpstreamConfig(name: "u", endpoints: [endpoint(upstream)])], routes: [route],
            trustedProxies: trusted, rateLimits: policies)
        return (try await TestGateway.start(configuration), upstream)
    }

    func testRequestsOverTheLimitGet429WithRetryAfter() async throws {
        // 5 per minute: nothing refills during the test.
        let (gateway, upstream) = try await start([
            RateLimitPolicyConfig(name: "per-ip", rate: Rate(count: 5, period: .seconds(60)))
        ])
        let client = try await TestClient.connect(port: gateway.port, group: group)
        for expected in (0..<5).reversed() {
            let response = try await client.request(.GET, "/a")
            XCTAssertEqual(response.status, .ok)
            XCTAssertEqual(response.header("ratelimit-limit"), "5")
            XCTAssertEqual(response.header("ratelimit-remaining"), String(expected))
        }
        let refused = try await client.request(.GET, "/a")
        XCTAssertEqual(refused.status, .tooManyRequests)
        XCTAssertEqual(refused.header("ratelimit-remaining"), "0")
        let retryAfter = try XCTUnwrap(Int(refused.header("retry-after") ?? ""))
        XCTAssertTrue((1...12).contains(retryAfter), "one token per 12 s: \(retryAfter)")
        let body = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(refused.bodyText.utf8)) as? [String: Any])
        XCTAssertEqual(body["error"] as? String, "rate_limited")
        XCTAssertEqual(upstream.requests, 5, "a refused request never reaches the upstream")
        // Another connection from the same address shares the limit.
        let other = try await TestClient.connect(port: gateway.port, group: group)
        let status1 = try await other.request(.GET, "/b").status

        XCTAssertEqual(status1, .tooManyRequests)
        let metrics = await gateway.server.metricsText()
        XCTAssertTrue(metrics.contains(#"gateway_ratelimit_decisions_total{policy="per-ip",decision="allowed"} 5"#))
        XCTAssertTrue(metrics.contains(#"gateway_ratelimit_decisions_total{policy="per-ip",decision="limited"} 2"#))
        await client.close()
        await other.close()
        await gateway.stop()
        await upstream.stop()
    }

    func testKeysSeparateHeadersAndTheTightestPolicyIsReported() async throws {
        let (gateway, upstream) = try await start([
            RateLimitPolicyConfig(
                name: "per-tenant", algorithm: .fixedWindow, rate: Rate(count: 2, period: .seconds(3600)),
                key: [.header("x-tenant")]),
            RateLimitPolicyConfig(
                name: "global", algorithm: .gcra, rate: Rate(count: 100, period: .seconds(3600)), key: [.route]),
        ])
        let client = try await TestClient.connect(port: gateway.port, group: group)
        func get(_ tenant: String) async throws -> TestResponse {
            try await client.request(.GET, "/", headers: [("host", "t"), ("x-tenant", tenant)])
        }
        let first = try await get("acme")
        XCTAssertEqual(first.header("ratelimit-limit"), "2", "the policy with the fewest remaining is reported")
        XCTAssertEqual(first.header("ratelimit-remaining"), "1")
        let status2 = try await get("acme").status

        XCTAssertEqual(status2, .ok)
        let status3 = try await get("acme").status

        XCTAssertEqual(status3, .tooManyRequests)
        let status4 = try await get("globex").status

        XCTAssertEqual(status4, .ok, "another tenant has its own window")
        await client.close()
        await gateway.stop()
        await upstream.stop()
    }

    func testTheClientBehindATrustedProxyIsTheKey() async throws {
        let trusted = try XCTUnwrap(UnitParser.parseCIDR("127.0.0.0/8"))
        let (gateway, upstream) = try await start(
            [RateLimitPolicyConfig(name: "per-ip", rate: Rate(count: 1, period: .seconds(3600)))], trusted: [trusted])
        let client = try await TestClient.connect(port: gateway.port, group: group)
        func get(_ forwarded: String) async throws -> HTTPResponseStatus {
            try await client.request(.GET, "/", headers: [("host", "t"), ("x-forwarded-for", forwarded)]).status
        }
        let status5 = try await get("203.0.113.7")

        XCTAssertEqual(status5, .ok)
        let status6 = try await get("203.0.113.7")

        XCTAssertEqual(status6, .tooManyRequests)
        let status7 = try await get("198.51.100.1")

        XCTAssertEqual(status7, .ok, "a different client behind the same proxy")
        // A client-supplied entry left of the real one does not change the key.
        let status8 = try await get("10.9.9.9, 198.51.100.1")

        XCTAssertEqual(status8, .tooManyRequests)
        await client.close()
        await gateway.stop()
        await upstream.stop()
    }

    func testTheAdminAPIShowsPoliciesAndAKeysCountWithoutCountingIt() async throws {
        let (gateway, upstream) = try await start([
            RateLimitPolicyConfig(
                name: "per-ip", algorithm: .fixedWindow, rate: Rate(count: 5, period: .seconds(3600)))
        ])
        let client = try await TestClient.connect(port: gateway.port, group: group)
        for _ in 0..<6 { _ = try await client.request(.GET, "/a") }
        let api = AdminAPI(server: gateway.server, reloader: nil, token: nil)
        func get(_ query: String) async throws -> (Int, [String: Any]) {
            let response = await api.handle(
                .init(method: "GET", path: "/admin/ratelimits", authorization: nil, query: query))
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any])
            return (response.status, object)
        }
        let (status, overview) = try await get("")
        XCTAssertEqual(status, 200)
        XCTAssertEqual((overview["backend"] as? [String: Any])?["kind"] as? String, "local")
        let policy = try XCTUnwrap((overview["policies"] as? [[String: Any]])?.first)
        XCTAssertEqual(policy["name"] as? String, "per-ip")
        XCTAssertEqual(policy["algorithm"] as? String, "fixed_window")
        XCTAssertEqual(policy["routes"] as? [String], ["limited"])
        let decisions = try XCTUnwrap(policy["decisions"] as? [String: Any])
        XCTAssertEqual(decisions["allowed"] as? Int, 5)
        XCTAssertEqual(decisions["limited"] as? Int, 1)

        for _ in 0..<2 {
            let (keyStatus, state) = try await get("policy=per-ip&key=127.0.0.1")
            XCTAssertEqual(keyStatus, 200)
            XCTAssertEqual(state["source"] as? String, "local")
            XCTAssertEqual(state["used"] as? Int, 5, "asking does not count")
            XCTAssertEqual(state["remaining"] as? Int, 0)
        }
        let (_, unseen) = try await get("policy=per-ip&key=192.0.2.1")
        XCTAssertEqual(unseen["seen"] as? Bool, false)
        let (unknownStatus, _) = try await get("policy=nope&key=1")
        XCTAssertEqual(unknownStatus, 404)
        let (missingPolicy, _) = try await get("key=1")
        XCTAssertEqual(missingPolicy, 400)
        let (badEncoding, _) = try await get("policy=per-ip&key=%zz")
        XCTAssertEqual(badEncoding, 400)
        await client.close()
        await gateway.stop()
        await upstream.stop()
    }
}
