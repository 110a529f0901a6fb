import XCTest

@testable import GatewayConfig

/// `rate_limits` policies and a route's `rate_limits`, the keys issue 5 brought in.
final class RateLimitConfigTests: XCTestCase {
    func testPoliciesAndRoutesAreRead() throws {
        let config = try XCTUnwrap(
            parseValid(
                minimalListeners + minimalUpstream + """

                    rate_limits:
                      per-ip:
                        algorithm: sliding_window
                        rate: 6000/min
                        key: [client_ip]
                      per-tenant:
                        algorithm: fixed_window
                        rate: 100/s
                        key: [route, header:X-Tenant]
                        mode: approximate
                        sync_every: 50ms
                        on_redis_error: fail_closed
                        cost: 2
                    routes:
                      - name: api
                        upstream: app
                        rate_limits: [per-tenant, per-ip]
                    """))
        XCTAssertEqual(
            config.rateLimits.first { $0.name == "per-ip" },
            RateLimitPolicyConfig(
                name: "per-ip", algorithm: .slidingWindow, rate: Rate(count: 6000, period: .seconds(60)),
                key: [.clientIP]))
        XCTAssertEqual(
            config.rateLimits.first { $0.name == "per-tenant" },
            RateLimitPolicyConfig(
                name: "per-tenant", algorithm: .fixedWindow, rate: Rate(count: 100, period: .seconds(1)),
                key: [.route, .header("x-tenant")], mode: .approximate, syncEvery: .milliseconds(50),
                onRedisError: .failClosed, cost: 2))
        XCTAssertEqual(config.routes.first?.rateLimits, ["per-tenant", "per-ip"])
    }

    func testProblems() {
        XCTAssertEqual(
            problems(
                minimalListeners + minimalUpstream + """

                    rate_limits:
                      a:
                        rate: 10/fortnight
                      b:
                        algorithm: fixed_window
                        rate: 10/s
                        burst: 5
                        key: [user, "header:", ip]
                      c:
                        algorithm: leaky
                        rate: 1/s
                      e:
                        algorithm: gcra
                        rate: 10/s
                        mode: approximate
                      f:
                        algorithm: sliding_window
                        rate: 10/s
                        mode: approximate
                        sync_every: 1s
                    routes:
                      - name: api
                        upstream: app
                        rate_limits: [b, d]
                    """),
            [
                "gw.yaml:8: expected a rate like 100/s or 6000/min, got '10/fortnight'",
                "gw.yaml:12: 'burst' applies to token_bucket and gcra, not fixed_window in rate limit 'b'",
                "gw.yaml:13: expected client_ip, user, api_key, route or header:NAME in the key of rate limit 'b', got 'header:'",
                "gw.yaml:13: expected client_ip, user, api_key, route or header:NAME in the key of rate limit 'b', got 'ip'",
                "gw.yaml:15: expected one of token_bucket, gcra, sliding_window, fixed_window, got 'leaky'",
                "gw.yaml:20: mode: approximate counts windows: use fixed_window or sliding_window in rate limit 'e' (gcra needs mode: exact)",
                "gw.yaml:25: 'sync_every' must be at least 10ms and shorter than the rate's period in rate limit 'f'",
                "gw.yaml:29: route 'api' applies 'b', which counts by user or api_key: the route needs auth",
                "gw.yaml:29: route 'api' names unknown rate limit 'd'",
            ])
    }
}

extension RateLimitConfigTests {
    func testRedisSection() throws {
        let config = try XCTUnwrap(
            parseValid(
                minimalListeners + """

                    redis:
                      mode: standalone
                      addresses: [127.0.0.1:6379]
                      password_env: REDIS_PASSWORD
                      timeouts: { connect: 250ms, command: 20ms }
                    """))
        XCTAssertEqual(
            config.redis,
            RedisConfig(
                addresses: [HostPort(host: "127.0.0.1", port: 6379)], passwordEnvironmentVariable: "REDIS_PASSWORD",
                connectTimeout: .milliseconds(250), commandTimeout: .milliseconds(20)))
        XCTAssertEqual(
            problems(
                minimalListeners + """

                    redis:
                      mode: cluster
                      addresses: [127.0.0.1:7000, "nope", 127.0.0.1:7001]
                      password_env: "not a name"
                      database: 2
                      expected_nodes: 0
                    """),
            [
                "gw.yaml:6: expected host:port like 127.0.0.1:6379, got 'nope'",
                "gw.yaml:7: 'password_env' must name an environment variable (letters, digits, _), got 'not a name'",
                "gw.yaml:8: a redis cluster has database 0 only; remove 'database' or use mode: standalone",
                "gw.yaml:9: 'expected_nodes' must be between 1 and 10000, got 0",
            ])
        XCTAssertEqual(
            problems(
                minimalListeners + """

                    redis:
                      addresses: [127.0.0.1:7000, 127.0.0.1:7001]
                    """),
            ["gw.yaml:5: several redis addresses need mode: cluster (they are its seed nodes)"])
        let cluster = try XCTUnwrap(
            parseValid(
                minimalListeners + """

                    redis:
                      mode: cluster
                      addresses: [127.0.0.1:7000, 127.0.0.1:7001]
                      username: gateway
                      expected_nodes: 3
                    """))
        XCTAssertEqual(
            cluster.redis,
            RedisConfig(
                mode: .cluster,
                addresses: [HostPort(host: "127.0.0.1", port: 7000), HostPort(host: "127.0.0.1", port: 7001)],
                username: "gateway", expectedNodes: 3))
    }
}
