import GatewayConfig
import Logging

/// The process's tracer and its exporter. One per `GatewayServer` (not swift-distributed-tracing's
/// global `InstrumentationSystem`), so tests can run several gateways in one process.
final class RequestTracer: Sendable {
    let tracer: GatewayTracer
    let counters: TracingCounters
    private let exporter: SpanExporter

    init(_ configuration: TracingConfig, node: NodeConfig, metrics: ProcessMetrics, logger: Logger) {
        let counters = TracingCounters(registry: metrics.registry)
        self.counters = counters
        var resource = [
            ("service.name", configuration.serviceName), ("service.instance.id", node.id),
            ("service.version", GatewayVersion.current), ("telemetry.sdk.name", "gateway"),
            ("telemetry.sdk.language", "swift"),
        ]
        if let region = node.region { resource.append(("cloud.region", region)) }
        exporter = SpanExporter(
            endpoint: configuration.otlpEndpoint, resource: resource, maxQueued: configuration.maxQueuedSpans,
            flushInterval: configuration.flushInterval, exportTimeout: configuration.exportTimeout, counters: counters,
            logger: logger)
        tracer = GatewayTracer(exporter: exporter)
    }

    func start() {
        exporter.start()
    }

    /// Sends what is queued (bounded by the export timeout) and stops the exporter.
    func shutdown() async {
        await exporter.shutdown()
    }
}
