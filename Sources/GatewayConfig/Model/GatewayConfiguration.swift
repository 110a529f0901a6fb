/// The validated configuration, exactly as the user wrote it but with defaults applied and every
/// value checked. `Snapshot` compiles it into the form the data plane reads.
public struct GatewayConfiguration: Sendable, Equatable {
    public var node: NodeConfig
    public var runtime: RuntimeConfig
    public var listeners: [ListenerConfig]
    /// In the order the file names them; names are unique.
    public var upstreams: [UpstreamConfig]
    /// In config order; ties in router specificity are broken by this order.
    public var routes: [RouteConfig]
    /// Peers whose `X-Forwarded-*` headers are believed.
    public var trustedProxies: [CIDR]
    public var logging: LoggingConfig
    /// nil: no admin listener.
    public var admin: AdminConfig?
    /// nil: defaults, used only if a route caches.
    public var cache: CacheConfig?
    /// Named policies; routes refer to them by name.
    public var rateLimits: [RateLimitPolicyConfig]
    /// nil: the embedded limiter counts in this process.
    public var redis: RedisConfig?
    public var auth: AuthConfig
    /// nil: no route picks its upstream by the client's region.
    public var geo: GeoConfig?
    /// nil: no spans are made or exported.
    public var tracing: TracingConfig?

    public init(
        node: NodeConfig,
        runtime: RuntimeConfig = RuntimeConfig(),
        listeners: [ListenerConfig],
        upstreams: [UpstreamConfig],
        routes: [RouteConfig],
        trustedProxies: [CIDR] = [],
        logging: LoggingConfig = LoggingConfig(),
        admin: AdminConfig? = nil,
        cache: CacheConfig? = nil,
        rateLimits: [RateLimitPolicyConfig] = [],
        redis: RedisConfig? = nil,
        auth: AuthConfig = AuthConfig(),
        geo: GeoConfig? = nil,
        tracing: TracingConfig? = nil
    ) {
        self.tracing = tracing
        self.geo = geo
        self.redis = redis
        self.auth = auth
        self.rateLimits = rateLimits
        self.admin = admin
        self.cache = cache
        self.node = node
        self.runtime = runtime
        self.listeners = listeners
        self.upstreams = upstreams
        self.routes = routes
        self.trustedProxies = trustedProxies
        self.logging = logging
    }
}

public struct NodeConfig: Sendable, Equatable {
    public var id: String
    public var region: String?

    public init(id: String, region: String? = nil) {
        self.id = id
        self.region = region
    }
}

/// Process-level settings. Not in the reference config: added because nginx's `worker_processes`
/// and `worker_shutdown_timeout` have no other home.
public struct RuntimeConfig: Sendable, Equatable {
    /// 0 means one event loop per core.
    public var eventLoops: Int
    /// How long SIGTERM waits for in-flight requests before closing what is left.
    public var drainTimeout: Duration

    public init(eventLoops: Int = 0, drainTimeout: Duration = .seconds(30)) {
        self.eventLoops = eventLoops
        self.drainTimeout = drainTimeout
    }
}

public enum LogLevel: String, Sendable, Equatable, CaseIterable {
    case trace, debug, info, notice, warning, error, critical
}

public struct LoggingConfig: Sendable, Equatable {
    public var level: LogLevel
    /// nil: no access log (the default, as Envoy; nginx logs by default).
    public var accessLog: AccessLogConfig?

    public init(level: LogLevel = .info, accessLog: AccessLogConfig? = nil) {
        self.level = level
        self.accessLog = accessLog
    }
}

/// `logging.access_log`: one JSON line per request.
public struct AccessLogConfig: Sendable, Equatable {
    public enum Destination: Sendable, Equatable, CustomStringConvertible {
        case standardOutput
        case standardError
        case file(path: String)

        public var description: String {
            switch self {
            case .standardOutput: "stdout"
            case .standardError: "stderr"
            case .file(let path): path
            }
        }
    }

    public var destination: Destination
    /// Lines waiting for the writer beyond this are dropped (and counted), never waited for.
    public var bufferBytes: Int

    public init(destination: Destination = .standardOutput, bufferBytes: Int = 4 * 1024 * 1024) {
        self.destination = destination
        self.bufferBytes = bufferBytes
    }
}
