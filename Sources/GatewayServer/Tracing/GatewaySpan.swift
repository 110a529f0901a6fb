import NIOConcurrencyHelpers
import Tracing

/// Attributes as the gateway records them: appended in order, no hashing on the event loop (a
/// `SpanAttributes` dictionary costs a hash and often a copy per key). Later entries win.
typealias SpanFields = [(String, SpanAttribute)]

/// A recorded span. The proxy touches each span from one event loop only, so its lock is never
/// contended; it is there because `Span` must be `Sendable`. Ending it hands the record to the
/// exporter's queue: no task, no thread hop per span.
final class GatewaySpan: Span {
    private struct State {
        var operationName: String
        var fields: SpanFields = []
        var attributes = SpanAttributes()
        var events: [SpanEvent] = []
        var status: SpanStatus?
        var ended = false
    }

    let context: InstrumentationContext
    private let identity: SpanIdentity
    private let parentSpanID: UInt64
    private let kind: SpanKind
    private let startNanoseconds: UInt64
    private let exporter: SpanExporter
    private let state: NIOLockedValueBox<State>

    init(
        name: String, kind: SpanKind, context: InstrumentationContext, identity: SpanIdentity, parentSpanID: UInt64,
        startNanoseconds: UInt64, exporter: SpanExporter
    ) {
        self.context = context
        self.identity = identity
        self.parentSpanID = parentSpanID
        self.kind = kind
        self.startNanoseconds = startNanoseconds
        self.exporter = exporter
        self.state = NIOLockedValueBox(State(operationName: name))
    }

    var operationName: String {
        get { state.withLockedValue { $0.operationName } }
        set { state.withLockedValue { $0.operationName = newValue } }
    }

    /// The recorded fields and attributes as one dictionary (for callers of the `Span` API; the
    /// gateway itself appends `SpanFields`).
    var attributes: SpanAttributes {
        get {
            state.withLockedValue { state in
                var all = state.attributes
                for (key, value) in state.fields { all[key] = value }
                return all
            }
        }
        set {
            state.withLockedValue { state in
                state.fields = []
                state.attributes = newValue
            }
        }
    }

    func record(_ fields: SpanFields) {
        state.withLockedValue { $0.fields += fields }
    }

    var isRecording: Bool { state.withLockedValue { !$0.ended } }

    func setStatus(_ status: SpanStatus) {
        state.withLockedValue { $0.status = status }
    }

    func addEvent(_ event: SpanEvent) {
        state.withLockedValue { $0.events.append(event) }
    }

    func recordError<Instant: TracerInstant>(
        _ error: any Error, attributes: SpanAttributes, at instant: @autoclosure () -> Instant
    ) {
        var attributes = attributes
        attributes["exception.type"] = "\(type(of: error))"
        attributes["exception.message"] = "\(error)"
        addEvent(SpanEvent(name: "exception", at: instant(), attributes: attributes))
    }

    /// Links are not exported (the gateway makes none).
    func addLink(_ link: SpanLink) {}

    func end<Instant: TracerInstant>(at instant: @autoclosure () -> Instant) {
        let end = instant().nanosecondsSinceEpoch
        guard
            let finished = state.withLockedValue({ state -> FinishedSpan? in
                guard !state.ended else { return nil }
                state.ended = true
                return FinishedSpan(
                    identity: identity, parentSpanID: parentSpanID, name: state.operationName, kind: kind,
                    startNanoseconds: startNanoseconds, endNanoseconds: max(end, startNanoseconds),
                    fields: state.fields, attributes: state.attributes, events: state.events, status: state.status)
            })
        else { return }
        exporter.enqueue(finished)
    }
}
