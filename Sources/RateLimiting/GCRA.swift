/// GCRA (the generic cell rate algorithm, a leaky bucket as a meter): one timestamp per key, the
/// theoretical arrival time. A request is allowed if that time, after adding its cost, is at most
/// `burst` emission intervals ahead of now. Times are scaled by `amount` so an emission interval
/// (`period / amount`) is the integer `period`.
public struct GCRA: Sendable, Equatable {
    public let limit: RateLimit
    /// Theoretical arrival time × amount.
    public private(set) var scaledTAT: Int64

    public init(limit: RateLimit) {
        self.limit = limit
        self.scaledTAT = 0
    }

    public mutating func take(cost: Int = 1, now: Int64) -> RateLimitDecision {
        let period = limit.periodMilliseconds
        let amount = Int64(limit.amount)
        let tolerance = Int64(limit.burst) * period
        let scaledNow = now * amount
        let tat = max(scaledTAT, scaledNow)
        let newTAT = tat + Int64(cost) * period
        let allowAt = newTAT - tolerance
        let allowed = scaledNow >= allowAt
        if allowed { scaledTAT = newTAT }
        let current = allowed ? newTAT : tat
        let remaining = max(0, (scaledNow - (current - tolerance)) / period)
        return RateLimitDecision(
            allowed: allowed, limit: limit.burst, remaining: Int(remaining),
            resetMilliseconds: ceilDivide(current - scaledNow, amount),
            retryAfterMilliseconds: allowed ? 0 : ceilDivide(allowAt - scaledNow, amount))
    }
}
