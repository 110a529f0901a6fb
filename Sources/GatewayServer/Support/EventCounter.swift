import NIOConcurrencyHelpers
import NIOCore

/// A count of things that happened, with futures for "at least N happened": something tests
/// (and the admin API) can wait on instead of polling.
final class EventCounter: Sendable {
    private let state = NIOLockedValueBox((count: 0, waiters: [(count: Int, promise: EventLoopPromise<Void>)]()))

    var count: Int { state.withLockedValue { $0.count } }

    func increment() {
        let ready = state.withLockedValue { state -> [EventLoopPromise<Void>] in
            state.count += 1
            let count = state.count
            let ready = state.waiters.filter { $0.count <= count }.map(\.promise)
            state.waiters.removeAll { $0.count <= count }
            return ready
        }
        for promise in ready { promise.succeed() }
    }

    func reached(_ count: Int, on eventLoop: EventLoop) -> EventLoopFuture<Void> {
        let promise = eventLoop.makePromise(of: Void.self)
        let reached = state.withLockedValue { state -> Bool in
            if state.count >= count { return true }
            state.waiters.append((count, promise))
            return false
        }
        if reached { promise.succeed() }
        return promise.futureResult
    }
}
