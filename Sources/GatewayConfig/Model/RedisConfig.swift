/// The `redis` section: where fleet-wide state lives (rate limits, later purges).
public struct RedisConfig: Sendable, Equatable {
    public enum Mode: String, Sendable, Equatable {
        /// One server (`addresses` has one entry).
        case standalone
        /// A Redis Cluster; `addresses` are seed nodes, the slot map is asked of them.
        case cluster
    }

    public var mode: Mode
    public var addresses: [HostPort]
    /// ACL user for AUTH; without it AUTH uses the password alone (the `default` user).
    public var username: String?
    /// Name of the environment variable holding the password (never the password itself).
    public var passwordEnvironmentVariable: String?
    /// SELECTed after connecting; standalone only (a Cluster has database 0 only).
    public var database: Int
    public var connectTimeout: Duration
    /// A command slower than this counts as Redis being unavailable (the policy's
    /// `on_redis_error` applies); keep it well under the latency a request can afford.
    public var commandTimeout: Duration
    /// How many gateway nodes share this Redis. While Redis is unreachable, a fail_open policy
    /// lets each node admit its share, the limit divided by this, so the fleet as a whole stays
    /// near the limit instead of multiplying it.
    public var expectedNodes: Int

    public init(
        mode: Mode = .standalone, addresses: [HostPort], username: String? = nil,
        passwordEnvironmentVariable: String? = nil, database: Int = 0, connectTimeout: Duration = .milliseconds(500),
        commandTimeout: Duration = .milliseconds(50), expectedNodes: Int = 1
    ) {
        self.mode = mode
        self.addresses = addresses
        self.username = username
        self.passwordEnvironmentVariable = passwordEnvironmentVariable
        self.database = database
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.expectedNodes = expectedNodes
    }
}
