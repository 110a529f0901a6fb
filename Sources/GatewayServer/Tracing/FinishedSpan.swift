import Tracing

/// What is exported of a span once it ended.
struct FinishedSpan: Sendable {
    let identity: SpanIdentity
    /// 0: a root span.
    let parentSpanID: UInt64
    let name: String
    let kind: SpanKind
    let startNanoseconds: UInt64
    let endNanoseconds: UInt64
    let fields: SpanFields
    let attributes: SpanAttributes
    let events: [SpanEvent]
    let status: SpanStatus?
}
