/// The `redis` section: where fleet-wide state lives (rate limits, later purges).
public struct RedisConfig: Sendable, Equatable {
    public var addresses: [HostPort]
    /// Name of the environment variable holding the password (never the password itself).
    public var passwordEnvironmentVariable: String?
    public var connectTimeout: Duration
    /// A command slower than this counts as Redis being unavailable (the policy's
    /// `on_redis_error` applies); keep it well under the latency a request can afford.
    public var commandTimeout: Duration

    public init(
        addresses: [HostPort], passwordEnvironmentVariable: String? = nil,
        connectTimeout: Duration = .milliseconds(500),
        commandTimeout: Duration = .milliseconds(50)
    ) {
        self.addresses = addresses
        self.passwordEnvironmentVariable = passwordEnvironmentVariable
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
    }
}
