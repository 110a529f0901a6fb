/// One lock's worth of the store: its table, eviction queues, purge index and reclaim schedule.
/// Every method runs under the shard's lock and does pointer work only.
struct CacheShard {
    private var table: [CacheKey: [CacheNode]] = [:]
    private var policy: any EvictionPolicy
    private var index = PurgeIndex()
    private var reclaimSchedule = ReclaimSchedule()
    private let capacity: Int
    private(set) var counters = CacheStoreCounters()

    /// A key with more variants than this (Vary on a field with many values, like User-Agent)
    /// loses its oldest variant for each new one.
    static let maxVariantsPerKey = 16

    init(capacity: Int, eviction: EvictionPolicyKind) {
        self.capacity = capacity
        switch eviction {
        case .s3fifo: policy = S3FIFOPolicy(capacity: capacity)
        case .lru: policy = LRUPolicy()
        }
    }

    var bytes: Int { policy.bytes }
    var entryCount: Int { counters.entries }

    mutating func lookup(_ key: CacheKey, request: (String) -> [String]) -> CacheLookup {
        guard let variants = table[key] else { return .miss }
        for node in variants where node.entry.vary.matches(request) {
            policy.accessed(node)
            node.hits &+= 1
            return .found(node.entry)
        }
        return .varyMiss
    }

    /// Stores `entry`, replacing the variant it selects. Returns how many entries were evicted.
    @discardableResult
    mutating func insert(_ entry: CacheEntry, reclaimAt: Int64) -> Int {
        let node = CacheNode(entry: entry, reclaimAt: reclaimAt)
        var variants = table[entry.key] ?? []
        // A response's Vary decides for the whole key: variants selected by other fields are
        // from an older configuration of the origin and would never be chosen consistently.
        for old in variants where old.entry.vary.names != entry.vary.names {
            detach(old)
        }
        variants.removeAll { $0.queue == .none }
        if let position = variants.firstIndex(where: { $0.entry.vary == entry.vary }) {
            let old = variants[position]
            policy.replace(old, with: node)
            index.remove(old.entry.key, tags: old.entry.tags)
            variants[position] = node
        } else {
            if variants.count >= Self.maxVariantsPerKey {
                detach(variants.removeFirst())
            }
            policy.admit(node)
            variants.append(node)
            counters.entries += 1
        }
        index.add(entry.key, tags: entry.tags)
        table[entry.key] = variants
        reclaimSchedule.add(node, liveEntries: counters.entries)
        counters.stores += 1
        return evictToCapacity()
    }

    private mutating func evictToCapacityCount() -> Int {
        var evicted = 0
        while policy.bytes > capacity, let victim = policy.evict() {
            removeFromTable(victim)
            evicted += 1
        }
        return evicted
    }

    private mutating func evictToCapacity() -> Int {
        var evicted = 0
        while policy.bytes > capacity, let victim = policy.evict() {
            removeFromTable(victim)
            evicted += 1
        }
        counters.evictions += evicted
        return evicted
    }

    /// Takes a node out of the policy and the table.
    private mutating func detach(_ node: CacheNode) {
        policy.remove(node)
        removeFromTable(node)
    }

    private mutating func removeFromTable(_ node: CacheNode) {
        let key = node.entry.key
        guard var variants = table[key], let position = variants.firstIndex(where: { $0 === node }) else { return }
        variants.remove(at: position)
        counters.entries -= 1
        node.queue = .none
        if variants.isEmpty {
            table[key] = nil
            index.remove(key, tags: node.entry.tags)
        } else {
            table[key] = variants
            // Tags of the remaining variants stay indexed: re-add in case this one shared them.
            for remaining in variants { index.add(key, tags: remaining.entry.tags) }
        }
    }

    /// Puts `new` in place of `old` if `old` is still the stored variant (a revalidation or a
    /// newer response may have replaced it meanwhile, and must win). Returns whether it did.
    mutating func replace(_ old: CacheEntry, with new: CacheEntry) -> Bool {
        guard var variants = table[old.key], let position = variants.firstIndex(where: { $0.entry === old }) else {
            return false
        }
        let current = variants[position]
        let node = CacheNode(entry: new, reclaimAt: current.reclaimAt)
        node.hits = current.hits
        policy.replace(current, with: node)
        variants[position] = node
        table[old.key] = variants
        reclaimSchedule.add(node, liveEntries: counters.entries)
        counters.evictions += evictToCapacityCount()
        return true
    }

    // MARK: - Purge

    mutating func purge(_ target: PurgeTarget, soft: Bool, now: Int64) -> Int {
        let keys: [CacheKey]
        switch target {
        case .key(let key): keys = [key]
        case .prefix(let prefix): keys = index.keys(withPrefix: prefix)
        case .tag(let tag): keys = index.keys(taggedWith: tag)
        case .all:
            if !soft {
                let count = counters.entries
                table = [:]
                policy.removeAll()
                index.removeAll()
                reclaimSchedule = ReclaimSchedule()
                counters.entries = 0
                counters.purged += count
                return count
            }
            keys = Array(table.keys)
        }
        var affected = 0
        for key in keys {
            guard let variants = table[key] else { continue }
            for node in variants {
                if case .tag(let tag) = target, !node.entry.tags.contains(tag) { continue }
                affected += 1
                if soft {
                    guard !node.entry.isSoftPurged else { continue }
                    let replacement = CacheNode(entry: node.entry.softPurged(at: now), reclaimAt: node.reclaimAt)
                    replacement.hits = node.hits
                    policy.replace(node, with: replacement)
                    if var current = table[key], let position = current.firstIndex(where: { $0 === node }) {
                        current[position] = replacement
                        table[key] = current
                    }
                    reclaimSchedule.add(replacement, liveEntries: counters.entries)
                } else {
                    detach(node)
                }
            }
        }
        counters.purged += affected
        return affected
    }

    // MARK: - Reclaiming

    /// Removes entries whose reclaim time has passed; returns how many.
    mutating func reclaim(now: Int64) -> Int {
        var reclaimed = 0
        while let due = reclaimSchedule.popDue(now: now) {
            guard let node = due, node.queue != .none else { continue }
            detach(node)
            reclaimed += 1
        }
        counters.reclaimed += reclaimed
        return reclaimed
    }

    // MARK: - Stats

    func topKeys(_ limit: Int) -> [(key: CacheKey, hits: Int, size: Int)] {
        var all: [(key: CacheKey, hits: Int, size: Int)] = []
        for variants in table.values {
            for node in variants {
                all.append((node.entry.key, node.hits, node.size))
            }
        }
        all.sort { $0.hits > $1.hits }
        return Array(all.prefix(limit))
    }
}

/// What the store found for a request.
public enum CacheLookup: Sendable {
    case found(CacheEntry)
    /// The URL is stored, but not in the variant this request selects.
    case varyMiss
    case miss
}

public enum PurgeTarget: Sendable, Equatable {
    /// Every variant of one key.
    case key(CacheKey)
    /// `host/path…` prefix; a bare host means everything of that host.
    case prefix(String)
    case tag(String)
    case all
}

public struct CacheStoreCounters: Sendable, Equatable {
    public var entries = 0
    public var stores = 0
    public var evictions = 0
    public var purged = 0
    public var reclaimed = 0

    public init() {}

    mutating func add(_ other: CacheStoreCounters) {
        entries += other.entries
        stores += other.stores
        evictions += other.evictions
        purged += other.purged
        reclaimed += other.reclaimed
    }
}
