import Prometheus

/// What happened to the spans this process made.
struct TracingCounters: Sendable {
    let started: Counter
    let exported: Counter
    let exportFailed: Counter
    let queueFull: Counter

    init(registry: PrometheusCollectorRegistry) {
        started = registry.makeCounter(
            name: "gateway_tracing_spans_started_total", help: "Sampled spans started (server and client).")
        exported = registry.makeCounter(
            name: "gateway_tracing_spans_exported_total", help: "Spans the OTLP collector accepted.")
        let droppedHelp = "Spans dropped: the collector failed or timed out, or the export queue was full."
        exportFailed = registry.makeCounter(
            name: "gateway_tracing_spans_dropped_total", labels: [("reason", "export_failed")], help: droppedHelp)
        queueFull = registry.makeCounter(
            name: "gateway_tracing_spans_dropped_total", labels: [("reason", "queue_full")], help: droppedHelp)
    }
}
