/// Finds the keys a prefix or tag purge must touch without scanning the shard: every key is
/// listed under each directory above it (`host/`, `host/a/`, `host/a/b/` for `host/a/b/c`) and
/// under each of its tags. Costs one set insertion per path level per key.
struct PurgeIndex {
    private var directories: [Substring: Set<CacheKey>] = [:]
    private var tags: [String: Set<CacheKey>] = [:]

    mutating func add(_ key: CacheKey, tags keyTags: [String]) {
        for directory in Self.directories(of: key.hostAndPath) {
            directories[directory, default: []].insert(key)
        }
        for tag in keyTags {
            tags[tag, default: []].insert(key)
        }
    }

    mutating func remove(_ key: CacheKey, tags keyTags: [String]) {
        for directory in Self.directories(of: key.hostAndPath) {
            directories[directory]?.remove(key)
            if directories[directory]?.isEmpty == true { directories[directory] = nil }
        }
        for tag in keyTags {
            tags[tag]?.remove(key)
            if tags[tag]?.isEmpty == true { tags[tag] = nil }
        }
    }

    /// Keys whose text starts with `prefix` (`host/path…`; a bare host means the whole host).
    func keys(withPrefix prefix: String) -> [CacheKey] {
        let normalised = prefix.contains("/") ? prefix : prefix + "/"
        guard let slash = normalised.lastIndex(of: "/") else { return [] }
        let directory = normalised[...slash]
        guard let candidates = directories[directory] else { return [] }
        if directory.endIndex == normalised.endIndex { return Array(candidates) }
        return candidates.filter { $0.text.hasPrefix(normalised) }
    }

    func keys(taggedWith tag: String) -> [CacheKey] {
        tags[tag].map(Array.init) ?? []
    }

    mutating func removeAll() {
        directories = [:]
        tags = [:]
    }

    private static func directories(of hostAndPath: Substring) -> [Substring] {
        var result: [Substring] = []
        var index = hostAndPath.startIndex
        while index < hostAndPath.endIndex {
            if hostAndPath[index] == "/" {
                result.append(hostAndPath[...index])
            }
            index = hostAndPath.index(after: index)
        }
        return result
    }
}
