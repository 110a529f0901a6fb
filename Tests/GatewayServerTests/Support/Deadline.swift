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
