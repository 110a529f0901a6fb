/// An entity tag (RFC 9110 8.8.3): `"opaque"` or `W/"opaque"`.
public struct EntityTag: Sendable, Hashable {
    public var opaque: String
    public var isWeak: Bool

    public init(opaque: String, isWeak: Bool) {
        self.opaque = opaque
        self.isWeak = isWeak
    }

    /// nil unless the whole text is one well-formed tag (surrounding whitespace allowed).
    public init?(parsing text: some StringProtocol) {
        guard case .tags(let tags) = EntityTagList.parse(String(text)), tags.count == 1, let tag = tags.first
        else { return nil }
        self = tag
    }

    public var headerValue: String { (isWeak ? "W/\"" : "\"") + opaque + "\"" }

    /// Strong comparison (8.8.3.2): both strong and the same opaque tag. Used for ranges.
    public func strongMatches(_ other: EntityTag) -> Bool {
        !isWeak && !other.isWeak && opaque == other.opaque
    }

    /// Weak comparison: the same opaque tag, weak or not. Used for `If-None-Match`.
    public func weakMatches(_ other: EntityTag) -> Bool {
        opaque == other.opaque
    }
}

/// The value of `If-None-Match` / `If-Match`: `*` or a list of tags.
public enum EntityTagList: Sendable, Equatable {
    case any
    case tags([EntityTag])
    /// Did not parse; callers treat the condition as absent, as the field is then invalid.
    case malformed

    public static func parse(_ values: some Sequence<String>) -> EntityTagList {
        var tags: [EntityTag] = []
        var sawAny = false
        for value in values {
            switch parse(value) {
            case .any: sawAny = true
            case .tags(let more): tags += more
            case .malformed: return .malformed
            }
        }
        if sawAny { return tags.isEmpty ? .any : .malformed }
        return .tags(tags)
    }

    public static func parse(_ value: String) -> EntityTagList {
        let bytes = Array(value.utf8)
        var index = 0
        var tags: [EntityTag] = []
        func skipSpace() {
            while index < bytes.count, bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\t") {
                index += 1
            }
        }
        skipSpace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "*") {
            index += 1
            skipSpace()
            return index == bytes.count ? .any : .malformed
        }
        while index < bytes.count {
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            guard index < bytes.count else { break }
            var isWeak = false
            if bytes[index] == UInt8(ascii: "W"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "/") {
                isWeak = true
                index += 2
            }
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return .malformed }
            index += 1
            let start = index
            // etagc = %x21 / %x23-7E / obs-text: no space, no quote, no control characters.
            while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
                let byte = bytes[index]
                guard byte == 0x21 || (byte >= 0x23 && byte != 0x7F) else { return .malformed }
                index += 1
            }
            guard index < bytes.count else { return .malformed }
            tags.append(EntityTag(opaque: String(decoding: bytes[start..<index], as: UTF8.self), isWeak: isWeak))
            index += 1
            skipSpace()
            guard index == bytes.count || bytes[index] == UInt8(ascii: ",") else { return .malformed }
        }
        return .tags(tags)
    }

    /// `If-None-Match` evaluation (RFC 9110 13.1.2): true when the condition fails, i.e. the
    /// current representation matches and the answer is 304.
    public func matchesForNoneMatch(_ current: EntityTag?) -> Bool {
        switch self {
        case .any: return current != nil
        case .tags(let tags):
            guard let current else { return false }
            return tags.contains { $0.weakMatches(current) }
        case .malformed: return false
        }
    }
}
