/// Sliding window, counter approximation (as Cloudflare's): the previous aligned window's count,
/// weighted by how much of it the sliding window still covers, plus the current window's count.
/// Two counters per key, and no boundary burst as with a fixed window. Compared scaled by the
/// period so the weighting is exact in integers.
public struct SlidingWindow: Sendable, Equatable {
    public let limit: RateLimit
    public private(set) var windowStart: Int64 = .min
    public private(set) var current = 0
    public private(set) var previous = 0

    public init(limit: RateLimit) {
        self.limit = limit
    }

    /// Windows already counted elsewhere (approximate mode rebuilds them from Redis's totals).
    public init(limit: RateLimit, windowStart: Int64, current: Int, previous: Int) {
        self.limit = limit
        self.windowStart = windowStart
        self.current = current
        self.previous = previous
    }

    public mutating func take(cost: Int = 1, now: Int64) -> RateLimitDecision {
        let period = limit.periodMilliseconds
        let start = now - ((now % period) + period) % period
        if start != windowStart {
            // One window on: the current count becomes the previous one; further on, both are old.
            previous = windowStart != .min && start - windowStart == period ? current : 0
            current = 0
            windowStart = start
        }
        let elapsed = now - start
        let weightedPrevious = Int64(previous) * (period - elapsed)
        let capacity = Int64(limit.amount) * period
        let allowed = weightedPrevious + Int64(current + cost) * period <= capacity
        if allowed { current += cost }
        let used = weightedPrevious + Int64(current) * period
        let remaining = max(0, (capacity - used) / period)
        var retry: Int64 = 0
        if !allowed {
            if current + cost > limit.amount || previous == 0 {
                // Not even an empty previous window would make room: wait for the next window,
                // where this window's count is weighted down in turn.
                retry = period - elapsed
            } else {
                // The previous window's weight must shrink until the cost fits.
                let room = Int64(limit.amount - current - cost) * period
                let coveredAtMost = room / Int64(previous)
                retry = max(1, (period - coveredAtMost) - elapsed)
            }
        }
        return RateLimitDecision(
            allowed: allowed, limit: limit.amount, remaining: Int(remaining), resetMilliseconds: 2 * period - elapsed,
            retryAfterMilliseconds: retry)
    }
}
