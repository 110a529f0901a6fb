import GatewayConfig
import RateLimiting

/// The RateLimit-* response fields (IETF draft-ietf-httpapi-ratelimit-headers), in whole seconds.
enum RateLimitFields {
    static func make(_ decision: RateLimitDecision) -> [HeaderField] {
        [
            HeaderField(name: "RateLimit-Limit", value: String(decision.limit)),
            HeaderField(name: "RateLimit-Remaining", value: String(decision.remaining)),
            HeaderField(name: "RateLimit-Reset", value: String(seconds(decision.resetMilliseconds))),
        ]
    }

    /// Rounded up: telling a client to come back a little late is harmless, early is a 429.
    static func seconds(_ milliseconds: Int64) -> Int64 {
        milliseconds <= 0 ? 0 : (milliseconds + 999) / 1000
    }
}
