import GatewayConfig
import Logging
import NIOCore
import Redis

/// Everything one event loop owns: pools, balancers, the date cache, request-id generator and its
/// downstream connections. Touched only on its loop, so nothing in it needs a lock.
final class LoopContext {
    let eventLoop: EventLoop
    let dateCache: DateCache
    var requestIDs = RequestIDGenerator()
    private(set) var snapshot: Snapshot
    private(set) var upstreams: [UpstreamRuntime] = []
    /// `snapshot.routes[i].requestTimeout` as NIO time, converted once per snapshot.
    private(set) var requestTimeouts: [TimeAmount] = []
    /// Pools by endpoint and pool settings, kept across snapshots so a reload keeps warm
    /// connections; a pool whose endpoint or settings a reload drops is retired.
    private var poolsByKey: [PoolKey: EndpointPool] = [:]
    /// Retired pools still serving exchanges that began before a reload; let go once unused.
    private var retiredPools: [EndpointPool] = []
    private var resolvedEndpoints: [HostPort: SocketAddress]
    private var connections: [ObjectIdentifier: ProxyHandler] = [:]
    /// HTTP/2 connections (their streams' handlers are in `connections`), told to go away on drain.
    private var http2Connections: [ObjectIdentifier: Channel] = [:]
    private var sweepTask: RepeatedTask?
    private(set) var isDraining = false
    let metrics: LoopMetrics
    /// `metrics` of `snapshot.routes[i]`, realigned with each snapshot.
    private(set) var routeMetrics: [RouteMetrics] = []
    /// This loop's batch of access log lines; nil while no access log is configured.
    private(set) var accessLog: AccessLogBatch?
    private let accessLogSink: AccessLogSink?
    /// The process-wide response store; nil only in tests that build a loop without one.
    let cache: EdgeCache?
    /// Index-aligned with `snapshot.routes`: nil for routes that do not cache.
    private(set) var routeCaching: [RouteCaching?] = []
    private(set) var cacheIdentity: CacheIdentity
    /// The process-wide embedded limiter; nil only in tests that build a loop without one.
    let rateLimiter: LocalRateLimiter?
    /// This loop's Redis client; nil without a `redis` section (the embedded limiter decides).
    let redis: (any RedisScriptRunner)?
    /// This loop's approximate-mode counters; nil without Redis.
    let approximateLimiter: ApproximateRateLimiter?
    /// Exchanges this loop's approximate counts with Redis.
    private var approximateSync: ApproximateSync?
    private var lastRedisFailureLog = NIODeadline.uptimeNanoseconds(0)
    private var redisFailing = false
    /// Index-aligned with `snapshot.routes`: the policies each route applies.
    private(set) var routeRateLimits: [[LoopRateLimit]] = []
    /// Index-aligned with `snapshot.routes`: nil for routes without auth.
    private(set) var routeAuth: [RouteAuthenticator?] = []
    /// Tokens this loop verified; nil when every provider turned its cache off.
    private(set) var tokenCache: VerifiedTokenCache?
    /// Client TLS contexts of the upstreams with `tls`, by upstream name.
    private var upstreamTLS: [String: UpstreamTLS]
    /// Health from active checks and the bulkheads, shared by all loops.
    private(set) var resilience: ResilienceRuntime
    /// Index-aligned with `snapshot.routes`: nil for routes without `limits`.
    var routeBulkheads: [Bulkhead?] { resilience.routeConcurrency }

    /// Spans to the OTLP collector; nil without `tracing` at start.
    let tracer: RequestTracer?

    /// For errors only: nothing is logged per successful request (that is the access log's job).
    let logger: Logger
    /// Request-path error lines of this loop (see `LogBudget`).
    var errorLogBudget = LogBudget()

