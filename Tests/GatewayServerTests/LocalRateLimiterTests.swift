import GatewayConfig
import XCTest

@testable import GatewayServer

final class LocalRateLimiterTests: XCTestCase {
    func testKeysAreIndependentAndIdleOnesAreSwept() {
        let limiter = LocalRateLimiter()
        let policy = CompiledRateLimit(
            RateLimitPolicyConfig(name: "p", algorithm: .fixedWindow, rate: Rate(count: 2, period: .seconds(1))))
        let now: Int64 = 1_000_000
        XCTAssertTrue(limiter.take(policy, key: "a", now: now).allowed)
        XCTAssertTrue(limiter.take(policy, key: "a", now: now).allowed)
        XCTAssertFalse(limiter.take(policy, key: "a", now: now).allowed)
        XCTAssertTrue(limiter.take(policy, key: "b", now: now).allowed)
        XCTAssertEqual(limiter.sweep(now: now + 500), 2)
        // Two periods later both states equal fresh ones: dropping them changes no decision.
        XCTAssertEqual(limiter.sweep(now: now + 2001), 0)
        XCTAssertEqual(limiter.take(policy, key: "a", now: now + 2001).remaining, 1)
    }

    func testAChangedLimitStartsFresh() {
        let limiter = LocalRateLimiter()
        let strict = CompiledRateLimit(RateLimitPolicyConfig(name: "p", rate: Rate(count: 1, period: .seconds(60))))
        let loose = CompiledRateLimit(RateLimitPolicyConfig(name: "p", rate: Rate(count: 10, period: .seconds(60))))
        XCTAssertTrue(limiter.take(strict, key: "k", now: 0).allowed)
        XCTAssertFalse(limiter.take(strict, key: "k", now: 0).allowed)
        XCTAssertEqual(limiter.take(loose, key: "k", now: 0).remaining, 9, "a reload that changes the rate")
    }
}
