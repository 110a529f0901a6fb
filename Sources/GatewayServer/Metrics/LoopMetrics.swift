import Authentication
import GatewayConfig

/// The counters one event loop keeps. Only its loop touches them, so recording a request is a few
/// plain integer adds, with no lock and no shared cache line (DESIGN.md: share nothing on the hot
/// path). Counters live per name, so a reload that keeps a route or upstream keeps counting it on;
/// a removed one keeps its last values (Prometheus counters must not go back).
final class LoopMetrics {
    /// Requests that failed before a route was chosen (parse errors, no route).
    let unrouted = RouteMetrics(name: "")
    private var routesByName: [String: RouteMetrics] = [:]
    private var upstreamsByName: [String: UpstreamMetrics] = [:]
    /// Aligned with `snapshot.routes`, rebuilt with every snapshot.
    private(set) var routes: [RouteMetrics] = []
    var acceptedConnections = 0
    private var rateLimitsByName: [String: RateLimitCounters] = [:]
    /// Requests authenticated, and refused by reason (indexed like `AuthFailure.allCases`).
    var authSuccesses = 0
    var authFailures = [Int](repeating: 0, count: AuthFailure.allCases.count)
    /// Round trips of this loop's rate-limit calls to Redis (exact decisions and approximate syncs).
    var redisLatency = DurationHistogram()
    var cacheAnalytics = CacheAnalytics()
    var suppressedLogLines = 0

    init(snapshot: Snapshot) {
        align(with: snapshot)
    }

    func align(with snapshot: Snapshot) {
        routes = snapshot.routes.map { route in
            if let existing = routesByName[route.name] { return existing }
            let created = RouteMetrics(name: route.name)
            routesByName[route.name] = created
            return created
        }
    }

    func upstream(named name: String) -> UpstreamMetrics {
        if let existing = upstreamsByName[name] { return existing }
        let created = UpstreamMetrics(name: name)
        upstreamsByName[name] = created
        return created
    }

    func rateLimitCounters(named name: String) -> RateLimitCounters {
        if let existing = rateLimitsByName[name] { return existing }
        let created = RateLimitCounters()
        rateLimitsByName[name] = created
        return created
    }

    func sample() -> MetricsSample {
        var sample = MetricsSample()
        sample.routes[""] = unrouted.sample
        for (name, route) in routesByName {
            sample.routes[name] = route.sample
        }
        for (name, upstream) in upstreamsByName {
            sample.upstreams[name] = upstream.sample
        }
        sample.acceptedConnections = acceptedConnections
        for (name, counters) in rateLimitsByName {
            sample.rateLimits[name] = counters.counts
        }
        sample.redisLatency = redisLatency
        sample.cacheAnalytics = cacheAnalytics
        sample.suppressedLogLines = suppressedLogLines
        sample.authSuccesses = authSuccesses
        sample.authFailures = authFailures
        return sample
    }
}
