import XCTest

@testable import Resilience

/// Every transition of the breaker with an injected clock (nanoseconds).
final class CircuitBreakerTests: XCTestCase {
    let second: Int64 = 1_000_000_000

    func settings(
        consecutive: Int = 3, ratio: Double? = nil, minRequests: Int = 10, openFor: Int64 = 30, halfOpen: Int = 2
    ) -> CircuitBreaker.Settings {
        .init(
            consecutiveFailures: consecutive, errorRatio: ratio, minRequests: minRequests,
            windowNanoseconds: 10 * second, openForNanoseconds: openFor * second, maxOpenForNanoseconds: 100 * second,
            halfOpenRequests: halfOpen)
    }

    func testConsecutiveFailuresOpenItAndASuccessResetsTheCount() {
        var breaker = CircuitBreaker(settings: settings())
        XCTAssertNil(breaker.record(success: false, now: 0))
        XCTAssertNil(breaker.record(success: false, now: 1))
        XCTAssertNil(breaker.record(success: true, now: 2), "a success in between resets the run")
        XCTAssertNil(breaker.record(success: false, now: 3))
        XCTAssertNil(breaker.record(success: false, now: 4))
        XCTAssertEqual(breaker.record(success: false, now: 5), .opened(trips: 1))
        XCTAssertEqual(breaker.state, .open(until: 5 + 30 * second, trips: 1))
        XCTAssertFalse(breaker.allowRequest(now: 6).allowed)
        XCTAssertFalse(breaker.isAvailable(now: 29 * second))
    }

    func testErrorRatioNeedsTheMinimumNumberOfRequests() {
        var breaker = CircuitBreaker(settings: settings(consecutive: 100, ratio: 0.5, minRequests: 10))
        // 4 failures, 4 successes: 50 % but only 8 requests.
        for index in 0..<8 { _ = breaker.record(success: index % 2 == 0, now: Int64(index)) }
        XCTAssertEqual(breaker.state, .closed)
        XCTAssertNil(breaker.record(success: true, now: 8))
        XCTAssertEqual(breaker.record(success: false, now: 9), .opened(trips: 1), "5 of 10 failed")
    }

    func testTheWindowForgetsOldOutcomes() {
        var breaker = CircuitBreaker(settings: settings(consecutive: 100, ratio: 0.5, minRequests: 4))
        for index in 0..<3 { _ = breaker.record(success: false, now: Int64(index)) }
        // Eleven seconds later those failures are out of the 10 s window.
        XCTAssertNil(breaker.record(success: true, now: 11 * second))
        XCTAssertNil(breaker.record(success: true, now: 11 * second + 1))
        XCTAssertNil(breaker.record(success: true, now: 11 * second + 2))
        XCTAssertNil(breaker.record(success: false, now: 11 * second + 3), "1 of 4 in the window")
        XCTAssertEqual(breaker.state, .closed)
    }

    func testHalfOpenProbesCloseItOrReopenItWithALongerCoolDown() {
        var breaker = CircuitBreaker(settings: settings(consecutive: 1, halfOpen: 2))
        XCTAssertEqual(breaker.record(success: false, now: 0), .opened(trips: 1))
        XCTAssertFalse(breaker.allowRequest(now: 30 * second - 1).allowed)
        let first = breaker.allowRequest(now: 30 * second)
        XCTAssertEqual(first.allowed, true)
        XCTAssertEqual(first.transition, .halfOpened)
        XCTAssertTrue(breaker.allowRequest(now: 30 * second).allowed, "second probe")
        XCTAssertFalse(breaker.allowRequest(now: 30 * second).allowed, "only two probes")
        XCTAssertNil(breaker.record(success: true, now: 31 * second))
        XCTAssertEqual(breaker.record(success: false, now: 31 * second), .opened(trips: 2))
        XCTAssertEqual(breaker.state, .open(until: 31 * second + 60 * second, trips: 2), "the cool-down doubled")

        XCTAssertTrue(breaker.allowRequest(now: 91 * second).allowed)
        XCTAssertEqual(breaker.record(success: false, now: 91 * second), .opened(trips: 3))
        XCTAssertEqual(breaker.state, .open(until: 91 * second + 100 * second, trips: 3), "capped at the maximum")

        XCTAssertTrue(breaker.allowRequest(now: 191 * second).allowed)
        XCTAssertTrue(breaker.allowRequest(now: 191 * second).allowed)
        XCTAssertNil(breaker.record(success: true, now: 192 * second))
        XCTAssertEqual(breaker.record(success: true, now: 192 * second), .closed)
        XCTAssertEqual(breaker.state, .closed)
        // Closed again: the next trip starts from the base cool-down.
        XCTAssertEqual(breaker.record(success: false, now: 200 * second), .opened(trips: 1))
        XCTAssertEqual(breaker.state, .open(until: 230 * second, trips: 1))
    }

