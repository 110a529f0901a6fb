/// W3C Trace Context `traceparent` (`00-<trace id>-<parent id>-<flags>`): the trace id is what
/// ties a log line to a trace in the tracing backend.
enum TraceParent {
    /// The 32 lowercase hex digits of a well-formed header, nil otherwise (or all zeros, which the
    /// spec forbids).
    static func traceID(_ value: String) -> String? {
        let parts = value.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 4, parts[0].count == 2, parts[1].count == 32, parts[2].count == 16,
            parts[1].utf8.allSatisfy(isLowercaseHex), parts[1].utf8.contains(where: { $0 != UInt8(ascii: "0") })
        else { return nil }
        return String(parts[1])
    }

    private static func isLowercaseHex(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
            || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f"))
    }
}
