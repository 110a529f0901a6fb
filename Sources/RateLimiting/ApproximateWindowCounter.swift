/// One key of a window policy in approximate mode: decisions are made here, without waiting for
/// Redis, from the fleet's totals as Redis last reported them plus what this node admitted since.
/// Every `sync_every` the node sends its unsent counts and gets the new totals back. Between
/// syncs a node does not see the other nodes' traffic, which is the accuracy it trades for speed:
/// the fleet can overshoot a limit by about what the other nodes admit in one sync interval.
///
/// Decisions go through the window algorithm's own state machine, rebuilt from the estimated
/// counts, so the semantics are those of `FixedWindow` / `SlidingWindow`. Times are milliseconds
/// on Redis's clock (the caller corrects its own clock by the offset the syncs measure).
public struct ApproximateWindowCounter: Sendable, Equatable {
    public enum Algorithm: Sendable, Equatable {
        case fixedWindow, slidingWindow
    }

    /// A window's count this node holds, by window start.
    public struct WindowCount: Sendable, Equatable {
        public var windowStart: Int64
        public var count: Int

        public init(windowStart: Int64, count: Int) {
            self.windowStart = windowStart
            self.count = count
        }
    }

    public let limit: RateLimit
    public let algorithm: Algorithm
    /// The totals of the last sync: the window Redis was in, its count and the one before.
    public private(set) var reportedStart: Int64 = .min
    public private(set) var reportedCurrent = 0
    public private(set) var reportedPrevious = 0
    /// Admitted here and not yet sent.
    public private(set) var unsent: [WindowCount] = []
    /// Sent, reply not yet in (counted as if Redis had it, so nothing is admitted twice).
    public private(set) var inFlight: [WindowCount] = []
    /// When this node last decided for the key, for sweeping and for deciding whether to sync.
    public private(set) var lastTake: Int64 = 0

    public init(limit: RateLimit, algorithm: Algorithm) {
        self.limit = limit
        self.algorithm = algorithm
    }

    /// A sync is out (possibly with nothing to add: it still brings the others' counts).
    public private(set) var isSyncing = false

    public mutating func take(cost: Int = 1, now: Int64) -> RateLimitDecision {
        let period = limit.periodMilliseconds
        let start = now - ((now % period) + period) % period
        let current = estimatedCount(windowStart: start)
        let previous = estimatedCount(windowStart: start - period)
        let decision: RateLimitDecision
        switch algorithm {
        case .fixedWindow:
            var machine = FixedWindow(limit: limit, windowStart: start, count: current)
            decision = machine.take(cost: cost, now: now)
        case .slidingWindow:
            var machine = SlidingWindow(limit: limit, windowStart: start, current: current, previous: previous)
            decision = machine.take(cost: cost, now: now)
        }
        if decision.allowed && cost > 0 { add(cost, windowStart: start) }
        lastTake = max(lastTake, now)
        return decision
    }

    /// The counts to send now (moved to in flight); empty when there is nothing new. Nil while
    /// the previous sync is still out.
    public mutating func beginSync() -> [WindowCount]? {
        guard !isSyncing else { return nil }
        isSyncing = true
        inFlight = unsent
        unsent = []
        return inFlight
    }

    /// Redis's answer: its clock, and the totals of its current and previous window, which
    /// include what was in flight.
    public mutating func finishSync(redisNow: Int64, current: Int, previous: Int) {
        let period = limit.periodMilliseconds
        reportedStart = redisNow - ((redisNow % period) + period) % period
        reportedCurrent = current
        reportedPrevious = previous
        inFlight = []
        isSyncing = false
    }

    /// The sync got no answer. Counts that never left are kept for the next sync; counts that
    /// may have reached Redis are dropped rather than risk adding them twice.
    public mutating func failSync(sent: Bool) {
        if !sent {
            for window in inFlight { add(window.count, windowStart: window.windowStart) }
        }
        inFlight = []
        isSyncing = false
    }

    /// Nothing left to send and no decision for two periods: the state is as good as fresh.
    public func isIdle(now: Int64) -> Bool {
        unsent.isEmpty && !isSyncing && now - lastTake > 2 * limit.periodMilliseconds
    }

    private func estimatedCount(windowStart: Int64) -> Int {
        var count = 0
        if reportedStart == windowStart {
            count += reportedCurrent
        } else if reportedStart == windowStart + limit.periodMilliseconds {
            count += reportedPrevious
        }
        for window in unsent where window.windowStart == windowStart { count += window.count }
        for window in inFlight where window.windowStart == windowStart { count += window.count }
        return count
    }

    private mutating func add(_ cost: Int, windowStart: Int64) {
        // Only the current and the previous window still matter to a decision.
        unsent.removeAll { $0.windowStart < windowStart - limit.periodMilliseconds }
        if let index = unsent.firstIndex(where: { $0.windowStart == windowStart }) {
            unsent[index].count += cost
        } else {
            unsent.append(WindowCount(windowStart: windowStart, count: cost))
        }
    }
}
