import TestSupport
import XCTest

@testable import RateLimiting

/// Each algorithm's state machine with an injected clock (milliseconds).
final class AlgorithmTests: XCTestCase {
    let tenPerSecond = RateLimit(amount: 10, periodMilliseconds: 1000)

    func testTokenBucketBurstThenRefill() {
        var bucket = TokenBucket(limit: RateLimit(amount: 10, periodMilliseconds: 1000, burst: 20), now: 0)
        for index in 0..<20 {
            let decision = bucket.take(now: 0)
            XCTAssertTrue(decision.allowed, "burst request \(index)")
            XCTAssertEqual(decision.remaining, 19 - index)
        }
        let refused = bucket.take(now: 0)
        XCTAssertFalse(refused.allowed)
        XCTAssertEqual(refused.retryAfterMilliseconds, 100, "one token per 100 ms")
        XCTAssertEqual(refused.resetMilliseconds, 2000, "empty to full at 10/s for 20 tokens")
        XCTAssertFalse(bucket.take(now: 99).allowed)
        XCTAssertTrue(bucket.take(now: 100).allowed)
        // After a long quiet period the bucket is full again, never more.
        XCTAssertEqual(bucket.take(now: 60_000).remaining, 19)
        XCTAssertEqual(bucket.take(cost: 19, now: 60_000).remaining, 0)
        XCTAssertFalse(bucket.take(now: 60_000).allowed)
    }

    func testTokenBucketCostAndClockGoingBackwards() {
        var bucket = TokenBucket(limit: tenPerSecond, now: 1000)
        XCTAssertTrue(bucket.take(cost: 7, now: 1000).allowed)
        let tooMuch = bucket.take(cost: 5, now: 1000)
        XCTAssertFalse(tooMuch.allowed)
        XCTAssertEqual(tooMuch.retryAfterMilliseconds, 200)
        XCTAssertEqual(tooMuch.remaining, 3, "a refused request takes nothing")
        // An earlier timestamp (another node's clock) refills nothing and breaks nothing.
        XCTAssertEqual(bucket.take(now: 500).remaining, 2)
    }

    func testGCRAMatchesTheTokenBucket() {
        let limit = RateLimit(amount: 10, periodMilliseconds: 1000, burst: 5)
        var gcra = GCRA(limit: limit)
        var bucket = TokenBucket(limit: limit, now: 0)
        var generator = SplitMix64(seed: 11)
        var now: Int64 = 0
        for _ in 0..<5000 {
            now += Int64(generator.next() % 150)
            let cost = Int(generator.next() % 3) + 1
            let a = gcra.take(cost: cost, now: now)
            let b = bucket.take(cost: cost, now: now)
            XCTAssertEqual(a.allowed, b.allowed, "at \(now) cost \(cost)")
            XCTAssertEqual(a.remaining, b.remaining, "at \(now)")
            XCTAssertEqual(a.retryAfterMilliseconds, b.retryAfterMilliseconds, "at \(now)")
        }
    }

    func testGCRABurstAndSpacing() {
        var gcra = GCRA(limit: RateLimit(amount: 1, periodMilliseconds: 100, burst: 3))
        XCTAssertTrue(gcra.take(now: 1000).allowed)
        XCTAssertTrue(gcra.take(now: 1000).allowed)
        let last = gcra.take(now: 1000)
        XCTAssertTrue(last.allowed)
        XCTAssertEqual(last.remaining, 0)
        let refused = gcra.take(now: 1000)
        XCTAssertFalse(refused.allowed)
        XCTAssertEqual(refused.retryAfterMilliseconds, 100)
        XCTAssertEqual(refused.resetMilliseconds, 300)
        XCTAssertTrue(gcra.take(now: 1100).allowed)
        XCTAssertFalse(gcra.take(now: 1150).allowed)
    }

    func testFixedWindowBoundaries() {
        var fresh = FixedWindow(limit: tenPerSecond)
        for index in 0..<10 {
            XCTAssertTrue(fresh.take(now: 5500).allowed, "\(index)")
        }
        let refused = fresh.take(now: 5700)
        XCTAssertFalse(refused.allowed)
        XCTAssertEqual(refused.retryAfterMilliseconds, 300)
        XCTAssertEqual(refused.remaining, 0)
        // The next aligned window starts at 6000: all ten again (the boundary burst fixed
        // windows are known for).
        for _ in 0..<10 { XCTAssertTrue(fresh.take(now: 6000).allowed) }
        XCTAssertFalse(fresh.take(now: 6999).allowed)
        XCTAssertEqual(fresh.take(now: 7000).remaining, 9)
    }

    func testSlidingWindowWeighsThePreviousWindow() {
        var window = SlidingWindow(limit: tenPerSecond)
        for _ in 0..<10 { XCTAssertTrue(window.take(now: 1000).allowed) }
        XCTAssertFalse(window.take(now: 1999).allowed)
        // At 2500 the previous window (10) still counts half: 5 + 0 used, 5 more allowed.
        for index in 0..<5 {
            XCTAssertTrue(window.take(now: 2500).allowed, "\(index)")
        }
        let refused = window.take(now: 2500)
        XCTAssertFalse(refused.allowed)
        XCTAssertEqual(refused.remaining, 0)
        XCTAssertGreaterThan(refused.retryAfterMilliseconds, 0)
        // Waiting exactly the advertised time lets it through; a millisecond less does not.
        var early = window
        XCTAssertFalse(early.take(now: 2500 + refused.retryAfterMilliseconds - 1).allowed)
        XCTAssertTrue(window.take(now: 2500 + refused.retryAfterMilliseconds).allowed)
        // Two windows on, the old counts are gone.
        XCTAssertEqual(window.take(now: 4000).remaining, 9)
    }

    func testRetryAfterIsExactForEveryAlgorithm() {
        let limit = RateLimit(amount: 7, periodMilliseconds: 1000, burst: 3)
        var generator = SplitMix64(seed: 5)
        for _ in 0..<200 {
            var bucket = TokenBucket(limit: limit, now: 0)
            var gcra = GCRA(limit: limit)
            var fixed = FixedWindow(limit: limit)
            var sliding = SlidingWindow(limit: limit)
            var now: Int64 = Int64(generator.next() % 10_000)
            for _ in 0..<30 {
                now += Int64(generator.next() % 120)
                for take in [
                    { (n: Int64) in bucket.take(now: n) }, { (n: Int64) in gcra.take(now: n) },
                    { (n: Int64) in fixed.take(now: n) }, { (n: Int64) in sliding.take(now: n) },
                ] {
                    let decision = take(now)
                    XCTAssertGreaterThanOrEqual(decision.remaining, 0)
                    XCTAssertLessThanOrEqual(decision.remaining, max(limit.amount, limit.burst))
                    if !decision.allowed { XCTAssertGreaterThan(decision.retryAfterMilliseconds, 0) }
                }
            }
        }
    }

    func testLimitsThatWouldLoseExactnessInADoubleAreRejected() {
        XCTAssertTrue(RateLimit(amount: 100, periodMilliseconds: 1000).isRepresentable)
        XCTAssertTrue(RateLimit(amount: 10_000, periodMilliseconds: 86_400_000).isRepresentable)
        XCTAssertFalse(RateLimit(amount: Int(1) << 40, periodMilliseconds: 86_400_000).isRepresentable)
        XCTAssertFalse(RateLimit(amount: 0, periodMilliseconds: 1000).isRepresentable)
    }
}
