/// `tracing`: spans exported over OTLP/HTTP. Absent: no spans, and `traceparent` is passed through
/// untouched.
public struct TracingConfig: Sendable, Equatable {
    /// Where batches of spans are POSTed (OTLP/HTTP, binary protobuf), e.g.
    /// `http://127.0.0.1:4318/v1/traces`.
    public var otlpEndpoint: String
    /// Share of requests without a sampled parent that start a trace, 0...1. A route's own
    /// `tracing.sample_ratio` overrides it.
    public var sampleRatio: Double
    /// The `service.name` resource attribute.
    public var serviceName: String
    /// How long finished spans wait before they are sent as a batch.
    public var flushInterval: Duration
    /// A POST to the collector that takes longer fails; its spans are counted as dropped.
    public var exportTimeout: Duration
    /// Finished spans waiting for export; past this they are dropped and counted.
    public var maxQueuedSpans: Int

    public init(
        otlpEndpoint: String, sampleRatio: Double = 1, serviceName: String = "gateway",
        flushInterval: Duration = .seconds(1), exportTimeout: Duration = .seconds(5), maxQueuedSpans: Int = 2048
    ) {
        self.otlpEndpoint = otlpEndpoint
        self.sampleRatio = sampleRatio
        self.serviceName = serviceName
        self.flushInterval = flushInterval
        self.exportTimeout = exportTimeout
        self.maxQueuedSpans = maxQueuedSpans
    }
}

extension TracingConfig {
    /// The settings of the exporter, which a reload cannot change (sample ratios it can).
    public var withoutSampleRatio: TracingConfig {
        var copy = self
        copy.sampleRatio = 0
        return copy
    }
}
