import GatewayConfig
import Logging
import NIOCore
import Resilience

/// One upstream as seen by one event loop: its endpoint pools and balancer position, and the
/// loop's circuit breakers, outlier detection and retry budget for it. Lives outside the snapshot
/// (runtime state) and is only touched on its loop, so none of it needs a lock. Breakers are per
/// loop, like nginx's `max_fails` without a shared zone: each loop learns of a failing endpoint
/// from its own traffic, so with N loops an endpoint may see up to N × the threshold of failures
/// before every loop stops sending to it.
final class UpstreamRuntime {
    let config: UpstreamConfig
    let pools: [EndpointPool]
    private var balancer: EndpointBalancer
    /// What consistent hashing keys on; nil for the other strategies (no key is computed then).
    let hashSource: HashSource?
    /// Converted once: a `Duration` to `TimeAmount` conversion is 128-bit arithmetic.
    let responseHeaderTimeout: TimeAmount
    let metrics: UpstreamMetrics
    /// Index-aligned with `pools`; nil without `health_check`.
    let health: [EndpointHealth]?
    /// Index-aligned with `pools`; empty without `circuit_breaker`.
    private(set) var breakers: [CircuitBreaker]
    private(set) var outliers: OutlierDetector?
    private var retryBudget: RetryBudget
    let backoff: Backoff
    let concurrency: Bulkhead?
    let pending: Bulkhead?
    private let logger: Logger
    /// Whether anything can take an endpoint out of rotation; if not, picking skips the checks.
    private let guardsEndpoints: Bool
    /// Whether retries may follow an attempt that reached the upstream: only those are charged to
    /// the budget (so only then are requests counted for it) and only they need the body kept.
    let retriesAfterSending: Bool

    init(
        config: UpstreamConfig, pools: [EndpointPool], metrics: UpstreamMetrics, health: [EndpointHealth]? = nil,
        concurrency: Bulkhead? = nil, pending: Bulkhead? = nil, carriedOver previous: UpstreamRuntime? = nil,
        logger: Logger = Logger(label: "gateway")
    ) {
        self.config = config
        self.pools = pools
        self.metrics = metrics
        self.balancer = EndpointBalancer(config: config)
        self.responseHeaderTimeout = TimeAmount(config.retries.perTryTimeout ?? config.timeouts.responseHeader)
        if case .consistentHash(let source) = config.balance {
            self.hashSource = source
        } else {
            self.hashSource = nil
        }
        self.health = health
        self.concurrency = concurrency
        self.pending = pending
        self.logger = logger
        if let breakerConfig = config.circuitBreaker {
            // A reload that keeps an endpoint and the breaker's settings keeps what it learned.
            let carried = previous?.config.circuitBreaker == breakerConfig ? previous : nil
            self.breakers = config.endpoints.map { endpoint in
                if let carried,
                    let old = carried.config.endpoints.firstIndex(where: { $0.address == endpoint.address }),
                    old < carried.breakers.count
                {
                    return carried.breakers[old].carriedOver()
                }
                return CircuitBreaker(settings: Self.settings(breakerConfig))
            }
        } else {
            self.breakers = []
        }
        self.outliers = config.outlier.map {
            OutlierDetector(
                endpoints: config.endpoints.count,
                settings: .init(
                    consecutiveFailures: $0.consecutive5xx, ejectForNanoseconds: $0.ejectFor.nanoseconds,
                    maxEjectForNanoseconds: $0.maxEjectFor.nanoseconds, maxEjectedPercent: $0.maxEjectedPercent))
        }
        self.retryBudget = RetryBudget(percent: Double(config.retries.budgetPercent))
        self.backoff = Backoff(
            baseNanoseconds: config.retries.backoff.nanoseconds, capNanoseconds: config.retries.maxBackoff.nanoseconds)
        self.guardsEndpoints = health != nil || config.circuitBreaker != nil || config.outlier != nil
        var afterSending = config.retries.on
        afterSending.connectFailure = false
        self.retriesAfterSending = config.retries.attempts > 0 && afterSending != FailureConditions()
    }

    /// The clock breakers, outlier detection and budgets run on: monotonic nanoseconds.
    static func now() -> Int64 {
        Int64(truncatingIfNeeded: NIODeadline.now().uptimeNanoseconds)
    }

    private static func settings(_ config: CircuitBreakerConfig) -> CircuitBreaker.Settings {
        CircuitBreaker.Settings(
            consecutiveFailures: config.consecutiveFailures, errorRatio: config.errorRatio,
            minRequests: config.minRequests, windowNanoseconds: config.window.nanoseconds,
            openForNanoseconds: config.openFor.nanoseconds, maxOpenForNanoseconds: config.maxOpenFor.nanoseconds,
            halfOpenRequests: config.halfOpenRequests)
    }

    /// Whether an endpoint may take a request now: healthy by the checks, circuit not refusing,
    /// not ejected.
    func isEligible(_ index: Int, now: Int64) -> Bool {
        if let health, index < health.count, !health[index].isUp { return false }
        if index < breakers.count, !breakers[index].isAvailable(now: now) { return false }
        if let outliers, outliers.isEjected(index, now: now) { return false }
        return true
    }

