import XCTest

@testable import Resilience

final class HealthAndOutlierTests: XCTestCase {
    func testHealthFlipsOnlyAfterTheThresholdInARow() {
        var health = HealthState(healthyThreshold: 2, unhealthyThreshold: 3)
        XCTAssertTrue(health.isHealthy)
        XCTAssertNil(health.record(passed: false))
        XCTAssertNil(health.record(passed: false))
        XCTAssertNil(health.record(passed: true), "a pass resets the failing run")
        XCTAssertNil(health.record(passed: false))
        XCTAssertNil(health.record(passed: false))
        XCTAssertEqual(health.record(passed: false), false)
        XCTAssertFalse(health.isHealthy)
        XCTAssertNil(health.record(passed: true))
        XCTAssertNil(health.record(passed: false), "a failure resets the passing run")
        XCTAssertNil(health.record(passed: true))
        XCTAssertEqual(health.record(passed: true), true)
    }

    func testOutliersAreEjectedForGrowingTimesButNeverTooMany() {
        let second: Int64 = 1_000_000_000
        var detector = OutlierDetector(
            endpoints: 4,
            settings: .init(
                consecutiveFailures: 2, ejectForNanoseconds: 10 * second, maxEjectForNanoseconds: 25 * second,
                maxEjectedPercent: 50))
        XCTAssertFalse(detector.record(0, failure: true, now: 0))
        XCTAssertFalse(detector.record(0, failure: false, now: 1), "a success resets the run")
        XCTAssertFalse(detector.record(0, failure: true, now: 2))
        XCTAssertTrue(detector.record(0, failure: true, now: 3))
        XCTAssertTrue(detector.isEjected(0, now: 3 + 10 * second - 1))
        XCTAssertFalse(detector.isEjected(0, now: 3 + 10 * second))

        XCTAssertFalse(detector.record(1, failure: true, now: 4))
        XCTAssertTrue(detector.record(1, failure: true, now: 5))
        // Two of four are out: 50 %; the third is not ejected, however it fails.
        for time in 6..<16 { XCTAssertFalse(detector.record(2, failure: true, now: Int64(time))) }
        XCTAssertEqual(detector.ejectedCount(now: 20), 2)

        // Endpoint 0 comes back and fails again: ejected for twice as long, then capped.
        let back = 3 + 10 * second
        XCTAssertFalse(detector.record(0, failure: true, now: back))
        XCTAssertTrue(detector.record(0, failure: true, now: back + 1))
        XCTAssertTrue(detector.isEjected(0, now: back + 1 + 20 * second - 1))
        XCTAssertFalse(detector.isEjected(0, now: back + 1 + 20 * second))
        let later = back + 1 + 20 * second
        _ = detector.record(0, failure: true, now: later)
        XCTAssertTrue(detector.record(0, failure: true, now: later + 1))
        XCTAssertFalse(detector.isEjected(0, now: later + 1 + 25 * second), "capped at 25 s")

        var single = OutlierDetector(endpoints: 1, settings: .init(consecutiveFailures: 1, maxEjectedPercent: 100))
        XCTAssertFalse(single.record(0, failure: true, now: 0), "the only endpoint is never ejected")
    }
}
