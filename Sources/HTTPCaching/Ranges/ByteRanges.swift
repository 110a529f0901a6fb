/// A `Range: bytes=...` request (RFC 9110 14.2) resolved against a representation's length.
public enum ByteRanges: Sendable, Equatable {
    /// No usable Range: absent, not bytes, malformed, or too many parts. The full
    /// representation is the answer (RFC 9110 14.2 lets a server ignore Range).
    case ignore
    /// The parts to send, in the order asked, overlapping or adjacent ones merged.
    case satisfiable([ClosedRange<Int>])
    /// Every part starts past the end: 416 with `Content-Range: bytes */length`.
    case unsatisfiable

    /// Beyond this many parts the request is answered in full (as nginx's `max_ranges`), which
    /// defeats range amplification.
    public static let maxParts = 16

    public static func parse(_ value: String?, length: Int) -> ByteRanges {
        guard let value else { return .ignore }
        let trimmed = value.trimmingSpaces
        guard trimmed.lowercased().hasPrefix("bytes=") else { return .ignore }
        let specs = trimmed.dropFirst(6).split(separator: ",", omittingEmptySubsequences: false)
        guard specs.count <= maxParts else { return .ignore }
        var ranges: [ClosedRange<Int>] = []
        var sawAny = false
        for spec in specs {
            let part = spec.trimmingSpaces
            if part.isEmpty { continue }
            guard let dash = part.firstIndex(of: "-") else { return .ignore }
            let first = part[..<dash]
            let last = part[part.index(after: dash)...]
            sawAny = true
            if first.isEmpty {
                // Suffix: the last N bytes.
                guard let suffix = digits(last), suffix > 0 else {
                    if digits(last) == 0 { continue }
                    return .ignore
                }
                guard length > 0 else { continue }
                ranges.append(max(0, length - suffix)...(length - 1))
            } else {
                guard let start = digits(first) else { return .ignore }
                var end = length - 1
                if !last.isEmpty {
                    guard let asked = digits(last), asked >= start else { return .ignore }
                    end = min(asked, length - 1)
                }
                guard start < length else { continue }
                ranges.append(start...end)
            }
        }
        guard sawAny else { return .ignore }
        guard !ranges.isEmpty else { return .unsatisfiable }
        return .satisfiable(merge(ranges))
    }

    private static func digits(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.utf8.count <= 18, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        return Int(text)
    }

    /// Overlapping or adjacent parts become one, in ascending order; a client asking for the
    /// same bytes many times gets them once.
    private static func merge(_ ranges: [ClosedRange<Int>]) -> [ClosedRange<Int>] {
        let sorted = ranges.sorted { $0.lowerBound < $1.lowerBound }
        var merged: [ClosedRange<Int>] = []
        for range in sorted {
            if let last = merged.last, range.lowerBound <= last.upperBound + 1 {
                merged[merged.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        return merged
    }
}
