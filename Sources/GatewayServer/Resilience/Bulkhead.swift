import Atomics

/// A count with a limit across all event loops: an upstream's or route's `max_concurrent` or
/// `max_pending` (a bulkhead, so one slow upstream cannot take every request slot of the gateway)
/// and a listener's `max_connections`. Only built for limits that are configured, so unlimited
/// routes pay nothing; a limited one pays two relaxed atomic adds per request, not a lock.
final class Bulkhead: Sendable {
    let name: String
    private let inFlight = ManagedAtomic(0)
    private let limitValue: ManagedAtomic<Int>
    private let rejectedCount = ManagedAtomic(0)

    init(name: String, limit: Int) {
        self.name = name
        self.limitValue = ManagedAtomic(limit)
    }

    /// A reload may change it; requests over a lowered limit finish.
    var limit: Int {
        get { limitValue.load(ordering: .relaxed) }
        set { limitValue.store(newValue, ordering: .relaxed) }
    }

    var current: Int { inFlight.load(ordering: .relaxed) }
    var rejected: Int { rejectedCount.load(ordering: .relaxed) }

    func tryAcquire() -> Bool {
        if inFlight.wrappingIncrementThenLoad(ordering: .relaxed) > limit {
            inFlight.wrappingDecrement(ordering: .relaxed)
            rejectedCount.wrappingIncrement(ordering: .relaxed)
            return false
        }
        return true
    }

    func release() {
        inFlight.wrappingDecrement(ordering: .relaxed)
    }
}