    init(
        eventLoop: EventLoop, snapshot: Snapshot, resolvedEndpoints: [HostPort: SocketAddress], logger: Logger,
        accessLogSink: AccessLogSink? = nil, cache: EdgeCache? = nil, rateLimiter: LocalRateLimiter? = nil,
        redis: RedisEndpoint? = nil, auth: AuthRuntime = .empty, resilience: ResilienceRuntime = .empty,
        upstreamTLS: [String: UpstreamTLS] = [:], tracer: RequestTracer? = nil
    ) {
        self.tracer = tracer
        self.eventLoop = eventLoop
        self.upstreamTLS = upstreamTLS
        self.resilience = resilience
        let redisClient = redis.map { $0.makeClient(on: eventLoop, logger: logger.subsystem(.redis)) }
        self.redis = redisClient
        self.rateLimiter = rateLimiter
        let approximateLimiter = redisClient == nil ? nil : ApproximateRateLimiter()
        self.approximateLimiter = approximateLimiter
        self.cache = cache
        self.cacheIdentity = CacheIdentity(snapshot.configuration)
        self.routeCaching = snapshot.configuration.routes.map { $0.cache.map(RouteCaching.init) }
        self.logger = logger
        self.dateCache = DateCache(eventLoop: eventLoop)
        self.snapshot = snapshot
        self.resolvedEndpoints = resolvedEndpoints
        self.metrics = LoopMetrics(snapshot: snapshot)
        self.accessLogSink = accessLogSink
        self.upstreams = buildUpstreams(for: snapshot)
        self.requestTimeouts = snapshot.routes.map { TimeAmount($0.requestTimeout) }
        self.routeMetrics = metrics.routes
        configureAccessLog(for: snapshot)
        let policies = CompiledRateLimit.perRoute(snapshot.configuration)
        self.routeRateLimits = alignRateLimits(policies)
        useAuth(auth)
        if let redisClient, let approximateLimiter {
            let metrics = self.metrics
            approximateSync = ApproximateSync(
                limiter: approximateLimiter, redis: redisClient,
                interval: ApproximateSync.interval(for: policies.flatMap { $0 }),
                recordLatency: { metrics.redisLatency.record(nanoseconds: $0) })
            approximateSync?.start()
        }
        let loopBound = NIOLoopBound(self, eventLoop: eventLoop)
        self.sweepTask = eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in
            loopBound.value.sweep()
        }
    }

    var connectionCount: Int { connections.count }

    func register(_ handler: ProxyHandler) {
        connections[ObjectIdentifier(handler)] = handler
    }

    func unregister(_ handler: ProxyHandler) {
        connections.removeValue(forKey: ObjectIdentifier(handler))
    }

    /// Graceful shutdown: idle connections close now, busy ones after their current response;
    /// HTTP/2 clients get a GOAWAY, so they open no new streams while the open ones finish.
    func beginDrain() {
        isDraining = true
        for handler in connections.values {
            handler.drain()
        }
        for channel in http2Connections.values {
            HTTP2Connection.goAway(channel)
        }
    }

    func register(http2Connection channel: Channel) {
        let key = ObjectIdentifier(channel)
        http2Connections[key] = channel
        let loopBound = NIOLoopBound(self, eventLoop: eventLoop)
        channel.closeFuture.whenComplete { _ in
            loopBound.value.http2Connections.removeValue(forKey: key)
        }
        if isDraining { HTTP2Connection.goAway(channel) }
    }

    /// A reload removed or moved these listeners: their connections close after their current
    /// response, idle ones now.
    func drainConnections(ofBindings bindings: Set<Int>) {
        for handler in connections.values where bindings.contains(handler.listenerBindingID) {
            handler.drain()
        }
    }

    /// A Redis failure, logged at most once per 10 s per loop so an outage does not flood the log.
    func noteRedisFailure(_ result: Result<RESPValue, Error>?) {
        redisFailing = true
        let now = NIODeadline.now()
        guard now - lastRedisFailureLog >= .seconds(10) else { return }
        lastRedisFailureLog = now
        let cause: String
        switch result {
        case .failure(let error): cause = "\(error)"
        case .success(let reply): cause = "unexpected reply \(reply)"
        case nil: cause = "not connected"
        }
        logger.warning("rate limit decision without redis; on_redis_error applies", metadata: ["error": "\(cause)"])
    }

    /// Redis decided again after failures: said once, so the log shows when the outage ended.
    func noteRedisRecovered() {
        guard redisFailing else { return }
        redisFailing = false
        logger.notice("rate limits decided by redis again")
    }

    private func useAuth(_ auth: AuthRuntime) {
        routeAuth = auth.routes
        // A fresh cache per configuration: its keys name provider objects, which a reload replaces.
        tokenCache = auth.tokenCacheCapacity == 0 ? nil : VerifiedTokenCache(capacity: auth.tokenCacheCapacity)
    }

    /// This loop's counters for each route's policies.
    private func alignRateLimits(_ policies: [[CompiledRateLimit]]) -> [[LoopRateLimit]] {
        policies.map { route in
            route.map { LoopRateLimit(policy: $0, counters: metrics.rateLimitCounters(named: $0.name)) }
        }
    }

    func closeAll() {
        approximateSync?.stop()
        redis?.close()
        for handler in connections.values {
            handler.closeNow()
        }
        for channel in http2Connections.values {
            channel.close(promise: nil)
        }
        accessLog?.flush()
        for pool in Array(poolsByKey.values) + retiredPools {
            pool.closeAll()
        }
        sweepTask?.cancel()
        dateCache.stop()
    }

    /// Switches this loop to a new snapshot in one step: requests already routed keep the route,
    /// pool and deadlines they hold; the next request on any connection uses the new snapshot.
    func apply(
        _ newSnapshot: Snapshot, resolvedEndpoints newlyResolved: [HostPort: SocketAddress], auth: AuthRuntime = .empty,
        resilience: ResilienceRuntime = .empty, upstreamTLS: [String: UpstreamTLS] = [:]
    ) {
        useAuth(auth)
        self.upstreamTLS = upstreamTLS
        self.resilience = resilience
        resolvedEndpoints.merge(newlyResolved) { _, new in new }
        let previousPools = poolsByKey
        poolsByKey = [:]
        snapshot = newSnapshot
        upstreams = buildUpstreams(for: newSnapshot, reusing: previousPools, previousUpstreams: upstreams)
        requestTimeouts = newSnapshot.routes.map { TimeAmount($0.requestTimeout) }
        routeCaching = newSnapshot.configuration.routes.map { $0.cache.map(RouteCaching.init) }
        cacheIdentity = CacheIdentity(newSnapshot.configuration)
        let policies = CompiledRateLimit.perRoute(newSnapshot.configuration)
        routeRateLimits = alignRateLimits(policies)
        approximateSync?.setInterval(ApproximateSync.interval(for: policies.flatMap { $0 }))
        metrics.align(with: newSnapshot)
        routeMetrics = metrics.routes
        configureAccessLog(for: newSnapshot)
        for (key, pool) in previousPools where poolsByKey[key] == nil {
            pool.retire()
            retiredPools.append(pool)
        }
        retiredPools.removeAll { $0.isUnused }
    }

    /// The counters of this loop, copied, with its open connections and pools.
    func metricsSample() -> MetricsSample {
        var sample = metrics.sample()
        for handler in connections.values {
            sample.openConnections[handler.listenerName, default: 0] += 1
        }
        sample.pools = poolSample()
        return sample
    }

    /// Open connections and requests in flight by endpoint, retired pools included.
    func poolSample() -> [String: MetricsSample.PoolSample] {
        var pools: [String: MetricsSample.PoolSample] = [:]
        for pool in Array(poolsByKey.values) + retiredPools {
            pools[pool.label, default: MetricsSample.PoolSample()].open += pool.openConnections
            pools[pool.label, default: MetricsSample.PoolSample()].active += pool.activeRequests
        }
        return pools
    }

    /// Each upstream's endpoints as this loop sees them (circuit, ejection), by upstream name.
    func endpointStates() -> [String: [EndpointStateSample]] {
        let now = UpstreamRuntime.now()
        var states: [String: [EndpointStateSample]] = [:]
        for upstream in upstreams {
            states[upstream.config.name] = upstream.endpointStates(now: now)
        }
        return states
    }

    func flushAccessLog() {
        accessLog?.flush()
    }

    private func configureAccessLog(for snapshot: Snapshot) {
        if let sink = accessLogSink, snapshot.configuration.logging.accessLog != nil {
            if accessLog == nil {
                accessLog = AccessLogBatch(eventLoop: eventLoop, sink: sink)
            }
        } else {
            accessLog?.flush()
            accessLog = nil
        }
    }

    private func sweep() {
        let now = NIODeadline.now()
        for pool in poolsByKey.values {
            pool.closeExpiredIdle(now: now)
        }
        retiredPools.removeAll { $0.isUnused }
        for handler in connections.values {
            handler.checkTimeouts(now: now)
        }
        if let cache {
            cache.store.reclaimExpired(now: cache.clock())
        }
        rateLimiter?.sweep(now: WallClock.nowMilliseconds())
        approximateLimiter?.sweep(now: WallClock.nowMilliseconds())
    }

    private func buildUpstreams(
        for snapshot: Snapshot, reusing previous: [PoolKey: EndpointPool] = [:],
        previousUpstreams: [UpstreamRuntime] = []
    ) -> [UpstreamRuntime] {
        snapshot.upstreams.enumerated().map { upstreamIndex, upstream in
            let pools = upstream.endpoints.map { endpoint -> EndpointPool in
                let tls = upstreamTLS[upstream.name]
                let key = PoolKey(
                    address: endpoint.address, maxPerEndpoint: upstream.pool.maxPerEndpoint,
                    idleTimeout: upstream.pool.idleTimeout, connectTimeout: upstream.timeouts.connect,
                    tls: upstream.tls, serverName: tls?.serverName(for: endpoint.address),
                    protocolVersion: upstream.protocolVersion)
                if let existing = poolsByKey[key] ?? previous[key] {
                    poolsByKey[key] = existing
                    return existing
                }
                let address = resolvedEndpoints[endpoint.address]
                let pool = EndpointPool(
                    address: address, label: endpoint.address.description, eventLoop: eventLoop,
                    maxConnections: upstream.pool.maxPerEndpoint,
                    idleTimeout: TimeAmount(upstream.pool.idleTimeout),
                    connectTimeout: TimeAmount(upstream.timeouts.connect),
                    tls: tls.map { ($0.context, $0.serverName(for: endpoint.address)) },
                    http2: upstream.protocolVersion != .http1)
                poolsByKey[key] = pool
                return pool
            }
            let resilience = self.resilience
            return UpstreamRuntime(
                config: upstream, pools: pools, metrics: metrics.upstream(named: upstream.name),
                health: upstreamIndex < resilience.health.count ? resilience.health[upstreamIndex] : nil,
                concurrency: upstreamIndex < resilience.upstreamConcurrency.count
                    ? resilience.upstreamConcurrency[upstreamIndex] : nil,
                pending: upstreamIndex < resilience.upstreamPending.count
                    ? resilience.upstreamPending[upstreamIndex] : nil,
                carriedOver: previousUpstreams.first { $0.config.name == upstream.name },
                logger: logger.subsystem(.upstream))
        }
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        self = .nanoseconds(duration.nanoseconds)
    }
}

/// What makes two endpoints share a pool: the same address with the same pool settings (a reload
/// that changes the settings gets a fresh pool; the old one is retired).
private struct PoolKey: Hashable {
    let address: HostPort
    let maxPerEndpoint: Int
    let idleTimeout: Duration
    let connectTimeout: Duration
    /// HTTPS pools are kept across reloads only while their TLS settings stay the same.
    let tls: UpstreamTLSConfig?
    let serverName: String?
    let protocolVersion: UpstreamProtocol
}
