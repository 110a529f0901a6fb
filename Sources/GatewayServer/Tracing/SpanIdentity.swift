import Tracing

/// A span's W3C Trace Context identity: the 128-bit trace id, its own 64-bit id, the sampled
/// flag and the vendor `tracestate` it carries on.
struct SpanIdentity: Sendable, Equatable {
    let traceHigh: UInt64
    let traceLow: UInt64
    let spanID: UInt64
    let sampled: Bool
    let traceState: String?

    var traceIDHex: String { Self.hex(traceHigh) + Self.hex(traceLow) }
    var spanIDHex: String { Self.hex(spanID) }

    /// `00-<trace id>-<span id>-<flags>`: what a callee receives to continue the trace.
    var traceParent: String {
        "00-\(traceIDHex)-\(spanIDHex)-\(sampled ? "01" : "00")"
    }

    /// The identity of a caller's span named by a well-formed `traceparent`.
    init?(traceParent: TraceParent, traceState: String?) {
        guard let high = UInt64(traceParent.traceID.prefix(16), radix: 16),
            let low = UInt64(traceParent.traceID.suffix(16), radix: 16),
            let span = UInt64(traceParent.parentID, radix: 16)
        else { return nil }
        self.init(traceHigh: high, traceLow: low, spanID: span, sampled: traceParent.sampled, traceState: traceState)
    }

    init(traceHigh: UInt64, traceLow: UInt64, spanID: UInt64, sampled: Bool, traceState: String?) {
        self.traceHigh = traceHigh
        self.traceLow = traceLow
        self.spanID = spanID
        self.sampled = sampled
        self.traceState = traceState
    }

    static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

/// Where a span's identity travels in an `InstrumentationContext` (swift-distributed-tracing's
/// context): from the caller's headers to the server span, from a span to its children.
enum SpanIdentityKey: InstrumentationContextKey {
    typealias Value = SpanIdentity
}

extension InstrumentationContext {
    var spanIdentity: SpanIdentity? {
        get { self[SpanIdentityKey.self] }
        set { self[SpanIdentityKey.self] = newValue }
    }
}
