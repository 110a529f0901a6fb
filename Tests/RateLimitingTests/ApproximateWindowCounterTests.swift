import TestSupport
import XCTest

@testable import RateLimiting

/// Approximate mode's per-key counter with an injected clock, and a fleet of them syncing with
/// an in-test model of the Redis script (the script itself runs on a real server in RedisTests).
final class ApproximateWindowCounterTests: XCTestCase {
    let tenPerSecond = RateLimit(amount: 10, periodMilliseconds: 1000)

    func testAloneItDecidesLikeTheWindowStateMachines() {
        var random = SplitMix64(seed: 7)
        for algorithm in [ApproximateWindowCounter.Algorithm.fixedWindow, .slidingWindow] {
            var counter = ApproximateWindowCounter(limit: tenPerSecond, algorithm: algorithm)
            var fixed = FixedWindow(limit: tenPerSecond)
            var sliding = SlidingWindow(limit: tenPerSecond)
            var now: Int64 = 5_000
            for step in 0..<2000 {
                now += Int64(random.next() % 160)
                let cost = Int(random.next() % 3) + 1
                let expected =
                    algorithm == .fixedWindow ? fixed.take(cost: cost, now: now) : sliding.take(cost: cost, now: now)
                XCTAssertEqual(counter.take(cost: cost, now: now), expected, "\(algorithm) step \(step) at \(now)")
            }
        }
    }

    func testASyncSendsUnsentCountsAndAdoptsTheFleetTotals() throws {
        var counter = ApproximateWindowCounter(limit: tenPerSecond, algorithm: .fixedWindow)
        for _ in 0..<3 { XCTAssertTrue(counter.take(now: 1_100).allowed) }
        let sent = try XCTUnwrap(counter.beginSync())
        XCTAssertEqual(sent, [.init(windowStart: 1_000, count: 3)])
        XCTAssertNil(counter.beginSync(), "one sync at a time")
        // While the sync is out, its counts still count, and new ones wait for the next sync.
        XCTAssertEqual(counter.take(now: 1_200).remaining, 6)
        // Redis: the fleet has 8 in this window (our 3 included).
        counter.finishSync(redisNow: 1_250, current: 8, previous: 0)
        XCTAssertEqual(counter.take(now: 1_300).remaining, 0, "8 from Redis + 1 unsent + this one")
        XCTAssertFalse(counter.take(now: 1_300).allowed)
        XCTAssertEqual(counter.beginSync(), [.init(windowStart: 1_000, count: 2)])
        // The next window starts empty; the sliding variant would weigh the previous one.
        counter.finishSync(redisNow: 1_400, current: 12, previous: 0)
        XCTAssertEqual(counter.take(now: 2_000).remaining, 9)
    }

    func testAFailedSyncKeepsCountsThatNeverLeftAndDropsOnesThatMayHaveArrived() throws {
        var counter = ApproximateWindowCounter(limit: tenPerSecond, algorithm: .fixedWindow)
        _ = counter.take(cost: 4, now: 100)
        _ = try XCTUnwrap(counter.beginSync())
        counter.failSync(sent: false)
        XCTAssertEqual(counter.beginSync(), [.init(windowStart: 0, count: 4)], "never sent: sent again")
        counter.failSync(sent: true)
        XCTAssertEqual(counter.beginSync(), [], "maybe applied: not sent twice")
        counter.failSync(sent: true)
        XCTAssertFalse(counter.isIdle(now: 100))
        XCTAssertTrue(counter.isIdle(now: 2_101), "two quiet periods and nothing to send")
    }

    func testSlidingWindowUsesThePreviousWindowFromRedis() {
        var counter = ApproximateWindowCounter(limit: tenPerSecond, algorithm: .slidingWindow)
        counter.finishSync(redisNow: 1_100, current: 0, previous: 10)
        // At 1 100 ms, 90 % of the previous window (10) still counts: 9 used, 1 left.
        XCTAssertTrue(counter.take(now: 1_100).allowed)
        XCTAssertFalse(counter.take(now: 1_100).allowed)
    }

    /// Three nodes, one limit of 600 per minute, requests spread evenly at 100/s over the fleet,
    /// sync every 100 ms with a 1 ms round trip: the fleet admits the limit plus at most what the
    /// other nodes admit between two syncs.
    func testAFleetOvershootsByAtMostOneSyncIntervalOfTheOtherNodesTraffic() {
        let limit = RateLimit(amount: 600, periodMilliseconds: 60_000)
        for algorithm in [ApproximateWindowCounter.Algorithm.fixedWindow, .slidingWindow] {
            var nodes = Array(repeating: ApproximateWindowCounter(limit: limit, algorithm: algorithm), count: 3)
            var redis: [Int64: Int] = [:]
            var admitted = 0
            var now: Int64 = 0
            var nextSync: Int64 = 100
            while now < 59_000 {
                for index in nodes.indices {
                    if nodes[index].take(now: now + Int64(index)).allowed { admitted += 1 }
                }
                now += 30
                if now >= nextSync {
                    nextSync += 100
                    for index in nodes.indices {
                        for window in nodes[index].beginSync() ?? [] {
                            redis[window.windowStart, default: 0] += window.count
                        }
                        let start = now - now % limit.periodMilliseconds
                        nodes[index].finishSync(
                            redisNow: now + 1, current: redis[start] ?? 0,
                            previous: redis[start - limit.periodMilliseconds] ?? 0)
                    }
                }
            }
            // 100 requests/s over the fleet: the other two nodes admit about 6-7 per 100 ms.
            XCTAssertGreaterThanOrEqual(admitted, 600, "\(algorithm)")
            XCTAssertLessThanOrEqual(admitted, 600 + 2 * 4, "\(algorithm)")
        }
    }
}
