/// How specific a route is apart from its host, computed once at init.
///
/// Host specificity depends on which of a route's hosts matched the request, so it is decided at match
/// time by the order in which host buckets are searched; everything else is fixed per route, and routes
/// are sorted by it once so that matching compares plain integers (ranks).
struct RouteSpecificity: Sendable {
    private enum PathClass: Int, Comparable {
        case none = 0
        case prefix = 1
        case parameterTemplate = 2
        case exact = 3

        static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    private let pathClass: PathClass
    private let prefixLength: Int
    private let literalCount: Int
    /// Bit i (from the most significant bit of word 0) set when template segment i is literal, so comparing
    /// the words lexicographically prefers the template whose first differing segment is literal.
    private let literalMask: [UInt64]
    private let hasMethods: Bool
    private let headerCount: Int

    init(match: RouteMatchConfig, pattern: RoutePathPattern) {
        var pathClass = PathClass.none
        var prefixLength = 0
        var literalCount = 0
        var literalMask: [UInt64] = []
        switch match.path {
        case nil:
            break
        case .prefix(let prefix):
            pathClass = .prefix
            prefixLength = prefix.utf8.count
        case .template:
            if case .template(let segments) = pattern {
                literalMask = Array(repeating: 0, count: (segments.count + 63) / 64)
                for (position, segment) in segments.enumerated() {
                    if case .literal = segment {
                        literalCount += 1
                        literalMask[position / 64] |= 1 << UInt64(63 - position % 64)
                    }
                }
                pathClass = literalCount == segments.count ? .exact : .parameterTemplate
            }
        }
        self.pathClass = pathClass
        self.prefixLength = prefixLength
        self.literalCount = literalCount
        self.literalMask = literalMask
        self.hasMethods = !match.methods.isEmpty
        self.headerCount = match.headers.count
    }

    /// A strict weak order (a lexicographic key), as sorting requires; equal routes fall back to config order.
    func isMoreSpecific(than other: RouteSpecificity) -> Bool {
        if pathClass != other.pathClass {
            return pathClass > other.pathClass
        }
        if literalCount != other.literalCount {
            return literalCount > other.literalCount
        }
        // Templates that can match the same path have the same segment count, hence equally long masks;
        // the length check only keeps the order total for those that cannot.
        if literalMask.count != other.literalMask.count {
            return literalMask.count > other.literalMask.count
        }
        for (mine, theirs) in zip(literalMask, other.literalMask) where mine != theirs {
            return mine > theirs
        }
        if prefixLength != other.prefixLength {
            return prefixLength > other.prefixLength
        }
        if hasMethods != other.hasMethods {
            return hasMethods
        }
        return headerCount > other.headerCount
    }
}
