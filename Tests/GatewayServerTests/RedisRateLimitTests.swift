import Foundation
import GatewayConfig
import NIOCore
import NIOHTTP1
import NIOPosix
import Redis
import TestSupport
import XCTest

@testable import GatewayServer

/// Exact-mode limits through a real redis-server shared by two gateways.
final class RedisRateLimitTests: XCTestCase {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    override func tearDown() async throws {
        try await group.shutdownGracefully()
    }

    private func gateway(
        redisPort: Int, upstream: TestUpstream, onRedisError: RateLimitPolicyConfig.OnRedisError = .failOpen,
        extraPolicies: [RateLimitPolicyConfig] = [], mode: RateLimitPolicyConfig.Mode = .exact, count: Int = 10,
        expectedNodes: Int = 1
    ) async throws -> TestGateway {
        let policy = RateLimitPolicyConfig(
            name: "shared", algorithm: .fixedWindow, rate: Rate(count: count, period: .seconds(3600)), key: [.route],
            mode: mode, syncEvery: .milliseconds(20), onRedisError: onRedisError)
        var route = prefixRoute("limited", "/", upstream: "u")
        route.rateLimits = ["shared"] + extraPolicies.map(\.name)
        return try await TestGateway.start(
            GatewayConfiguration(
                node: NodeConfig(id: "n"), runtime: RuntimeConfig(eventLoops: 2, drainTimeout: .seconds(5)),
                listeners: [ListenerConfig(name: "test", address: HostPort(host: "127.0.0.1", port: 0))],
                upstreams: [UpstreamConfig(name: "u", endpoints: [endpoint(upstream)])], routes: [route],
                rateLimits: [policy] + extraPolicies,
                redis: RedisConfig(
                    addresses: [HostPort(host: "127.0.0.1", port: redisPort)], commandTimeout: .milliseconds(200),
                    expectedNodes: expectedNodes)))
    }

    func testTwoGatewaysShareOneLimit() async throws {
        let redis = try RedisServerProcess()
        try await redis.start()
        defer { redis.stop() }
        let upstream = try await TestUpstream()
        let first = try await gateway(redisPort: redis.port, upstream: upstream)
        let second = try await gateway(redisPort: redis.port, upstream: upstream)
        let clients = [
            try await TestClient.connect(port: first.port, group: group),
            try await TestClient.connect(port: second.port, group: group),
        ]
        var allowed = 0
        var limited = 0
        for index in 0..<30 {
            let response = try await clients[index % 2].request(.GET, "/x")
            switch response.status {
            case .ok: allowed += 1
            case .tooManyRequests:
                limited += 1
                XCTAssertNotNil(response.header("retry-after"))
            default: XCTFail("unexpected \(response.status)")
            }
        }
        XCTAssertEqual(allowed, 10, "one limit across both gateways")
        XCTAssertEqual(limited, 20)
        XCTAssertEqual(upstream.requests, 10)
        for client in clients { await client.close() }
        await first.stop()
        await second.stop()
        await upstream.stop()
    }

