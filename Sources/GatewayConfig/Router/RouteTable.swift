/// The compiled form of a route list: host buckets, each with a path-segment trie.
///
/// Every route is identified by its rank (its position when all routes are sorted from most to least
/// specific, ties in config order), and every list of routes below is sorted by rank, so "the best route of
/// a list that accepts the request" is the first one that does. Nodes and rank lists live in flat arrays and
/// refer to each other by index: the table is a handful of allocations however many routes it holds, and
/// walking it touches no reference counts.
struct RouteTable: Sendable {
    struct Node: Sendable {
        /// Skips the edge-table probe for the many leaf nodes.
        var hasLiteralChildren = false
        var parameterChild: Int?
        /// Templates whose last segment is this node: the request must end here.
        var templateRanks: Range<Int> = 0..<0
        /// Prefixes without a trailing `/`: the request reaches this node and may go on.
        var prefixRanks: Range<Int> = 0..<0
        /// Prefixes with a trailing `/`: the request must have at least one more segment.
        var descendantPrefixRanks: Range<Int> = 0..<0
    }

    struct Bucket: Sendable {
        var root: Int
        /// Routes that match every path (no path constraint, or the prefix `/`).
        var everyPathRanks: Range<Int> = 0..<0
    }

    struct Parameter: Sendable {
        /// Index into the request's split path (see `RoutePathPattern`).
        var position: Int
        var name: String
    }

    struct Route: Sendable {
        var index: Int
        /// As bytes, to compare with the request's method bytes directly.
        var methods: [[UInt8]]
        var headers: [HeaderMatch]
        var parameters: [Parameter]
    }

    static let anyHostBucket = 0
    static let exactHostNamespace = 0
    static let wildcardHostNamespace = 1

    /// Normalised host (exact) or wildcard suffix including its leading dot → bucket index.
    var hosts = RouteByteTable(foldsCase: true)
    var hasWildcardHosts = false
    /// (parent node, segment bytes) → child node.
    var edges = RouteByteTable(foldsCase: false)
    var nodes: [Node] = []
    var buckets: [Bucket] = []
    /// Every rank list, back to back; nodes and buckets hold ranges into it.
    var ranks: [Int] = []
    /// Indexed by rank.
    var routes: [Route] = []
}
