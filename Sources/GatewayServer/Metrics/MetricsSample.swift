import Authentication

/// A copy of the data-plane counters, taken on each loop and merged for a scrape.
struct MetricsSample: Sendable, Equatable {
    var routes: [String: RouteMetrics.Sample] = [:]
    var upstreams: [String: UpstreamMetrics.Sample] = [:]
    var acceptedConnections = 0
    /// Open downstream connections by listener name.
    var openConnections: [String: Int] = [:]
    /// Upstream pools by endpoint (`host:port`).
    var pools: [String: PoolSample] = [:]
    /// Rate-limit decisions by policy name.
    var rateLimits: [String: RateLimitCounts] = [:]
    var redisLatency = DurationHistogram()
    var cacheAnalytics = CacheAnalytics()
    var suppressedLogLines = 0
    var authSuccesses = 0
    var authFailures = [Int](repeating: 0, count: AuthFailure.allCases.count)

    struct RateLimitCounts: Sendable, Equatable {
        var allowed = 0
        var limited = 0
        /// Decisions Redis could not make (the policy's on_redis_error applied).
        var redisErrors = 0

        mutating func merge(_ other: RateLimitCounts) {
            allowed += other.allowed
            limited += other.limited
            redisErrors += other.redisErrors
        }
    }

    struct PoolSample: Sendable, Equatable {
        var open = 0
        var active = 0
    }

    mutating func merge(_ other: MetricsSample) {
        for (name, route) in other.routes {
            routes[name, default: RouteMetrics.Sample()].merge(route)
        }
        for (name, upstream) in other.upstreams {
            upstreams[name, default: UpstreamMetrics.Sample()].merge(upstream)
        }
        acceptedConnections += other.acceptedConnections
        openConnections.merge(other.openConnections, uniquingKeysWith: +)
        redisLatency.merge(other.redisLatency)
        cacheAnalytics.merge(other.cacheAnalytics)
        suppressedLogLines += other.suppressedLogLines
        authSuccesses += other.authSuccesses
        for index in authFailures.indices where index < other.authFailures.count {
            authFailures[index] += other.authFailures[index]
        }
        for (policy, counts) in other.rateLimits {
            rateLimits[policy, default: RateLimitCounts()].merge(counts)
        }
        for (endpoint, pool) in other.pools {
            pools[endpoint, default: PoolSample()].open += pool.open
            pools[endpoint, default: PoolSample()].active += pool.active
        }
    }
}
