import GatewayConfig
import Logging
import NIOConcurrencyHelpers
import OTel
import ServiceLifecycle
import Tracing

/// The process's tracer: swift-otel's OpenTelemetry backend, exporting batches of finished spans
/// over OTLP/HTTP (binary protobuf) from its own tasks and HTTP client, never on the event loops.
/// One per `GatewayServer` (not swift-distributed-tracing's global `InstrumentationSystem`), so
/// tests can run several gateways in one process.
///
/// Sampling is decided by the proxy per route (`ExchangeTrace`); the backend's own sampler is
/// parent-based always-on, so a span the proxy starts is recorded and its children follow it.
final class RequestTracer: Sendable {
    let tracer: any Tracer
    let counters: TracingCounters
    let configuration: TracingConfig
    private let services: ServiceGroup
    private let runner = NIOLockedValueBox<Task<Void, Never>?>(nil)
    private let logger: Logger

    init(_ configuration: TracingConfig, node: NodeConfig, metrics: ProcessMetrics, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        let counters = TracingCounters(registry: metrics.registry)
        self.counters = counters
        var otel = OTel.Configuration.default
        otel.serviceName = configuration.serviceName
        otel.resourceAttributes = ["service.instance.id": node.id]
        if let region = node.region { otel.resourceAttributes["cloud.region"] = region }
        otel.diagnosticLogger = .custom(
            Logger(label: "gateway.tracing") { _ in TracingDiagnostics(counters: counters, downstream: logger) })
        otel.diagnosticLogLevel = .debug
        otel.propagators = [.traceContext]
        otel.logs.enabled = false
        otel.metrics.enabled = false
        otel.traces.enabled = true
        otel.traces.sampler = .parentBasedAlwaysOn
        otel.traces.exporter = .otlp
        otel.traces.otlpExporter.endpoint = configuration.otlpEndpoint
        otel.traces.otlpExporter.protocol = .httpProtobuf
        otel.traces.otlpExporter.timeout = configuration.exportTimeout
        otel.traces.batchSpanProcessor.scheduleDelay = configuration.flushInterval
        otel.traces.batchSpanProcessor.exportTimeout = configuration.exportTimeout
        otel.traces.batchSpanProcessor.maxQueueSize = configuration.maxQueuedSpans
        otel.traces.batchSpanProcessor.maxExportBatchSize = min(512, configuration.maxQueuedSpans)
        let backend = try OTel.makeTracingBackend(configuration: otel)
        tracer = backend.factory
        // Its own group, without signal handling: the gateway's lifecycle decides when it stops.
        services = ServiceGroup(
            configuration: .init(services: [backend.service], gracefulShutdownSignals: [], logger: logger))
    }

    func start() {
        runner.withLockedValue { runner in
            guard runner == nil else { return }
            let services = services
            let logger = logger
            runner = Task {
                do {
                    try await services.run()
                } catch {
                    logger.error("span export stopped", metadata: ["error": "\(error)"])
                }
            }
        }
    }

    /// Sends what is queued (bounded by the export timeout) and stops the exporter.
    func shutdown() async {
        guard let task = runner.withLockedValue({ $0 }) else { return }
        await services.triggerGracefulShutdown()
        await task.value
    }
}
