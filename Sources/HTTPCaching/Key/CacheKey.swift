/// The primary cache key (RFC 9111 2): the target URI without its scheme (as Varnish keys by
/// Host and URL), with the query reduced as the route says. Variants selected by `Vary` hang off
/// one primary key.
public struct CacheKey: Sendable, Hashable, CustomStringConvertible {
    /// `host/path?query`, host lowercased.
    public let text: String
    /// Computed once: the store hashes a key several times (shard, table, indexes).
    public let hash: Int

    public init(text: String) {
        self.text = text
        self.hash = text.hashValue
    }

    public static func make(host: String?, target: String, query: QueryKeyPolicy) -> CacheKey {
        let questionMark = target.firstIndex(of: "?")
        let path = questionMark.map { target[..<$0] } ?? target[...]
        var text = (host ?? "").lowercased()
        text += path
        if let questionMark {
            let rawQuery = target[target.index(after: questionMark)...]
            if let reduced = query.reduce(rawQuery), !reduced.isEmpty {
                text += "?"
                text += reduced
            }
        }
        return CacheKey(text: text)
    }

    /// The host and path part, for prefix indexes.
    public var hostAndPath: Substring {
        text.firstIndex(of: "?").map { text[..<$0] } ?? text[...]
    }

    public var description: String { text }

    public static func == (lhs: CacheKey, rhs: CacheKey) -> Bool {
        lhs.hash == rhs.hash && lhs.text == rhs.text
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(hash)
    }
}

/// Which query parameters are part of the key.
public enum QueryKeyPolicy: Sendable, Equatable {
    case ignore
    /// The query as sent, order included (some applications care about order).
    case all
    /// Only these parameters (by exact name), sorted by name so their order in the URL does not split the cache.
    case only(Set<String>)

    func reduce(_ query: Substring) -> Substring? {
        switch self {
        case .ignore: return nil
        case .all: return query
        case .only(let names):
            let kept = query.split(separator: "&", omittingEmptySubsequences: true).filter { parameter in
                let name = parameter.firstIndex(of: "=").map { parameter[..<$0] } ?? parameter
                return names.contains(String(name))
            }
            // A stable sort keeps repeated parameters (a=1&a=2) in their order.
            let sorted = kept.enumerated().sorted { lhs, rhs in
                let lhsName = lhs.element.split(separator: "=", maxSplits: 1).first ?? ""
                let rhsName = rhs.element.split(separator: "=", maxSplits: 1).first ?? ""
                return lhsName == rhsName ? lhs.offset < rhs.offset : lhsName < rhsName
            }
            return Substring(sorted.map(\.element).joined(separator: "&"))
        }
    }
}
