/// Token bucket: holds up to `burst` tokens, refilled at `amount` per period; a request takes
/// `cost` tokens or is refused. Tokens are kept scaled by the period (`tokens × period`), so the
/// refill `elapsed × amount` is exact in integers.
public struct TokenBucket: Sendable, Equatable {
    public let limit: RateLimit
    /// tokens × period.
    public private(set) var scaledTokens: Int64
    public private(set) var last: Int64

    public init(limit: RateLimit, now: Int64) {
        self.limit = limit
        self.scaledTokens = Int64(limit.burst) * limit.periodMilliseconds
        self.last = now
    }

    public mutating func take(cost: Int = 1, now: Int64) -> RateLimitDecision {
        let period = limit.periodMilliseconds
        let amount = Int64(limit.amount)
        let capacity = Int64(limit.burst) * period
        let elapsed = max(0, now - last)
        scaledTokens = min(capacity, scaledTokens + elapsed * amount)
        last = max(last, now)
        let needed = Int64(cost) * period
        let allowed = scaledTokens >= needed
        if allowed { scaledTokens -= needed }
        return RateLimitDecision(
            allowed: allowed, limit: limit.burst, remaining: Int(scaledTokens / period),
            resetMilliseconds: ceilDivide(capacity - scaledTokens, amount),
            retryAfterMilliseconds: allowed ? 0 : ceilDivide(needed - scaledTokens, amount))
    }
}
