import XCTest

@testable import GatewayConfig

/// `health_check`, `circuit_breaker`, `outlier`, `retries` and `limits` as the reference writes
/// them, their defaults, and their mistakes.
final class ResilienceConfigTests: XCTestCase {
    func testReferenceSectionsLandInTheModel() throws {
        let config = try XCTUnwrap(
            parseValid(
                minimalListeners + """

                    upstreams:
                      users:
                        endpoints: [{ address: 127.0.0.1:9001 }, { address: 127.0.0.1:9002 }]
                        health_check: { path: /health, interval: 5s, timeout: 1s, healthy: 2, unhealthy: 3, expect: [200] }
                        circuit_breaker: { consecutive_failures: 5, error_ratio: 0.5, min_requests: 20, window: 10s, open_for: 30s, half_open_requests: 3 }
                        outlier: { consecutive_5xx: 5, eject_for: 30s, max_ejected_percent: 50 }
                        retries: { attempts: 2, on: [connect_failure, reset, 502, 503], backoff: 25ms, budget_percent: 20 }
                        limits: { max_concurrent: 1000, max_pending: 200 }
                    routes:
                      - name: a
                        upstream: users
                        limits: { max_concurrent: 50 }
                    """))
        let upstream = try XCTUnwrap(config.upstreams.first)
        XCTAssertEqual(
            upstream.healthCheck,
            HealthCheckConfig(
                path: "/health", interval: .seconds(5), timeout: .seconds(1), healthy: 2, unhealthy: 3, expect: [200]))
        XCTAssertEqual(
            upstream.circuitBreaker,
            CircuitBreakerConfig(
                consecutiveFailures: 5, errorRatio: 0.5, minRequests: 20, window: .seconds(10), openFor: .seconds(30),
                maxOpenFor: .seconds(300), halfOpenRequests: 3))
        XCTAssertEqual(
            upstream.outlier, OutlierConfig(consecutive5xx: 5, ejectFor: .seconds(30), maxEjectedPercent: 50))
        XCTAssertEqual(
            upstream.retries,
            RetryConfig(
                attempts: 2, on: FailureConditions(connectFailure: true, reset: true, statuses: [502, 503]),
                backoff: .milliseconds(25), budgetPercent: 20))
        XCTAssertEqual(upstream.retries.maxBackoff, .milliseconds(250), "ten times the base unless given")
        XCTAssertEqual(upstream.limits, ConcurrencyLimits(maxConcurrent: 1000, maxPending: 200))
        XCTAssertEqual(config.routes.first?.limits, ConcurrencyLimits(maxConcurrent: 50))
    }

    func testAbsentSectionsMeanOffExceptTheImplicitConnectRetry() throws {
        let config = try XCTUnwrap(
            parseValid(
                minimalListeners + """

                    upstreams:
                      users:
                        endpoints: [{ address: 127.0.0.1:9001 }]
                        circuit_breaker: { error_ratio: off, on: [5xx, 429, timeout] }
                        retries: { attempts: 0 }
                      plain:
                        endpoints: [{ address: 127.0.0.1:9002 }]
                    """))
        let users = try XCTUnwrap(config.upstreams.first { $0.name == "users" })
        let plain = try XCTUnwrap(config.upstreams.first { $0.name == "plain" })
        XCTAssertNil(users.circuitBreaker?.errorRatio)
        XCTAssertEqual(users.circuitBreaker?.on, FailureConditions(timeout: true, serverErrors: true, statuses: [429]))
        XCTAssertEqual(users.circuitBreaker?.on.matches(status: 500), true)
        XCTAssertEqual(users.circuitBreaker?.on.matches(status: 404), false)
        XCTAssertEqual(users.retries.attempts, 0)
        XCTAssertNil(plain.circuitBreaker)
        XCTAssertNil(plain.healthCheck)
        XCTAssertNil(plain.outlier)
        XCTAssertEqual(plain.retries, .implicit)
        XCTAssertEqual(plain.retries.attempts, 1)
        XCTAssertEqual(plain.retries.on, FailureConditions(connectFailure: true))
        XCTAssertTrue(plain.limits.isEmpty)
    }

    func testMistakesAreReportedWithTheirLines() {
        XCTAssertEqual(
            problems(
                minimalListeners + """

                    upstreams:
                      users:
                        endpoints: [{ address: 127.0.0.1:9001 }]
                        health_check: { interval: 1s, timeout: 2s, expect: [200, 700] }
                        circuit_breaker: { error_ratio: 1.5, open_for: 1m, max_open_for: 10s }
                        outlier: { max_ejected_percent: 150 }
                        retries: { on: [connect_failure, resett, 5xx], backoff: 1s, max_backoff: 10ms }
                        limits: { max_concurrent: 0, max_waiting: 3 }
                    routes:
                      - name: a
                        upstream: users
                        limits: { max_pending: 3 }
                    """),
            [
                "gw.yaml:7: health_check timeout must not exceed its interval in upstream 'users'",
                "gw.yaml:7: expected a status code 100-599, got '700'",
                "gw.yaml:8: 'error_ratio' must be a number greater than 0 and at most 1, got '1.5'",
                "gw.yaml:8: max_open_for must be at least open_for in upstream 'users'",
                "gw.yaml:9: 'max_ejected_percent' must be between 0 and 100, got 150",
                "gw.yaml:10: expected one of connect_failure, timeout, reset, 5xx or a status 100-599, got 'resett'; did you mean 'reset'?",
                "gw.yaml:10: max_backoff must be at least backoff in upstream 'users'",
                "gw.yaml:11: 'max_concurrent' must be between 1 and 10000000, got 0",
                "gw.yaml:11: unknown key 'max_waiting' in limits of upstream 'users'",
                "gw.yaml:15: unknown key 'max_pending' in limits of route 'a'",
            ])
    }
}