    /// The endpoint for the next attempt, skipping those `tried` and those out of rotation; nil
    /// when none is left.
    func pickEndpoint(hashKey: UInt64?, excluding tried: TriedEndpoints, now: Int64) -> Int? {
        let pools = self.pools
        if !guardsEndpoints && tried.isEmpty {
            return balancer.pick(hashKey: hashKey, activeRequests: { pools[$0].activeRequests }, isEligible: nil)
        }
        return balancer.pick(
            hashKey: hashKey, activeRequests: { pools[$0].activeRequests },
            isEligible: { !tried.contains($0) && self.isEligible($0, now: now) })
    }

    /// An attempt goes to `index`: a half-open breaker counts it as one of its probes.
    func beginAttempt(_ index: Int, now: Int64) {
        guard index < breakers.count else { return }
        let (_, transition) = breakers[index].allowRequest(now: now)
        if let transition { note(transition, endpoint: index) }
    }

    /// Feeds the attempt's outcome to the endpoint's breaker and to outlier detection.
    func record(_ outcome: AttemptOutcome, endpoint index: Int, now: Int64) {
        if index < breakers.count, let on = config.circuitBreaker?.on {
            if let transition = breakers[index].record(success: !outcome.matches(on), now: now) {
                note(transition, endpoint: index)
            }
        }
        if outliers != nil, outliers?.record(index, failure: outcome.isOutlierFailure, now: now) == true {
            metrics.sample.ejections += 1
            logger.warning(
                "endpoint ejected by outlier detection",
                metadata: ["upstream": "\(config.name)", "endpoint": "\(pools[index].label)"])
        }
    }

    /// The attempt ended without an outcome (client gone, gateway answered): its probe slot, if it
    /// held one, goes back.
    func abandonAttempt(_ index: Int) {
        if index < breakers.count { breakers[index].abandon() }
    }

    /// A request (not a retry) to this upstream, for the retry budget.
    func recordRequest(now: Int64) {
        retryBudget.recordRequest(now: now)
    }

    /// Whether the budget has room for a retry after `outcome`, charging it if so. A connection
    /// that could not be made carried no request, so retrying it adds no load to the upstream and
    /// is not charged (it is still counted as a retry).
    func withdrawRetry(after outcome: AttemptOutcome, now: Int64) -> Bool {
        if outcome == .connectFailure || retryBudget.withdraw(now: now) {
            metrics.sample.retries += 1
            return true
        }
        metrics.sample.retryBudgetExhausted += 1
        return false
    }

    private func note(_ transition: CircuitBreaker.Transition, endpoint index: Int) {
        let metadata: Logger.Metadata = ["upstream": "\(config.name)", "endpoint": "\(pools[index].label)"]
        switch transition {
        case .opened(let trips):
            metrics.sample.circuitOpened += 1
            logger.warning("circuit opened", metadata: metadata.merging(["trips": "\(trips)"]) { $1 })
        case .halfOpened:
            metrics.sample.circuitHalfOpened += 1
            logger.info("circuit half-open, probing", metadata: metadata)
        case .closed:
            metrics.sample.circuitClosed += 1
            logger.notice("circuit closed", metadata: metadata)
        }
    }

    /// Each endpoint's state on this loop, for the admin view and the gauges.
    func endpointStates(now: Int64) -> [EndpointStateSample] {
        pools.indices.map { index in
            var state = EndpointStateSample()
            if index < breakers.count {
                switch breakers[index].state {
                case .closed: state.circuit = .closed
                case .open(let until, _): state.circuit = now >= until ? .halfOpen : .open
                case .halfOpen: state.circuit = .halfOpen
                }
            }
            state.ejected = outliers?.isEjected(index, now: now) ?? false
            return state
        }
    }
}

/// One endpoint's circuit and ejection as one loop sees them.
struct EndpointStateSample: Sendable, Equatable {
    enum Circuit: Int, Sendable, Comparable {
        case closed = 0
        case halfOpen = 1
        case open = 2

        static func < (lhs: Circuit, rhs: Circuit) -> Bool { lhs.rawValue < rhs.rawValue }

        var label: String {
            switch self {
            case .closed: "closed"
            case .halfOpen: "half_open"
            case .open: "open"
            }
        }
    }

    /// nil without a circuit breaker.
    var circuit: Circuit?
    var ejected = false

    /// The worst of two loops' views: what an operator should be told.
    func merged(with other: EndpointStateSample) -> EndpointStateSample {
        var result = self
        if let theirs = other.circuit { result.circuit = max(circuit ?? theirs, theirs) }
        result.ejected = ejected || other.ejected
        return result
    }
}

extension Duration {
    /// Saturating: the config accepts durations (centuries) whose nanoseconds overflow Int64.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return seconds < 0 ? .min : .max }
        let (total, carried) = scaled.addingReportingOverflow(attoseconds / 1_000_000_000)
        return carried ? .max : total
    }
}
