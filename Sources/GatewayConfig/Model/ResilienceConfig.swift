/// Which outcomes of an upstream attempt count as failures, for a circuit breaker or for retries
/// (`on: [connect_failure, timeout, reset, 5xx, 503]`).
public struct FailureConditions: Sendable, Equatable {
    /// The connection could not be made (refused, unreachable, connect timeout): the request never
    /// reached the upstream.
    public var connectFailure: Bool
    /// No response head within the (per-try) response header timeout.
    public var timeout: Bool
    /// The connection closed or broke before a complete response head, or the head was invalid.
    public var reset: Bool
    /// Every 5xx status.
    public var serverErrors: Bool
    public var statuses: Set<Int>

    public init(
        connectFailure: Bool = false, timeout: Bool = false, reset: Bool = false, serverErrors: Bool = false,
        statuses: Set<Int> = []
    ) {
        self.connectFailure = connectFailure
        self.timeout = timeout
        self.reset = reset
        self.serverErrors = serverErrors
        self.statuses = statuses
    }

    public func matches(status: Int) -> Bool {
        (serverErrors && status >= 500 && status <= 599) || statuses.contains(status)
    }

    /// Gateway-type failures: what says an endpoint is unwell rather than that one request was bad.
    public static let breakerDefault = FailureConditions(
        connectFailure: true, timeout: true, reset: true, statuses: [502, 503, 504])
    /// Only failures where the request certainly did not reach the upstream, so any method is safe.
    public static let retryDefault = FailureConditions(connectFailure: true)
}

/// `circuit_breaker` of an upstream: one breaker per endpoint (see `Resilience.CircuitBreaker`).
public struct CircuitBreakerConfig: Sendable, Equatable {
    public var consecutiveFailures: Int
    /// nil: only consecutive failures open the circuit.
    public var errorRatio: Double?
    public var minRequests: Int
    public var window: Duration
    public var openFor: Duration
    /// The cool-down doubles with each trip in a row up to this.
    public var maxOpenFor: Duration
    public var halfOpenRequests: Int
    public var on: FailureConditions

    public init(
        consecutiveFailures: Int = 5, errorRatio: Double? = 0.5, minRequests: Int = 20, window: Duration = .seconds(10),
        openFor: Duration = .seconds(30), maxOpenFor: Duration = .seconds(300), halfOpenRequests: Int = 3,
        on: FailureConditions = .breakerDefault
    ) {
        self.consecutiveFailures = consecutiveFailures
        self.errorRatio = errorRatio
        self.minRequests = minRequests
        self.window = window
        self.openFor = openFor
        self.maxOpenFor = maxOpenFor
        self.halfOpenRequests = halfOpenRequests
        self.on = on
    }
}

/// `health_check` of an upstream: active HTTP checks of every endpoint, off the request path.
public struct HealthCheckConfig: Sendable, Hashable {
    public var path: String
    public var interval: Duration
    public var timeout: Duration
    /// Passed checks in a row that bring an endpoint back.
    public var healthy: Int
    /// Failed checks in a row that take an endpoint out.
    public var unhealthy: Int
    /// Statuses that pass; empty means any 2xx.
    public var expect: Set<Int>
    /// Sent as `Host`; nil sends the endpoint's address.
    public var host: String?

    public init(
        path: String = "/health", interval: Duration = .seconds(5), timeout: Duration = .seconds(1), healthy: Int = 2,
        unhealthy: Int = 3, expect: Set<Int> = [], host: String? = nil
    ) {
        self.path = path
        self.interval = interval
        self.timeout = timeout
        self.healthy = healthy
        self.unhealthy = unhealthy
        self.expect = expect
        self.host = host
    }

    public func passes(status: Int) -> Bool {
        expect.isEmpty ? (200...299).contains(status) : expect.contains(status)
    }
}

/// `outlier` of an upstream: passive ejection from real traffic (see `Resilience.OutlierDetector`).
public struct OutlierConfig: Sendable, Equatable {
    /// 5xx responses or gateway failures (connect, reset, timeout) in a row.
    public var consecutive5xx: Int
    public var ejectFor: Duration
    public var maxEjectFor: Duration
    public var maxEjectedPercent: Int

    public init(
        consecutive5xx: Int = 5, ejectFor: Duration = .seconds(30), maxEjectFor: Duration = .seconds(300),
        maxEjectedPercent: Int = 50
    ) {
        self.consecutive5xx = consecutive5xx
        self.ejectFor = ejectFor
        self.maxEjectFor = maxEjectFor
        self.maxEjectedPercent = maxEjectedPercent
    }
}

/// `retries` of an upstream.
public struct RetryConfig: Sendable, Equatable {
    /// Retries after the first try (Envoy's `num_retries`, Kong's `retries`); each goes to an
    /// endpoint not tried yet for this request.
    public var attempts: Int
    public var on: FailureConditions
    /// Base of the exponential back-off (full jitter); zero retries at once.
    public var backoff: Duration
    public var maxBackoff: Duration
    /// Retries may be at most this share of the upstream's requests (rolling 10 s, at least 3).
    public var budgetPercent: Int
    /// Each try's wait for the response head; nil uses the upstream's `timeouts.response_header`.
    public var perTryTimeout: Duration?
    /// Request bodies up to this size are kept so they can be sent again; larger ones are not retried.
    public var maxBody: Int

    public init(
        attempts: Int = 1, on: FailureConditions = .retryDefault, backoff: Duration = .milliseconds(25),
        maxBackoff: Duration? = nil, budgetPercent: Int = 20, perTryTimeout: Duration? = nil, maxBody: Int = 64 * 1024
    ) {
        self.attempts = attempts
        self.on = on
        self.backoff = backoff
        self.maxBackoff = maxBackoff ?? backoff * 10
        self.budgetPercent = budgetPercent
        self.perTryTimeout = perTryTimeout
        self.maxBody = maxBody
    }

    /// Without a `retries` section: a connection that could not be made is tried once on another
    /// endpoint, as nginx's default `proxy_next_upstream error`, which no method can object to.
    public static let implicit = RetryConfig()
}

/// `limits` of an upstream or a route: bulkheads. Counted across the whole process.
public struct ConcurrencyLimits: Sendable, Equatable {
    /// Requests in flight at once; nil: unlimited.
    public var maxConcurrent: Int?
    /// Requests waiting for an upstream connection; nil: unlimited (upstreams only).
    public var maxPending: Int?

    public init(maxConcurrent: Int? = nil, maxPending: Int? = nil) {
        self.maxConcurrent = maxConcurrent
        self.maxPending = maxPending
    }

    public var isEmpty: Bool { maxConcurrent == nil && maxPending == nil }
}
