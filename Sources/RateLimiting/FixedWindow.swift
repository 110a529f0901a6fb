/// Fixed window: at most `amount` per aligned window of one period (windows start at multiples of
/// the period since the epoch, so every node and Redis agree on them). Cheap, but allows up to
/// twice the rate across a window boundary.
public struct FixedWindow: Sendable, Equatable {
    public let limit: RateLimit
    public private(set) var windowStart: Int64 = .min
    public private(set) var count = 0

    public init(limit: RateLimit) {
        self.limit = limit
    }

    /// A window already counted elsewhere (approximate mode rebuilds it from Redis's totals).
    public init(limit: RateLimit, windowStart: Int64, count: Int) {
        self.limit = limit
        self.windowStart = windowStart
        self.count = count
    }

    public mutating func take(cost: Int = 1, now: Int64) -> RateLimitDecision {
        let period = limit.periodMilliseconds
        let start = now - ((now % period) + period) % period
        if start != windowStart {
            windowStart = start
            count = 0
        }
        let allowed = count + cost <= limit.amount
        if allowed { count += cost }
        let reset = start + period - now
        return RateLimitDecision(
            allowed: allowed, limit: limit.amount, remaining: max(0, limit.amount - count), resetMilliseconds: reset,
            retryAfterMilliseconds: allowed ? 0 : reset)
    }
}