    func testRedisDownAppliesTheFailurePolicyAndExactLimitingResumes() async throws {
        let redis = try RedisServerProcess()
        try await redis.start()
        let upstream = try await TestUpstream()
        let open = try await gateway(redisPort: redis.port, upstream: upstream, onRedisError: .failOpen)
        let closed = try await gateway(redisPort: redis.port, upstream: upstream, onRedisError: .failClosed)
        let openClient = try await TestClient.connect(port: open.port, group: group)
        let closedClient = try await TestClient.connect(port: closed.port, group: group)
        let beforeOutage = try await openClient.request(.GET, "/")
        XCTAssertEqual(beforeOutage.header("ratelimit-remaining"), "9")

        redis.kill()
        // Nothing hangs: fail_open decides locally, fail_closed answers 503.
        let duringOutageOpen = try await openClient.request(.GET, "/")
        XCTAssertEqual(duringOutageOpen.status, .ok)
        let duringOutageClosed = try await closedClient.request(.GET, "/")
        XCTAssertEqual(duringOutageClosed.status, .serviceUnavailable)
        XCTAssertTrue(duringOutageClosed.bodyText.contains("rate_limiter_unavailable"))
        let metrics = await open.server.metricsText()
        XCTAssertTrue(metrics.contains(#"gateway_ratelimit_redis_errors_total{policy="shared"}"#), metrics)

        // Back: the counts restart empty (no persistence), scripts are loaded again.
        try await redis.start()
        var resumed: TestResponse?
        for _ in 0..<40 {
            let response = try await openClient.request(.GET, "/")
            if response.header("ratelimit-remaining") == "9" {
                resumed = response
                break
            }
            // The client reconnects with backoff (at most 5 s); each request before that is
            // decided locally and tells it to try.
            try await Task.sleep(for: .milliseconds(100))
        }
        XCTAssertNotNil(resumed, "exact limiting through redis resumed")
        redis.stop()
        await openClient.close()
        await closedClient.close()
        await open.stop()
        await closed.stop()
        await upstream.stop()
    }

    func testEveryPolicyOfARouteIsAskedAndTheTightestDecides() async throws {
        let redis = try RedisServerProcess()
        try await redis.start()
        defer { redis.stop() }
        let upstream = try await TestUpstream()
        let strict = RateLimitPolicyConfig(
            name: "strict", algorithm: .gcra, rate: Rate(count: 3, period: .seconds(3600)), key: [.clientIP])
        let gateway = try await gateway(redisPort: redis.port, upstream: upstream, extraPolicies: [strict])
        let client = try await TestClient.connect(port: gateway.port, group: group)
        for remaining in ["2", "1", "0"] {
            let response = try await client.request(.GET, "/")
            XCTAssertEqual(response.status, .ok)
            XCTAssertEqual(response.header("ratelimit-limit"), "3", "the strict policy has fewer left")
            XCTAssertEqual(response.header("ratelimit-remaining"), remaining)
        }
        let refused = try await client.request(.GET, "/")
        XCTAssertEqual(refused.status, .tooManyRequests)
        // The admin API asks Redis (a call of no cost): the strict key is used up.
        let api = AdminAPI(server: gateway.server, reloader: nil, token: nil)
        for _ in 0..<2 {
            let state = try await adminJSON(api, "policy=strict&key=127.0.0.1")
            XCTAssertEqual(state["source"] as? String, "redis")
            XCTAssertEqual(state["remaining"] as? Int, 0)
            XCTAssertEqual(state["used"] as? Int, 3)
        }
        let metrics = await gateway.server.metricsText()
        XCTAssertTrue(metrics.contains(#"gateway_ratelimit_decisions_total{policy="strict",decision="limited"} 1"#))
        XCTAssertTrue(metrics.contains(#"gateway_ratelimit_decisions_total{policy="shared",decision="allowed"} 4"#))
        await client.close()
        await gateway.stop()
        await upstream.stop()
    }

    func testFailOpenHoldsEachNodeToItsShareWhileRedisIsAway() async throws {
        let redis = try RedisServerProcess()
        try await redis.start()
        let upstream = try await TestUpstream()
        let gateway = try await gateway(redisPort: redis.port, upstream: upstream, expectedNodes: 3)
        let client = try await TestClient.connect(port: gateway.port, group: group)
        let first = try await client.request(.GET, "/")
        XCTAssertEqual(first.header("ratelimit-remaining"), "9")
        redis.kill()
        // 10 per hour shared by 3 expected nodes: this node admits 3 on its own.
        var statuses: [HTTPResponseStatus] = []
        for _ in 0..<5 { statuses.append(try await client.request(.GET, "/").status) }
        XCTAssertEqual(statuses, [.ok, .ok, .ok, .tooManyRequests, .tooManyRequests])
        await client.close()
        await gateway.stop()
        await upstream.stop()
    }

    /// Approximate mode: each gateway decides at once from its counters and syncs them through
    /// Redis every 20 ms, so a gateway that has synced knows what the other one admitted.
    func testApproximateModeSharesCountsThroughRedis() async throws {
        let redis = try RedisServerProcess()
        try await redis.start()
        defer { redis.stop() }
        let upstream = try await TestUpstream()
        let first = try await gateway(redisPort: redis.port, upstream: upstream, mode: .approximate, count: 20)
        let second = try await gateway(redisPort: redis.port, upstream: upstream, mode: .approximate, count: 20)
        let firstClient = try await TestClient.connect(port: first.port, group: group)
        let secondClient = try await TestClient.connect(port: second.port, group: group)
        let probe = try await RedisConnection.connect(to: try redis.address, on: group.next()).get()
        func fleetCount() async throws -> Int {
            let values = try await probe.send(["HVALS", "rla:{shared|limited}"]).get().array ?? []
            return values.compactMap { $0.string.flatMap { Int($0) } }.reduce(0, +)
        }
        /// Redis has no event for "a sync arrived"; ask it until the count shows (bounded).
        func awaitFleetCount(_ expected: Int) async throws {
            let deadline = ContinuousClock.now + .seconds(5)
            while try await fleetCount() < expected {
                guard ContinuousClock.now < deadline else { return XCTFail("redis never counted \(expected)") }
                try await Task.sleep(for: .milliseconds(5))
            }
        }

        for _ in 0..<10 {
            let response = try await firstClient.request(.GET, "/")
            XCTAssertEqual(response.status, .ok)
            XCTAssertEqual(response.header("ratelimit-limit"), "20")
        }
        try await awaitFleetCount(10)
        // The second gateway's first request is decided before it has heard of the key...
        let unaware = try await secondClient.request(.GET, "/")
        XCTAssertEqual(unaware.status, .ok)
        try await awaitFleetCount(11)
        // ...then its syncs bring it the first gateway's 10 (the admin API shows its view): 9
        // more fit in the 20.
        let api = AdminAPI(server: second.server, reloader: nil, token: nil)
        let deadline = ContinuousClock.now + .seconds(5)
        while true {
            let view = try await adminJSON(api, "policy=shared&key=limited")
            if view["used"] as? Int == 11 { break }
            guard ContinuousClock.now < deadline else { return XCTFail("never synced: \(view)") }
            try await Task.sleep(for: .milliseconds(5))
        }
        var remainingSeen: [String] = []
        for _ in 0..<9 {
            let response = try await secondClient.request(.GET, "/")
            XCTAssertEqual(response.status, .ok)
            remainingSeen.append(response.header("ratelimit-remaining") ?? "-")
        }
        XCTAssertEqual(remainingSeen.last, "0")
        let refused = try await secondClient.request(.GET, "/")
        XCTAssertEqual(refused.status, .tooManyRequests)
        XCTAssertNotNil(refused.header("retry-after"))
        try await awaitFleetCount(20)
        let overview = try await adminJSON(AdminAPI(server: first.server, reloader: nil, token: nil), "")
        XCTAssertEqual((overview["backend"] as? [String: Any])?["connected"] as? Bool, true, "\(overview)")
        let finalCount = try await fleetCount()
        XCTAssertEqual(finalCount, 20, "refused requests are not counted")
        let metrics = await second.server.metricsText()
        XCTAssertTrue(metrics.contains("gateway_redis_command_duration_seconds_count"), metrics)
        probe.close()
        await firstClient.close()
        await secondClient.close()
        await first.stop()
        await second.stop()
        await upstream.stop()
    }
}

/// An admin API answer as JSON.
func adminJSON(_ api: AdminAPI, _ query: String) async throws -> [String: Any] {
    let response = await api.handle(.init(method: "GET", path: "/admin/ratelimits", authorization: nil, query: query))
    return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any])
}
