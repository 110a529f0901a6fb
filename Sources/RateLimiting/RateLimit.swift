/// A limit: `amount` per `periodMilliseconds`, with `burst` for the bucket algorithms (how many
/// may go at once after a quiet period). All arithmetic is in integer milliseconds, scaled so it is
/// exact, and the Redis Lua scripts do the same operations in the same order (Lua numbers are
/// doubles: every intermediate value stays below 2^53, which `isRepresentable` checks).
public struct RateLimit: Sendable, Equatable {
    public var amount: Int
    public var periodMilliseconds: Int64
    public var burst: Int

    public init(amount: Int, periodMilliseconds: Int64, burst: Int? = nil) {
        self.amount = amount
        self.periodMilliseconds = periodMilliseconds
        self.burst = burst ?? amount
    }

    /// Scaled values (burst × period, elapsed × amount) must stay exact in a double.
    public var isRepresentable: Bool {
        let limit = Int64(1) << 53
        guard amount > 0, periodMilliseconds > 0, burst > 0 else { return false }
        let (scaled, overflow) = Int64(max(burst, amount)).multipliedReportingOverflow(by: periodMilliseconds)
        // Headroom for the sums the algorithms form (a stored value plus a cost, a day of elapsed time).
        return !overflow && scaled < limit / 4
    }
}

/// The answer for one request: allowed or not, and what the RateLimit-* headers say.
public struct RateLimitDecision: Sendable, Equatable {
    public var allowed: Bool
    /// `RateLimit-Limit`.
    public var limit: Int
    /// `RateLimit-Remaining` after this request.
    public var remaining: Int
    /// Milliseconds until the limit is fully available again (`RateLimit-Reset`, rounded up to seconds).
    public var resetMilliseconds: Int64
    /// When denied: milliseconds until a request of the same cost would be allowed (`Retry-After`).
    public var retryAfterMilliseconds: Int64

    public init(allowed: Bool, limit: Int, remaining: Int, resetMilliseconds: Int64, retryAfterMilliseconds: Int64) {
        self.allowed = allowed
        self.limit = limit
        self.remaining = remaining
        self.resetMilliseconds = resetMilliseconds
        self.retryAfterMilliseconds = retryAfterMilliseconds
    }
}

/// Integer division rounding up, for non-negative numerators and positive divisors.
@inline(__always)
func ceilDivide(_ a: Int64, _ b: Int64) -> Int64 {
    a <= 0 ? 0 : (a + b - 1) / b
}
