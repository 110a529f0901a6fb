/// The compiled form of a route list: host buckets, each with a path-segment trie.
///
/// Every route is identified by its rank (its position when all routes are sorted from most to least
/// specific, ties in config order), and every list of routes below is sorted by rank, so "the best route of
/// a list that accepts the request" is the first one that does. Nodes live in one array and refer to each
/// other by index, which keeps the whole table a few flat arrays that are cheap to build and share.
struct RouteTable: Sendable {
    struct Node: Sendable {
        /// Skips the edge-table probe for the many leaf nodes.
        var hasLiteralChildren = false
        var parameterChild: Int?
        /// Templates whose last segment is this node: the request must end here.
        var templateRanks: [Int] = []
        /// Prefixes without a trailing `/`: the request reaches this node and may go on.
        var prefixRanks: [Int] = []
        /// Prefixes with a trailing `/`: the request must have at least one more segment.
        var descendantPrefixRanks: [Int] = []
    }

    struct Bucket: Sendable {
        var root: Int
        /// Routes that match every path (no path constraint, or the prefix `/`).
        var everyPathRanks: [Int] = []
    }

    struct Parameter: Sendable {
        /// Index into the request's split path (see `RoutePathPattern`).
        var position: Int
        var name: String
    }

    struct Route: Sendable {
        var index: Int
        var methods: [String]
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
    /// Indexed by rank.
    var routes: [Route] = []
}
