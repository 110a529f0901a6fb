/// A Redis reply (RESP2), as the reader decodes it.
public enum RESPValue: Sendable, Equatable {
    /// `+OK`
    case simpleString(String)
    /// `-ERR ...`: a reply, not a transport failure; callers decide what it means.
    case error(String)
    case integer(Int64)
    /// `$n` bulk string, kept as bytes (binary safe).
    case bulkString([UInt8])
    /// `$-1` / `*-1`
    case null
    case array([RESPValue])

    /// The text of a bulk or simple string.
    public var string: String? {
        switch self {
        case .simpleString(let text): return text
        case .bulkString(let bytes): return String(decoding: bytes, as: UTF8.self)
        default: return nil
        }
    }

    public var integer: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    public var array: [RESPValue]? {
        if case .array(let values) = self { return values }
        return nil
    }

    /// A flat `[name, value, name, value, …]` reply (HGETALL, a stream entry's fields) as pairs of
    /// text; pairs that are not both strings are left out.
    public var stringPairs: [(name: String, value: String)] {
        let flat = array ?? []
        return stride(from: 0, to: flat.count - 1, by: 2).compactMap { index in
            guard let name = flat[index].string, let value = flat[index + 1].string else { return nil }
            return (name, value)
        }
    }
}
