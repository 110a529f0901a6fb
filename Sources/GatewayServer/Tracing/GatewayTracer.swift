import NIOConcurrencyHelpers
import Tracing

/// The gateway's swift-distributed-tracing `Tracer`: W3C Trace Context in and out, spans recorded
/// in memory and handed to `SpanExporter` when they end. Sampling is decided by the proxy before a
/// span is started (`ExchangeTrace.decide`), so every span started here is recorded.
final class GatewayTracer: Tracer {
    let exporter: SpanExporter
    /// Span and trace ids: a seeded xoshiro256** behind a lock held for a few nanoseconds, so no
    /// syscall is made per id.
    private let ids = NIOLockedValueBox(RequestIDGenerator())

    init(exporter: SpanExporter) {
        self.exporter = exporter
    }

    func startSpan<Instant: TracerInstant>(
        _ operationName: String, context: @autoclosure () -> InstrumentationContext, ofKind kind: SpanKind,
        at instant: @autoclosure () -> Instant, function: String, file fileID: String, line: UInt
    ) -> GatewaySpan {
        var context = context()
        let parent = context.spanIdentity
        let (high, low, spanID) = ids.withLockedValue { ids in
            (parent == nil ? ids.next64() : 0, parent == nil ? ids.next64() : 0, ids.next64() | 1)
        }
        let identity = SpanIdentity(
            traceHigh: parent?.traceHigh ?? high, traceLow: parent?.traceLow ?? (low | 1), spanID: spanID,
            sampled: true, traceState: parent?.traceState)
        context.spanIdentity = identity
        return GatewaySpan(
            name: operationName, kind: kind, context: context, identity: identity, parentSpanID: parent?.spanID ?? 0,
            startNanoseconds: instant().nanosecondsSinceEpoch, exporter: exporter)
    }

    func forceFlush() {
        exporter.flushSoon()
    }

    /// `traceparent` (and `tracestate`) of the carrier; nothing when it is malformed.
    func extract<Carrier, Extract: Extractor>(
        _ carrier: Carrier, into context: inout InstrumentationContext, using extractor: Extract
    ) where Extract.Carrier == Carrier {
        guard let header = extractor.extract(key: "traceparent", from: carrier), let parent = TraceParent(header),
            let identity = SpanIdentity(
                traceParent: parent, traceState: extractor.extract(key: "tracestate", from: carrier))
        else { return }
        context.spanIdentity = identity
    }

    func inject<Carrier, Inject: Injector>(
        _ context: InstrumentationContext, into carrier: inout Carrier, using injector: Inject
    ) where Inject.Carrier == Carrier {
        guard let identity = context.spanIdentity else { return }
        injector.inject(identity.traceParent, forKey: "traceparent", into: &carrier)
        if let state = identity.traceState, !state.isEmpty {
            injector.inject(state, forKey: "tracestate", into: &carrier)
        }
    }
}
