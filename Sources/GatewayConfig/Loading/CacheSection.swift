import Yams

extension ConfigReader {
    static let cacheKeys = ["memory", "max_object", "eviction", "targeted_header", "coalesce_timeout", "compression"]
    static let routeCacheKeys = [
        "default_ttl", "max_ttl", "stale_while_revalidate", "stale_if_error", "key", "add_etag", "ignore_set_cookie",
    ]

    /// `cache: { memory, max_object, eviction, targeted_header, coalesce_timeout }`.
    mutating func readCache(_ entry: Entry) -> CacheConfig {
        var cache = CacheConfig()
        guard let s = section(entry, .cache, context: "in 'cache'", keys: Self.cacheKeys) else { return cache }
        if let memoryEntry = s["memory"], let memory = size(memoryEntry) {
            if memory < 1024 * 1024 {
                error(memoryEntry.line, "'memory' must be at least 1MiB, got \(memory) bytes")
            } else {
                cache.memoryBytes = memory
            }
        }
        if let maxEntry = s["max_object"], let maxObject = size(maxEntry) {
            if maxObject == 0 {
                error(maxEntry.line, "'max_object' must be greater than 0")
            } else if maxObject > cache.memoryBytes / 16 {
                // The store is split into 16 shards with equal shares; an object must fit one.
                error(
                    maxEntry.line,
                    "'max_object' must be at most memory / 16 (\(cache.memoryBytes / 16) bytes), got \(maxObject) bytes"
                )
            } else {
                cache.maxObjectBytes = maxObject
            }
        } else {
            cache.maxObjectBytes = min(cache.maxObjectBytes, cache.memoryBytes / 16)
        }
        if let evictionEntry = s["eviction"],
            let eviction = choice(evictionEntry.value, CacheConfig.Eviction.allCases.map(\.rawValue))
        {
            cache.eviction = CacheConfig.Eviction(rawValue: eviction) ?? .s3fifo
        }
        if let headerEntry = s["targeted_header"], let header = name(headerEntry) {
            if HTTPSyntax.isToken(header) {
                cache.targetedHeader = header
            } else {
                error(headerEntry.line, "'targeted_header' must be a header name, got '\(header)'")
            }
        }
        if let timeout = s["coalesce_timeout"].flatMap({ duration($0, positive: false) }) {
            cache.coalesceTimeout = timeout
        }
        cache.compression = s["compression"].flatMap { readCompression($0) }
        return cache
    }

    /// `compression: { algorithms: [br, gzip], min_size: 1KiB, types: [text/*, ...] }`.
    private mutating func readCompression(_ entry: Entry) -> CompressionConfig? {
        guard
            let s = section(
                entry, .compression, context: "in 'cache.compression'", keys: ["algorithms", "min_size", "types"])
        else { return nil }
        var compression = CompressionConfig()
        if let algorithmsEntry = s["algorithms"], let items = list(algorithmsEntry, nonEmpty: true) {
            var algorithms: [String] = []
            for item in items {
                if let algorithm = choice(item, ["br", "gzip"]), !algorithms.contains(algorithm) {
                    algorithms.append(algorithm)
                }
            }
            compression.algorithms = algorithms
        }
        if let minEntry = s["min_size"], let minSize = size(minEntry) {
            compression.minSizeBytes = minSize
        }
        if let typesEntry = s["types"], let items = list(typesEntry, nonEmpty: true) {
            var types: [String] = []
            for item in items {
                guard let text = scalarText(item, expected: "a media type like text/* or application/json") else {
                    continue
                }
                let parts = text.lowercased().split(separator: "/", omittingEmptySubsequences: false)
                guard parts.count == 2, HTTPSyntax.isToken(String(parts[0])),
                    parts[1] == "*" || HTTPSyntax.isToken(String(parts[1]))
                else {
                    error(item.position, "expected a media type like text/* or application/json, got '\(text)'")
                    continue
                }
                types.append(text.lowercased())
            }
            compression.types = types
        }
        return compression
    }

    /// A route's `cache: { default_ttl, max_ttl, stale_while_revalidate, stale_if_error, key, add_etag,
    /// ignore_set_cookie }`; an empty mapping turns caching on with the defaults.
    mutating func readRouteCache(_ entry: Entry, label: String) -> RouteCacheConfig? {
        if case .scalar(let scalar) = entry.value, Self.isNull(scalar) { return RouteCacheConfig() }
        guard let s = section(entry, .routeCache, context: "in cache of \(label)", keys: Self.routeCacheKeys) else {
            return nil
        }
        var cache = RouteCacheConfig()
        cache.defaultTTL = s["default_ttl"].flatMap { duration($0) }
        cache.maxTTL = s["max_ttl"].flatMap { duration($0) }
        if let defaultTTL = cache.defaultTTL, let maxTTL = cache.maxTTL, maxTTL < defaultTTL, let e = s["max_ttl"] {
            error(e.line, "'max_ttl' must not be shorter than 'default_ttl' in \(label)")
        }
        cache.staleWhileRevalidate = s["stale_while_revalidate"].flatMap { duration($0, positive: false) } ?? .zero
        cache.staleIfError = s["stale_if_error"].flatMap { duration($0, positive: false) } ?? .zero
        if let keyEntry = s["key"],
            let key = section(keyEntry, .cacheKey, context: "in cache.key of \(label)", keys: ["query"]),
            let queryEntry = key["query"]
        {
            cache.query = readQueryKey(queryEntry) ?? .all
        }
        cache.addETag = s["add_etag"].flatMap { bool($0) } ?? false
        cache.ignoreSetCookie = s["ignore_set_cookie"].flatMap { bool($0) } ?? false
        return cache
    }

    /// `query: ignore | all | [names]`.
    private mutating func readQueryKey(_ entry: Entry) -> RouteCacheConfig.QueryKey? {
        if case .sequence = entry.value {
            guard let items = list(entry, nonEmpty: true) else { return nil }
            var names: [String] = []
            for item in items {
                guard let name = scalarText(item, expected: "a query parameter name"), !name.isEmpty else { continue }
                names.append(name)
            }
            return .only(names)
        }
        switch choice(entry.value, ["ignore", "all"]) {
        case "ignore": return .ignore
        case "all": return .all
        default: return nil
        }
    }
}
