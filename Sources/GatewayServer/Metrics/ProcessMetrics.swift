import NIOConcurrencyHelpers
import Prometheus

/// Process-wide metrics that change rarely (reloads, the access log's drops), kept in a
/// swift-prometheus registry, which also renders them. The CLI bootstraps the global swift-metrics
/// `MetricsSystem` with `factory`, so libraries that report through swift-metrics land on the same
/// `/metrics` page. One instance per server (not the global system), so tests in one process do
/// not share counters.
public final class ProcessMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    public let factory: PrometheusMetricsFactory
    let configGeneration: Gauge
    let reloadSuccesses: Counter
    let reloadFailures: Counter
    let lastReloadSuccessful: Gauge
    let accessLogDroppedLines: Counter
    let cachePurges: Counter
    let cachePurgeDuration: Prometheus.DurationHistogram
    let fleetCommandsApplied: Counter
    let fleetLogGaps: Counter
    let fleetPurgePropagation: Prometheus.DurationHistogram
    let fleetPurgesIncomplete: Counter
    /// What the status page shows about reloads and purges (Prometheus counters cannot be read back).
    let events = NIOLockedValueBox(ProcessEvents())

    public init() {
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        self.factory = PrometheusMetricsFactory(registry: registry)
        configGeneration = registry.makeGauge(
            name: "gateway_config_generation", help: "Generation of the active configuration (1 at start).")
        reloadSuccesses = registry.makeCounter(
            name: "gateway_config_reload_successes_total", help: "Configuration reloads that were applied.")
        reloadFailures = registry.makeCounter(
            name: "gateway_config_reload_failures_total",
            help: "Configuration reloads that were rejected (invalid file, unbindable listener, ...).")
        lastReloadSuccessful = registry.makeGauge(
            name: "gateway_config_last_reload_successful", help: "1 if the last reload was applied, 0 if rejected.")
        accessLogDroppedLines = registry.makeCounter(
            name: "gateway_access_log_dropped_lines_total",
            help: "Access log lines dropped because the writer could not keep up with its buffer.")
        cachePurges = registry.makeCounter(
            name: "gateway_cache_purge_requests_total", help: "Purge targets (URLs, prefixes, tags, all) applied.")
        cachePurgeDuration = registry.makeDurationHistogram(
            name: "gateway_cache_purge_duration_seconds",
            buckets: [.microseconds(100), .milliseconds(1), .milliseconds(10), .milliseconds(100), .seconds(1)],
            help: "Time to apply one purge request to this node's store.")
        fleetCommandsApplied = registry.makeCounter(
            name: "gateway_fleet_commands_applied_total",
            help: "Fleet purges and warms from the Redis log that this node carried out.")
        fleetLogGaps = registry.makeCounter(
            name: "gateway_fleet_log_gaps_total",
            help: "Times this node could not tell which fleet purges it missed and soft-purged its whole cache.")
        fleetPurgePropagation = registry.makeDurationHistogram(
            name: "gateway_fleet_purge_propagation_seconds",
            buckets: [
                .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(50), .milliseconds(100),
                .milliseconds(500), .seconds(1), .seconds(5),
            ],
            help: "Fleet purges published here: time until the last expected node acknowledged.")
        fleetPurgesIncomplete = registry.makeCounter(
            name: "gateway_fleet_purges_incomplete_total",
            help: "Fleet purges published here that some expected node did not acknowledge in time.")
        lastReloadSuccessful.set(Int64(1))
    }

    func reloadSucceeded(generation: Int) {
        events.withLockedValue { $0.reloaded(applied: true, problems: [], generation: generation) }
        configGeneration.set(Int64(generation))
        reloadSuccesses.increment()
        lastReloadSuccessful.set(Int64(1))
    }

    func reloadFailed(problems: [String], generation: Int) {
        events.withLockedValue { $0.reloaded(applied: false, problems: problems, generation: generation) }
        reloadFailures.increment()
        lastReloadSuccessful.set(Int64(0))
    }

    func render() -> String {
        registry.emitToString()
    }
}

/// Reloads and purges since the process started, with the last reload's result.
struct ProcessEvents: Sendable {
    var startedAtMilliseconds = WallClock.nowMilliseconds()
    var reloadsApplied = 0
    var reloadsRejected = 0
    var lastReload: (atMilliseconds: Int64, applied: Bool, generation: Int, problems: [String])?
    var purgeTargets = 0

    mutating func reloaded(applied: Bool, problems: [String], generation: Int) {
        if applied { reloadsApplied += 1 } else { reloadsRejected += 1 }
        lastReload = (WallClock.nowMilliseconds(), applied, generation, problems)
    }
}