    func testAnAbandonedProbeGivesItsSlotBack() {
        var breaker = CircuitBreaker(settings: settings(consecutive: 1, halfOpen: 1))
        XCTAssertEqual(breaker.record(success: false, now: 0), .opened(trips: 1))
        XCTAssertTrue(breaker.allowRequest(now: 30 * second).allowed)
        XCTAssertFalse(breaker.isAvailable(now: 30 * second), "the one probe is out")
        breaker.abandon()
        XCTAssertTrue(breaker.isAvailable(now: 30 * second), "the client left: someone else may probe")
        XCTAssertTrue(breaker.allowRequest(now: 30 * second).allowed)
        XCTAssertEqual(breaker.record(success: true, now: 31 * second), .closed)
        breaker.abandon()
        XCTAssertEqual(breaker.state, .closed, "abandoning while closed changes nothing")
    }

    func testACarriedOverBreakerDoesNotWaitForTheOldOwnersProbes() {
        var breaker = CircuitBreaker(settings: settings(consecutive: 1, halfOpen: 2))
        XCTAssertEqual(breaker.record(success: false, now: 0), .opened(trips: 1))
        XCTAssertTrue(breaker.allowRequest(now: 30 * second).allowed)
        XCTAssertNil(breaker.record(success: true, now: 30 * second))
        XCTAssertTrue(breaker.allowRequest(now: 30 * second).allowed, "a probe out, reporting to this owner")
        var taken = breaker.carriedOver()
        XCTAssertEqual(taken.state, .halfOpen(inFlight: 0, successes: 1, trips: 1))
        XCTAssertTrue(taken.allowRequest(now: 31 * second).allowed, "the new owner probes itself")
        XCTAssertEqual(taken.record(success: true, now: 31 * second), .closed)
        XCTAssertEqual(CircuitBreaker(settings: settings()).carriedOver().state, .closed)
    }

    func testAHugeCoolDownSaturatesInsteadOfWrapping() {
        let huge = CircuitBreaker.Settings(
            consecutiveFailures: 1, errorRatio: nil, openForNanoseconds: .max / 2, maxOpenForNanoseconds: .max,
            halfOpenRequests: 1)
        var breaker = CircuitBreaker(settings: huge)
        _ = breaker.record(success: false, now: 0)
        XCTAssertTrue(breaker.allowRequest(now: .max / 2).allowed)
        XCTAssertEqual(breaker.record(success: false, now: Int64.max / 2), .opened(trips: 2))
        XCTAssertFalse(breaker.isAvailable(now: Int64.max - 1), "still open: neither doubling nor adding wrapped")
    }

    func testOutcomesOfAttemptsAdmittedBeforeATripChangeNothing() {
        var breaker = CircuitBreaker(settings: settings(consecutive: 1))
        XCTAssertEqual(breaker.record(success: false, now: 0), .opened(trips: 1))
        XCTAssertNil(breaker.record(success: true, now: 1))
        XCTAssertNil(breaker.record(success: false, now: 2))
        XCTAssertEqual(breaker.state, .open(until: 30 * second, trips: 1))
    }
}

final class RetryBudgetAndBackoffTests: XCTestCase {
    func testRetriesAreAShareOfRequestsWithAFloor() {
        var budget = RetryBudget(percent: 20, minimumRetries: 2, windowNanoseconds: 10_000_000_000)
        XCTAssertTrue(budget.withdraw(now: 0))
        XCTAssertTrue(budget.withdraw(now: 0))
        XCTAssertFalse(budget.withdraw(now: 0), "the floor is 2 while there are few requests")
        for _ in 0..<20 { budget.recordRequest(now: 1) }
        XCTAssertTrue(budget.withdraw(now: 1))
        XCTAssertTrue(budget.withdraw(now: 1))
        XCTAssertFalse(budget.withdraw(now: 1), "20 % of 20 requests is 4 retries, 4 spent")
        // The window moves on: old requests and retries no longer count.
        XCTAssertTrue(budget.withdraw(now: 20_000_000_000))
    }

    func testFullJitterBackoffDoublesUpToTheCap() {
        let backoff = Backoff(baseNanoseconds: 25_000_000, capNanoseconds: 1_000_000_000)
        XCTAssertEqual(backoff.delay(attempt: 0, random: 1), 25_000_000)
        XCTAssertEqual(backoff.delay(attempt: 1, random: 1), 50_000_000)
        XCTAssertEqual(backoff.delay(attempt: 3, random: 0.5), 100_000_000)
        XCTAssertEqual(backoff.delay(attempt: 10, random: 1), 1_000_000_000, "capped")
        XCTAssertEqual(backoff.delay(attempt: 99, random: 1), 1_000_000_000, "no overflow")
        XCTAssertEqual(backoff.delay(attempt: 2, random: 0), 0, "full jitter reaches zero")
    }
}
