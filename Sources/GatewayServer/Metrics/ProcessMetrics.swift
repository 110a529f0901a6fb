import CoreMetrics
import Prometheus

/// Process-wide metrics that change rarely (reloads, the access log's drops), kept through the
/// swift-metrics API in a swift-prometheus registry. The CLI also bootstraps the global
/// `MetricsSystem` with `factory`, so libraries that report through swift-metrics land on the same
/// `/metrics` page. One instance per server (not the global system), so tests in one process do
/// not share counters.
public final class ProcessMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    public let factory: PrometheusMetricsFactory
    let configGeneration: CoreMetrics.Gauge
    let reloadSuccesses: CoreMetrics.Counter
    let reloadFailures: CoreMetrics.Counter
    let lastReloadSuccessful: CoreMetrics.Gauge
    let accessLogDroppedLines: CoreMetrics.Counter

    public init() {
        let registry = PrometheusCollectorRegistry()
        let factory = PrometheusMetricsFactory(registry: registry)
        self.registry = registry
        self.factory = factory
        configGeneration = CoreMetrics.Gauge(label: "gateway_config_generation", factory: factory)
        reloadSuccesses = CoreMetrics.Counter(label: "gateway_config_reload_successes_total", factory: factory)
        reloadFailures = CoreMetrics.Counter(label: "gateway_config_reload_failures_total", factory: factory)
        lastReloadSuccessful = CoreMetrics.Gauge(label: "gateway_config_last_reload_successful", factory: factory)
        accessLogDroppedLines = CoreMetrics.Counter(
            label: "gateway_access_log_dropped_lines_total", factory: factory)
        lastReloadSuccessful.record(1)
        // Created at zero so that alerts on increase() see the series before the first failure.
        reloadFailures.increment(by: 0)
        reloadSuccesses.increment(by: 0)
        accessLogDroppedLines.increment(by: 0)
    }

    func reloadSucceeded(generation: Int) {
        configGeneration.record(generation)
        reloadSuccesses.increment()
        lastReloadSuccessful.record(1)
    }

    func reloadFailed() {
        reloadFailures.increment()
        lastReloadSuccessful.record(0)
    }

    func render() -> String {
        registry.emitToString()
    }
}
