/// A named rate-limit policy (`rate_limits:` at the top level); routes name the ones that apply.
public struct RateLimitPolicyConfig: Sendable, Equatable {
    public enum Algorithm: String, Sendable, Equatable, CaseIterable {
        case tokenBucket = "token_bucket"
        case gcra
        case slidingWindow = "sliding_window"
        case fixedWindow = "fixed_window"
    }

    /// What a request is counted under; several parts make a combined key.
    public enum KeyPart: Sendable, Equatable {
        case clientIP
        case route
        case header(String)
        /// The authenticated identity: a token's `sub`, or the API key's consumer.
        case user
        /// The API key's consumer (empty for token-authenticated requests).
        case apiKey
    }

    public enum Mode: String, Sendable, Equatable {
        case exact, approximate
    }

    public enum OnRedisError: String, Sendable, Equatable {
        case failOpen = "fail_open"
        case failClosed = "fail_closed"
    }

    public var name: String
    public var algorithm: Algorithm
    public var rate: Rate
    /// For token_bucket and gcra; defaults to the rate's count.
    public var burst: Int?
    public var key: [KeyPart]
    public var mode: Mode
    public var syncEvery: Duration
    public var onRedisError: OnRedisError
    /// Units a request takes (default 1).
    public var cost: Int

    public init(
        name: String, algorithm: Algorithm = .tokenBucket, rate: Rate, burst: Int? = nil, key: [KeyPart] = [.clientIP],
        mode: Mode = .exact, syncEvery: Duration = .milliseconds(100), onRedisError: OnRedisError = .failOpen,
        cost: Int = 1
    ) {
        self.name = name
        self.algorithm = algorithm
        self.rate = rate
        self.burst = burst
        self.key = key
        self.mode = mode
        self.syncEvery = syncEvery
        self.onRedisError = onRedisError
        self.cost = cost
    }
}
