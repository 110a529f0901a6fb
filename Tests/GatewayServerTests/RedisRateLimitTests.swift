import Foundation
import GatewayConfig
import NIOCore
import NIOHTTP1
import NIOPosix
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
        extraPolicies: [RateLimitPolicyConfig] = []
    ) async throws -> TestGateway {
        let policy = RateLimitPolicyConfig(
            name: "shared", algorithm: .fixedWindow, rate: Rate(count: 10, period: .seconds(3600)), key: [.route],
            onRedisError: onRedisError)
        var route = prefixRoute("limited", "/", upstream: "u")
        route.rateLimits = ["shared"] + extraPolicies.map(\.name)
        return try await TestGateway.start(
            GatewayConfiguration(
                node: NodeConfig(id: "n"), runtime: RuntimeConfig(eventLoops: 2, drainTimeout: .seconds(5)),
                listeners: [ListenerConfig(name: "test", address: HostPort(host: "127.0.0.1", port: 0))],
                upstreams: [UpstreamConfig(name: "u", endpoints: [endpoint(upstream)])], routes: [route],
                rateLimits: [policy] + extraPolicies,
                redis: RedisConfig(
                    addresses: [HostPort(host: "127.0.0.1", port: redisPort)], commandTimeout: .milliseconds(200))))
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
        let metrics = await gateway.server.metricsText()
        XCTAssertTrue(metrics.contains(#"gateway_ratelimit_decisions_total{policy="strict",decision="limited"} 1"#))
        XCTAssertTrue(metrics.contains(#"gateway_ratelimit_decisions_total{policy="shared",decision="allowed"} 4"#))
        await client.close()
        await gateway.stop()
        await upstream.stop()
    }
}
