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

    public init(
        node: NodeConfig,
        runtime: RuntimeConfig = RuntimeConfig(),
        listeners: [ListenerConfig],
        upstreams: [UpstreamConfig],
        routes: [RouteConfig],
        trustedProxies: [CIDR] = [],
        logging: LoggingConfig = LoggingConfig()
    ) {
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

    public init(level: LogLevel = .info) {
        self.level = level
    }
}
