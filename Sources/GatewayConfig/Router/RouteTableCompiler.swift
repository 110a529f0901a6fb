extension RouteTable {
    /// Builds the table in O(total size of the routes) plus one sort; never traps on unvalidated input.
    init(routes configs: [RouteMatchConfig]) {
        let patterns = configs.map { RoutePathPattern($0.path) }
        let specificities = zip(configs, patterns).map { RouteSpecificity(match: $0, pattern: $1) }
        let byRank = configs.indices.sorted { lhs, rhs in
            if specificities[lhs].isMoreSpecific(than: specificities[rhs]) {
                return true
            }
            if specificities[rhs].isMoreSpecific(than: specificities[lhs]) {
                return false
            }
            return lhs < rhs
        }

        var builder = Builder()
        routes.reserveCapacity(configs.count)
        // Inserting in rank order leaves every rank list sorted without a sort per list.
        for (rank, index) in byRank.enumerated() {
            let config = configs[index]
            let pattern = patterns[index]
            routes.append(
                Route(
                    index: index,
                    methods: config.methods.map { Array($0.utf8) },
                    headers: config.headers,
                    parameters: Self.parameters(of: pattern)
                )
            )
            if config.hosts.isEmpty {
                builder.insert(rank: rank, pattern: pattern, bucket: Self.anyHostBucket)
            }
            for host in config.hosts {
                builder.insert(rank: rank, pattern: pattern, bucket: builder.bucket(forHost: host))
            }
        }
        hosts = builder.hosts
        hasWildcardHosts = builder.hasWildcardHosts
        edges = builder.edges
        (nodes, buckets, ranks) = builder.flattened()
    }

    private static func parameters(of pattern: RoutePathPattern) -> [Parameter] {
        guard case .template(let segments) = pattern else {
            return []
        }
        return segments.enumerated().compactMap { position, segment in
            guard case .parameter(let name) = segment else {
                return nil
            }
            return Parameter(position: position, name: name)
        }
    }

    /// The trie with a growable array per rank list, which is convenient to fill and then copied into the
    /// flat form the matcher reads.
    private struct Builder {
        struct Node {
            var hasLiteralChildren = false
            var parameterChild: Int?
            var templateRanks: [Int] = []
            var prefixRanks: [Int] = []
            var descendantPrefixRanks: [Int] = []
        }

        struct Bucket {
            var root: Int
            var everyPathRanks: [Int] = []
        }

        var hosts = RouteByteTable(foldsCase: true)
        var hasWildcardHosts = false
        var edges = RouteByteTable(foldsCase: false)
        var nodes: [Node] = [Node()]
        var buckets: [Bucket] = [Bucket(root: 0)]

        mutating func bucket(forHost host: String) -> Int {
            let (key, isWildcard) = RouteHostName.configured(host)
            if isWildcard {
                hasWildcardHosts = true
            }
            let namespace = isWildcard ? RouteTable.wildcardHostNamespace : RouteTable.exactHostNamespace
            if let bucket = hosts.value(namespace: namespace, key: key) {
                return bucket
            }
            buckets.append(Bucket(root: makeNode()))
            hosts.insert(namespace: namespace, key: key, value: buckets.count - 1)
            return buckets.count - 1
        }

        mutating func insert(rank: Int, pattern: RoutePathPattern, bucket: Int) {
            switch pattern {
            case .everyPath:
                Self.append(rank, to: &buckets[bucket].everyPathRanks)
            case .prefix(let segments, let needsMoreSegments):
                var node = buckets[bucket].root
                for segment in segments {
                    node = literalChild(of: node, segment: segment)
                }
                if needsMoreSegments {
                    Self.append(rank, to: &nodes[node].descendantPrefixRanks)
                } else {
                    Self.append(rank, to: &nodes[node].prefixRanks)
                }
            case .template(let segments):
                var node = buckets[bucket].root
                for segment in segments {
                    switch segment {
                    case .literal(let bytes):
                        node = literalChild(of: node, segment: bytes)
                    case .parameter:
                        node = parameterChild(of: node)
                    }
                }
                Self.append(rank, to: &nodes[node].templateRanks)
            }
        }

        func flattened() -> (nodes: [RouteTable.Node], buckets: [RouteTable.Bucket], ranks: [Int]) {
            var ranks: [Int] = []
            func store(_ list: [Int]) -> Range<Int> {
                ranks.append(contentsOf: list)
                return (ranks.count - list.count)..<ranks.count
            }
            let flatNodes = nodes.map { node in
                RouteTable.Node(
                    hasLiteralChildren: node.hasLiteralChildren,
                    parameterChild: node.parameterChild,
                    templateRanks: store(node.templateRanks),
                    prefixRanks: store(node.prefixRanks),
                    descendantPrefixRanks: store(node.descendantPrefixRanks)
                )
            }
            let flatBuckets = buckets.map { RouteTable.Bucket(root: $0.root, everyPathRanks: store($0.everyPathRanks)) }
            return (flatNodes, flatBuckets, ranks)
        }

        private mutating func makeNode() -> Int {
            nodes.append(Node())
            return nodes.count - 1
        }

        private mutating func literalChild(of node: Int, segment: [UInt8]) -> Int {
            nodes[node].hasLiteralChildren = true
            if let child = edges.value(namespace: node, key: segment) {
                return child
            }
            let child = makeNode()
            edges.insert(namespace: node, key: segment, value: child)
            return child
        }

        private mutating func parameterChild(of node: Int) -> Int {
            if let child = nodes[node].parameterChild {
                return child
            }
            let child = makeNode()
            nodes[node].parameterChild = child
            return child
        }

        /// A route listing the same host twice would otherwise appear twice in one list.
        private static func append(_ rank: Int, to ranks: inout [Int]) {
            if ranks.last != rank {
                ranks.append(rank)
            }
        }
    }
}
