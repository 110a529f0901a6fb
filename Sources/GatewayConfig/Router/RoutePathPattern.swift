/// A route's path constraint split into the byte segments the trie is built from.
///
/// Paths are split on every `/`, keeping empty segments and the (normally empty) piece before the first
/// `/`: `/a/` is `["", "a", ""]`. Splitting templates, prefixes and requests the same way makes "the prefix
/// `/v1/users` matches `/v1/users` and `/v1/users/…` but not `/v1/usersX`" a statement about whole segments.
enum RoutePathPattern: Sendable {
    enum TemplateSegment: Sendable {
        case literal([UInt8])
        case parameter(name: String)
    }

    /// No path constraint, or the prefix `/` (or an empty one): both match every path, even `*`.
    case everyPath
    /// A request matches when its segments start with `segments`. A prefix written with a trailing `/` also
    /// needs at least one more segment (`/assets/` matches `/assets/` but not `/assets`).
    case prefix(segments: [[UInt8]], needsMoreSegments: Bool)
    case template([TemplateSegment])

    init(_ path: PathMatch?) {
        switch path {
        case nil:
            self = .everyPath
        case .prefix(let prefix):
            if prefix.isEmpty || prefix == "/" {
                self = .everyPath
                return
            }
            var segments = Self.split(prefix)
            let needsMore = prefix.utf8.last == UInt8(ascii: "/")
            if needsMore {
                // The trailing `/` produced an empty last segment; "one more segment" stands for it.
                segments.removeLast()
            }
            self = .prefix(segments: segments, needsMoreSegments: needsMore)
        case .template(let template):
            self = .template(Self.split(template).map(Self.templateSegment))
        }
    }

    /// Byte-wise, so a `/` followed by a combining mark still splits (a `Character` split would not).
    static func split(_ path: String) -> [[UInt8]] {
        Array(path.utf8).split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).map(Array.init)
    }

    private static func templateSegment(_ bytes: [UInt8]) -> TemplateSegment {
        guard bytes.count >= 2, bytes.first == UInt8(ascii: "{"), bytes.last == UInt8(ascii: "}") else {
            return .literal(bytes)
        }
        return .parameter(name: String(decoding: bytes.dropFirst().dropLast(), as: UTF8.self))
    }
}
