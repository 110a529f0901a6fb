/// A route's path rewrite reduced to "replace this leading part with that": both `strip_prefix`
/// and `replace_prefix` are that operation, so the hot path has one branch, not two.
public struct PathRewrite: Sendable, Equatable {
    public let matchedPrefix: String
    public let replacement: String

    public init(matchedPrefix: String, replacement: String) {
        self.matchedPrefix = matchedPrefix
        self.replacement = replacement
    }

    init?(route: RouteConfig) {
        switch route.rewrite {
        case .none:
            return nil
        case .stripPrefix(let prefix):
            self.init(matchedPrefix: prefix, replacement: "")
        case .replacePrefix(let replacement):
            guard case .prefix(let prefix) = route.match.path else { return nil }
            self.init(matchedPrefix: prefix, replacement: replacement)
        }
    }

    /// Rewrites the path part of a request target, keeping the query as it came.
    /// A target that does not start with the prefix is returned unchanged.
    public func apply(toTarget target: String) -> String {
        let pathEnd = target.utf8.firstIndex(of: UInt8(ascii: "?")) ?? target.endIndex
        let path = target[..<pathEnd]
        guard path.hasPrefix(matchedPrefix) else { return target }
        let afterPrefix = path.dropFirst(matchedPrefix.count)
        // Segment-aware: /v1 must not rewrite /v1x, and /v1 alone becomes / (never an empty path).
        if !matchedPrefix.hasSuffix("/"), let first = afterPrefix.first, first != "/" {
            return target
        }
        var rewritten = replacement
        if replacement.hasSuffix("/") && afterPrefix.hasPrefix("/") {
            rewritten.removeLast()
        } else if matchedPrefix.hasSuffix("/") && !replacement.hasSuffix("/") && !afterPrefix.isEmpty {
            // The slash that ended the prefix still separates segments after the rewrite.
            rewritten += "/"
        }
        rewritten += afterPrefix
        if rewritten.isEmpty || !rewritten.hasPrefix("/") {
            rewritten = "/" + rewritten
        }
        return rewritten + target[pathEnd...]
    }
}
