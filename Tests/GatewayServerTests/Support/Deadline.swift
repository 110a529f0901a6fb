import NIOCore

struct TestTimeout: Error, CustomStringConvertible {
    let what: String
    var description: String { "timed out waiting for \(what)" }
}

/// Every wait in these tests is bounded, so a gateway bug shows up as a named failure instead of
/// a hung test run.
func bounded<T: Sendable>(
    _ future: EventLoopFuture<T>, _ what: String, timeout: TimeAmount = .seconds(30)
) -> EventLoopFuture<T> {
    let promise = future.eventLoop.makePromise(of: T.self)
    future.cascade(to: promise)
    let timer = future.eventLoop.scheduleTask(in: timeout) {
        promise.fail(TestTimeout(what: what))
    }
    future.whenComplete { _ in timer.cancel() }
    return promise.futureResult
}

/// Polls until `predicate` holds, for state that changes on the gateway's own clock (cool-downs,
/// check intervals) and so has no event to await from outside; fails after `timeout`.
func waitUntil(
    _ what: String, timeout: Duration = .seconds(20), _ predicate: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !predicate() {
        guard ContinuousClock.now < deadline else { throw TestTimeout(what: what) }
        try await Task.sleep(for: .milliseconds(20))
    }
}
