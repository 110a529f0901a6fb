public struct UpstreamConfig: Sendable, Equatable {
    public var name: String
    public var endpoints: [EndpointConfig]
    public var protocolVersion: UpstreamProtocol
    public var balance: BalanceStrategy
    public var pool: PoolConfig
    public var timeouts: UpstreamTimeouts
    public var healthCheck: HealthCheckConfig?
    public var circuitBreaker: CircuitBreakerConfig?
    public var outlier: OutlierConfig?
    /// `RetryConfig.implicit` when the section is absent.
    public var retries: RetryConfig
    public var limits: ConcurrencyLimits
    /// nil: cleartext to the endpoints.
    public var tls: UpstreamTLSConfig?

    public init(
        name: String,
        endpoints: [EndpointConfig],
        protocolVersion: UpstreamProtocol = .http1,
        balance: BalanceStrategy = .roundRobin,
        pool: PoolConfig = PoolConfig(),
        timeouts: UpstreamTimeouts = UpstreamTimeouts(),
        healthCheck: HealthCheckConfig? = nil,
        circuitBreaker: CircuitBreakerConfig? = nil,
        outlier: OutlierConfig? = nil,
        retries: RetryConfig = .implicit,
        limits: ConcurrencyLimits = ConcurrencyLimits(),
        tls: UpstreamTLSConfig? = nil
    ) {
        self.tls = tls
        self.healthCheck = healthCheck
        self.circuitBreaker = circuitBreaker
        self.outlier = outlier
        self.retries = retries
        self.limits = limits
        self.name = name
        self.endpoints = endpoints
        self.protocolVersion = protocolVersion
        self.balance = balance
        self.pool = pool
        self.timeouts = timeouts
    }
}

public struct EndpointConfig: Sendable, Hashable {
    public var address: HostPort
    /// 1...1000; relative share of traffic.
    public var weight: Int

    public init(address: HostPort, weight: Int = 1) {
        self.address = address
        self.weight = weight
    }
}

public enum UpstreamProtocol: String, Sendable, Equatable {
    case http1
    case h2c
    case h2
}

public enum BalanceStrategy: Sendable, Equatable {
    case roundRobin
    case leastRequest
    case consistentHash(HashSource)
}

/// What consistent hashing keys on (`hash_on`).
public enum HashSource: Sendable, Equatable {
    case clientIP
    /// Lowercased header name.
    case header(String)
    case cookie(String)
}

public struct PoolConfig: Sendable, Equatable {
    /// Per event loop: each loop owns its own pool (DESIGN.md, share nothing).
    public var maxPerEndpoint: Int
    public var idleTimeout: Duration

    public init(maxPerEndpoint: Int = 256, idleTimeout: Duration = .seconds(60)) {
        self.maxPerEndpoint = maxPerEndpoint
        self.idleTimeout = idleTimeout
    }
}

public struct UpstreamTimeouts: Sendable, Equatable {
    public var connect: Duration
    /// From the end of the request being sent to the response head arriving.
    public var responseHeader: Duration
    /// From the request head arriving to the response end being sent.
    public var request: Duration

    public init(
        connect: Duration = .seconds(1), responseHeader: Duration = .seconds(15), request: Duration = .seconds(30)
    ) {
        self.connect = connect
        self.responseHeader = responseHeader
        self.request = request
    }
}

/// `tls:` of an upstream: HTTPS to its endpoints.
public struct UpstreamTLSConfig: Sendable, Hashable {
    /// false: any certificate is accepted (logged as a warning at every start and reload).
    public var verify: Bool
    /// PEM file of the CAs to trust; nil: the system's trust store.
    public var caPath: String?
    /// The name sent in SNI and checked against the certificate; nil: the endpoint's host when it
    /// is a name (an IP address is checked as such and sends no SNI).
    public var serverName: String?
    /// A client certificate and key for mutual TLS.
    public var certificatePath: String?
    public var keyPath: String?

    public init(
        verify: Bool = true, caPath: String? = nil, serverName: String? = nil, certificatePath: String? = nil,
        keyPath: String? = nil
    ) {
        self.verify = verify
        self.caPath = caPath
        self.serverName = serverName
        self.certificatePath = certificatePath
        self.keyPath = keyPath
    }
}
