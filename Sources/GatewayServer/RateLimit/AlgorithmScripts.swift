import GatewayConfig
import RateLimiting
import Redis

/// One `RedisScript` object per algorithm for the life of the process, so every snapshot's
/// policies share the SHA1 each loop's client learned.
enum AlgorithmScripts {
    static let tokenBucket = RedisScript(RateLimitScripts.tokenBucket)
    static let gcra = RedisScript(RateLimitScripts.gcra)
    static let fixedWindow = RedisScript(RateLimitScripts.fixedWindow)
    static let slidingWindow = RedisScript(RateLimitScripts.slidingWindow)

    static func script(for algorithm: RateLimitPolicyConfig.Algorithm) -> RedisScript {
        switch algorithm {
        case .tokenBucket: tokenBucket
        case .gcra: gcra
        case .fixedWindow: fixedWindow
        case .slidingWindow: slidingWindow
        }
    }
}
