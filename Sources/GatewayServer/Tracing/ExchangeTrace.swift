import Tracing

/// The trace of one exchange: whether it is recorded, its server span, the client span of the
/// current upstream attempt, and the `traceparent` the upstream receives. Lives on the exchange's
/// event loop. Only made when `tracing` is configured.
final class ExchangeTrace {
    enum Decision: Equatable {
        /// Spans are recorded: children of the caller's span, or a new trace.
        case record(parent: TraceParent?)
        /// The caller's `traceparent` goes on unchanged and nothing is recorded: the caller did not
        /// sample, or the route's ratio is 0 (tracing off for it, as Envoy's overall_sampling 0).
        case passThrough(TraceParent)
        /// A new trace that is not recorded; the upstream still gets an id to log and pass on.
        case unsampledRoot
    }

    /// Parent-based ratio sampling: a caller's decision is followed; without a (well-formed) caller
    /// `traceparent`, `draw` (uniform random) below `ratio` of the range starts a recorded trace.
    static func decide(parent: TraceParent?, ratio: Double, draw: UInt64) -> Decision {
        if let parent {
            return parent.sampled && ratio > 0 ? .record(parent: parent) : .passThrough(parent)
        }
        let recorded = ratio >= 1 || (ratio > 0 && Double(draw) < ratio * Double(UInt64.max))
        return recorded ? .record(parent: nil) : .unsampledRoot
    }

    let traceID: String
    /// What the upstream receives in place of the client's `traceparent`; nil when the client's
    /// goes on unchanged. Changes with each attempt (its span id is the attempt's client span).
    private(set) var upstreamTraceParent: String?
    /// A new trace drops the client's `tracestate` too: it belonged to the trace it replaces.
    let dropsTraceState: Bool
    private let tracer: RequestTracer
    private var serverSpan: GatewaySpan?
    private var clientSpan: GatewaySpan?
    /// The current attempt's response status, once its head arrived (its span ends with the body).
    private var attemptStatus: Int?
    private var attempts = 0
    private var incomplete = false

    var isRecorded: Bool { serverSpan != nil }

    init(
        _ decision: Decision, traceState: String?, tracer: RequestTracer, ids: inout RequestIDGenerator,
        name: String, fields: SpanFields
    ) {
        self.tracer = tracer
        switch decision {
        case .passThrough(let parent):
            traceID = parent.traceID
            dropsTraceState = false
        case .unsampledRoot:
            // Low bits set: no id is all zeros, which W3C forbids.
            let identity = SpanIdentity(
                traceHigh: ids.next64() | 1, traceLow: ids.next64() | 1, spanID: ids.next64() | 1, sampled: false,
                traceState: nil)
            traceID = identity.traceIDHex
            upstreamTraceParent = identity.traceParent
            dropsTraceState = true
        case .record(let parent):
            // The caller's header is parsed already: its identity goes into the context directly.
            var context = ServiceContext.topLevel
            if let parent {
                context.spanIdentity = SpanIdentity(traceParent: parent, traceState: traceState)
            }
            let span = tracer.tracer.startSpan(name, context: context, ofKind: .server)
            span.record(fields)
            tracer.counters.started.increment()
            serverSpan = span
            traceID = span.context.spanIdentity?.traceIDHex ?? parent?.traceID ?? ""
            upstreamTraceParent = span.context.spanIdentity?.traceParent
            dropsTraceState = parent == nil
        }
    }

    /// A client span for an attempt at `endpoint`; the upstream's `traceparent` names it.
    func beginAttempt(method: String, upstream: String, endpoint: String) {
        guard let serverSpan else { return }
        finishAttempt(status: nil, error: attemptStatus == nil ? "abandoned" : nil)
        attempts += 1
        let span = tracer.tracer.startSpan(method, context: serverSpan.context, ofKind: .client)
        let (address, port) = Self.split(endpoint)
        var fields: SpanFields = [
            ("http.request.method", .string(method)), ("gateway.upstream", .string(upstream)),
            ("server.address", .string(address)),
        ]
        if let port { fields.append(("server.port", .int64(Int64(port)))) }
        if attempts > 1 { fields.append(("http.request.resend_count", .int64(Int64(attempts - 1)))) }
        span.record(fields)
        tracer.counters.started.increment()
        clientSpan = span
        upstreamTraceParent = span.context.spanIdentity?.traceParent ?? upstreamTraceParent
    }

    /// The attempt's response head arrived; its span stays open for the body.
    func attemptResponded(status: Int) {
        attemptStatus = status
    }

    /// Ends the attempt's client span with the upstream's status, or the error that ended it.
    func finishAttempt(status: Int?, error: String?) {
        guard let span = clientSpan else { return }
        clientSpan = nil
        let status = status ?? attemptStatus
        attemptStatus = nil
        var fields: SpanFields = []
        if let status { fields.append(("http.response.status_code", .int64(Int64(status)))) }
        if let error { fields.append(("error.type", .string(error))) }
        span.record(fields)
        if error != nil || (status ?? 0) >= 500 { span.setStatus(SpanStatus(code: .error)) }
        span.end()
    }

    /// The upstream broke off a response whose head the client already has: the attempt failed,
    /// and so did the exchange, whatever its status code says.
    func responseBrokeOff() {
        finishAttempt(status: nil, error: "reset")
        incomplete = true
    }

    /// Ends the server span (and an attempt still open) once the response is complete.
    func finish(status: Int, fields extra: SpanFields) {
        // An attempt still open without a response head never got one: the client left, or the
        // request was refused while it waited for a connection.
        finishAttempt(status: nil, error: attemptStatus == nil ? "abandoned" : nil)
        guard let span = serverSpan else { return }
        serverSpan = nil
        var fields: SpanFields = [("http.response.status_code", .int64(Int64(status)))]
        if incomplete { fields.append(("error.type", .string("response_incomplete"))) }
        span.record(fields + extra)
        // Server spans: 5xx is the server's failure, 4xx the client's (OTel HTTP semantic conventions).
        if status >= 500 || status == 0 || incomplete { span.setStatus(SpanStatus(code: .error)) }
        span.end()
    }

    private static func split(_ endpoint: String) -> (String, Int?) {
        guard let colon = endpoint.lastIndex(of: ":"), let port = Int(endpoint[endpoint.index(after: colon)...])
        else { return (endpoint, nil) }
        var host = endpoint[..<colon]
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        return (String(host), port)
    }
}
