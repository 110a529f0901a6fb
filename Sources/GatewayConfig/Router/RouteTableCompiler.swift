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

        buckets = [Bucket(root: makeNode())]
        routes.reserveCapacity(configs.count)
        // Inserting in rank order leaves every rank list sorted without a sort per list.
        for (rank, index) in byRank.enumerated() {
            let config = configs[index]
            let pattern = patterns[index]
            routes.append(
                Route(
                    index: index,
                    methods: config.methods,
                    headers: config.headers,
                    parameters: Self.parameters(of: pattern)
                )
            )
            if config.hosts.isEmpty {
                insert(rank: rank, pattern: pattern, bucket: Self.anyHostBucket)
            }
            for host in config.hosts {
                insert(rank: rank, pattern: pattern, bucket: bucket(forHost: host))
            }
        }
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

    private mutating func makeNode() -> Int {
        nodes.append(Node())
        return nodes.count - 1
    }

    private mutating func bucket(forHost host: String) -> Int {
        let (key, isWildcard) = RouteHostName.configured(host)
        if isWildcard {
            hasWildcardHosts = true
        }
        let namespace = isWildcard ? Self.wildcardHostNamespace : Self.exactHostNamespace
        if let bucket = hosts.value(namespace: namespace, key: key) {
            return bucket
        }
        buckets.append(Bucket(root: makeNode()))
        hosts.insert(namespace: namespace, key: key, value: buckets.count - 1)
        return buckets.count - 1
    }

    private mutating func insert(rank: Int, pattern: RoutePathPattern, bucket: Int) {
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
