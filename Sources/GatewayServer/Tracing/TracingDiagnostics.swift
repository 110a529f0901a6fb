import Logging
import Prometheus

/// swift-otel reports what happened to spans only in its diagnostic log: a batch exported, a batch
/// that failed (collector down, slow or refusing), spans dropped because the queue was full. This
/// handler receives that log, counts the spans in the gateway's metrics, and passes lines on to
/// the gateway's own log (subsystem `tracing`), whose level decides what is written.
///
/// The messages matched are swift-otel 1.6's (OTelBatchSpanProcessor); TracingIntegrationTests
/// fail if a new version words them differently.
struct TracingDiagnostics: LogHandler {
    let counters: TracingCounters
    let downstream: Logger
    var metadata: Logger.Metadata = [:]
    /// Debug, always: "Exported batch." is a debug line. The downstream logger filters what is written.
    var logLevel: Logger.Level = .debug

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(
        level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?, source: String,
        file: String, function: String, line: UInt
    ) {
        let all = metadata.merging(explicit ?? [:]) { _, new in new }
        let text = message.description
        if text == "Exported batch.", let size = Self.count(all["batch_size"]) {
            counters.exported.increment(by: Int64(size))
        } else if text.hasPrefix("Failed to export batch"), let size = Self.count(all["batch_size"]) {
            counters.exportFailed.increment(by: Int64(size))
        } else if text.hasPrefix("Spans were dropped"), let dropped = Self.count(all["dropped_count"]) {
            counters.queueFull.increment(by: Int64(dropped))
        }
        // swift-otel's debug and trace lines (and AsyncHTTPClient's, which shares this logger) are
        // for its developers; info and above reach the gateway's log at the subsystem's level.
        guard level >= .info else { return }
        downstream.log(level: level, message, metadata: all, source: source, file: file, function: function, line: line)
    }

    private static func count(_ value: Logger.Metadata.Value?) -> Int? {
        guard case .string(let text)? = value else { return nil }
        return Int(text)
    }
}

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
