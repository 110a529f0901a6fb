import TestSupport
import XCTest

@testable import GatewayServer

/// The Space-Saving summary behind "top objects", and histogram quantiles, without a server.
final class HeavyHittersTests: XCTestCase {
    func testHeavyObjectsAreFoundAmongManyMoreObjectsThanCounters() {
        var summary = HeavyHitters(capacity: 16)
        var truth: [String: Int] = [:]
        var generator = SplitMix64(seed: 42)
        // 3 heavy objects (30 %, 20 %, 10 % of requests) among 5,000 rare ones.
        for index in 0..<20_000 {
            let roll = Int.random(in: 0..<100, using: &generator)
            let object = roll < 30 ? "a" : roll < 50 ? "b" : roll < 60 ? "c" : "rare-\(index % 5_000)"
            truth[object, default: 0] += 1
            summary.add(object, bytes: 10)
        }
        XCTAssertEqual(summary.counters.count, 16)
        XCTAssertEqual(summary.top(3).map(\.object), ["a", "b", "c"])
        for item in summary.top(3) {
            let actual = truth[item.object] ?? 0
            XCTAssertGreaterThanOrEqual(item.counter.count, actual, "never below the truth")
            XCTAssertLessThanOrEqual(item.counter.count - item.counter.error, actual, "error bounds the overcount")
        }
    }

    func testSummariesMergeByAddingCounts() {
        var first = HeavyHitters(capacity: 4)
        var second = HeavyHitters(capacity: 4)
        for _ in 0..<5 { first.add("x", bytes: 100) }
        for _ in 0..<3 { second.add("x", bytes: 100) }
        for _ in 0..<7 { second.add("y", bytes: 1) }
        first.merge(second)
        XCTAssertEqual(first.top(2).map(\.object), ["x", "y"])
        XCTAssertEqual(first.top(1).first?.counter.count, 8)
        XCTAssertEqual(first.top(1).first?.counter.bytes, 800)
    }

    func testMergingFullSummariesNeverCountsBelowTheTruth() {
        // Truth: x 6, y 3, z 4. Each side saw only part of it and is full (2 counters).
        var first = HeavyHitters(capacity: 2)
        for object in ["x", "x", "x", "x", "x", "y", "y", "y"] { first.add(object, bytes: 1) }
        var second = HeavyHitters(capacity: 2)
        for object in ["z", "z", "z", "z", "x"] { second.add(object, bytes: 1) }
        first.merge(second)
        let truth = ["x": 6, "y": 3, "z": 4]
        XCTAssertEqual(first.counters.count, 2)
        for (object, counter) in first.counters {
            let actual = truth[object] ?? 0
            XCTAssertGreaterThanOrEqual(counter.count, actual, object)
            XCTAssertLessThanOrEqual(counter.count - counter.error, actual, object)
        }
        XCTAssertEqual(Set(first.counters.keys), ["x", "z"])
    }

    func testHistogramQuantilesAreBucketBounds() {
        var histogram = DurationHistogram()
        for _ in 0..<90 { histogram.record(nanoseconds: 300_000) }  // 0.3 ms
        for _ in 0..<10 { histogram.record(nanoseconds: 40_000_000) }  // 40 ms
        XCTAssertEqual(histogram.upperBound(ofQuantile: 0.5), 0.0005)
        XCTAssertEqual(histogram.upperBound(ofQuantile: 0.99), 0.05)
        XCTAssertNil(DurationHistogram().upperBound(ofQuantile: 0.5))
    }
}
