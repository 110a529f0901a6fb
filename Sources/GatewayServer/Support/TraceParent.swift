/// W3C Trace Context `traceparent` (`00-<trace id>-<parent id>-<flags>`): the trace id is what
/// ties a log line to a trace in the tracing backend.
struct TraceParent: Equatable {
    /// 32 lowercase hex digits.
    let traceID: String
    /// 16 lowercase hex digits: the caller's span.
    let parentID: String
    /// Flag bit 0: the caller records this trace.
    let sampled: Bool

    /// A well-formed header (W3C Trace Context level 1, 3.2), nil otherwise. All-zero ids and
    /// version ff are invalid; a later version may add fields after the flags.
    init?(_ value: String) {
        let parts = value.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 4, parts[0].count == 2, parts[1].count == 32, parts[2].count == 16, parts[3].count == 2,
            parts[0] != "ff", parts[0].utf8.allSatisfy(Self.isLowercaseHex),
            parts[1].utf8.allSatisfy(Self.isLowercaseHex), parts[2].utf8.allSatisfy(Self.isLowercaseHex),
            parts[1].utf8.contains(where: { $0 != UInt8(ascii: "0") }),
            parts[2].utf8.contains(where: { $0 != UInt8(ascii: "0") }),
            let flags = UInt8(parts[3], radix: 16), parts[3].utf8.allSatisfy(Self.isLowercaseHex)
        else { return nil }
        // Version 00 has exactly four fields.
        if parts[0] == "00" && parts.count != 4 { return nil }
        traceID = String(parts[1])
        parentID = String(parts[2])
        sampled = flags & 1 == 1
    }

    /// The trace id of a well-formed header.
    static func traceID(_ value: String) -> String? {
        TraceParent(value)?.traceID
    }

    private static func isLowercaseHex(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
            || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f"))
    }
}
