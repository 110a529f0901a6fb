import RateLimiting
import Redis

/// The scripts' reply, `{allowed, limit, remaining, reset ms, retry ms}`; anything else is nil
/// (and treated as Redis failing, never as a decision).
enum RateLimitReply {
    static func decision(_ reply: RESPValue) -> RateLimitDecision? {
        guard let values = reply.array?.compactMap(\.integer), values.count == 5 else { return nil }
        return RateLimitDecision(
            allowed: values[0] == 1, limit: Int(values[1]), remaining: Int(values[2]), resetMilliseconds: values[3],
            retryAfterMilliseconds: values[4])
    }
}
