/// Content codings this cache can produce.
public enum ContentCoding: String, Sendable, CaseIterable {
    case br
    case gzip
}

/// A request's `Accept-Encoding` (RFC 9110 12.5.3) as what it allows of the codings we produce.
public struct AcceptEncoding: Sendable, Equatable {
    /// Quality per coding we know, in thousandths (q=0.8 → 800); absent entries use `wildcard`.
    private var qualities: [String: Int] = [:]
    private var wildcard: Int?
    /// No field at all: any coding is acceptable (12.5.3), but sending one unasked is rude and
    /// breaks naive clients, so the cache only encodes when asked.
    private var isAbsent = true

    public init(_ values: [String]) {
        for value in values {
            for item in value.split(separator: ",") {
                isAbsent = false
                let parts = item.split(separator: ";")
                guard let first = parts.first else { continue }
                let coding = first.trimmingSpaces.lowercased()
                guard !coding.isEmpty else { continue }
                var quality = 1000
                for parameter in parts.dropFirst() {
                    let pair = parameter.split(separator: "=", maxSplits: 1)
                    if pair.count == 2, pair[0].trimmingSpaces.lowercased() == "q" {
                        quality = Self.parseQuality(pair[1].trimmingSpaces) ?? 0
                    }
                }
                if coding == "*" {
                    wildcard = quality
                } else {
                    qualities[coding] = max(quality, qualities[coding] ?? 0)
                }
            }
        }
    }

    /// `0`, `0.5`, `1.000`; anything else is invalid and treated as q=0 (not acceptable), the
    /// safe reading.
    static func parseQuality(_ text: Substring) -> Int? {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, first == UInt8(ascii: "0") || first == UInt8(ascii: "1") else { return nil }
        var value = Int(first - UInt8(ascii: "0")) * 1000
        if bytes.count == 1 { return value }
        guard bytes[1] == UInt8(ascii: "."), bytes.count <= 5 else { return nil }
        var scale = 100
        for byte in bytes[2...] {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value += Int(byte - UInt8(ascii: "0")) * scale
            scale /= 10
        }
        return value <= 1000 ? value : nil
    }

    public func quality(of coding: ContentCoding) -> Int {
        if isAbsent { return 0 }
        return qualities[coding.rawValue] ?? wildcard ?? 0
    }

    /// The client can take the unencoded representation.
    public var acceptsIdentity: Bool {
        if isAbsent { return true }
        if let identity = qualities["identity"] { return identity > 0 }
        if let wildcard { return wildcard > 0 }
        return true
    }

    /// The coding to send among `available`, or nil for identity. Ties prefer br (smaller).
    public func preferred(among available: [ContentCoding]) -> ContentCoding? {
        var best: (coding: ContentCoding, quality: Int)?
        for coding in ContentCoding.allCases where available.contains(coding) {
            let quality = quality(of: coding)
            if quality > 0, quality > best?.quality ?? 0 { best = (coding, quality) }
        }
        return best?.coding
    }

    /// What selects a variant: the codings of ours this request accepts.
    public var preferenceKey: String {
        ContentCoding.allCases.filter { quality(of: $0) > 0 }.map(\.rawValue).joined(separator: ",")
    }
}
