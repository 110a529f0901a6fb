import NIOConcurrencyHelpers

/// The process-wide response store, shared by all event loops. Sharded by key hash, each shard
/// behind its own mutex held for table and queue work only (never for I/O or copying bodies),
/// so loops rarely meet on the same lock.
public final class CacheStore: Sendable {
    public struct Configuration: Sendable, Equatable {
        public var capacityBytes: Int
        public var maxObjectBytes: Int
        public var eviction: EvictionPolicyKind
        public var shardCount: Int
        /// How long an entry with validators is kept after it stopped being usable as is, so a
        /// later request can revalidate it with a 304 instead of fetching the body again.
        public var keepForRevalidation: Int

        public init(
            capacityBytes: Int, maxObjectBytes: Int, eviction: EvictionPolicyKind = .s3fifo, shardCount: Int = 16,
            keepForRevalidation: Int = 3600
        ) {
            self.capacityBytes = capacityBytes
            self.maxObjectBytes = maxObjectBytes
            self.eviction = eviction
            self.shardCount = shardCount
            self.keepForRevalidation = keepForRevalidation
        }
    }

    // Unchecked because `shard` is mutable, non-Sendable state (nodes are classes); it is safe
    // because every access goes through `withLock`, and nothing that escapes the lock (entries,
    // keys, counters) is mutable. `Mutex` would say the same, but its region checking rejects
    // the non-Sendable `request` closure used inside the lock.
    private final class Shard: @unchecked Sendable {
        private let lock = NIOLock()
        private var shard: CacheShard

        init(capacity: Int, eviction: EvictionPolicyKind) {
            shard = CacheShard(capacity: capacity, eviction: eviction)
        }

        func withLock<Result>(_ body: (inout CacheShard) throws -> Result) rethrows -> Result {
            try lock.withLock { try body(&shard) }
        }
    }

    public let configuration: Configuration
    private let shards: [Shard]

    public init(_ configuration: Configuration) {
        self.configuration = configuration
        let count = max(1, configuration.shardCount)
        // Each shard gets an equal share: keys spread evenly by hash, and a per-shard bound keeps
        // eviction local to the lock already held.
        let perShard = max(configuration.capacityBytes / count, 1)
        shards = (0..<count).map { _ in Shard(capacity: perShard, eviction: configuration.eviction) }
    }

    private func shard(for key: CacheKey) -> Shard {
        shards[Int(UInt(bitPattern: key.hash) % UInt(shards.count))]
    }

    /// The entry this request selects, if any. `request` gives the request's values of a field
    /// (by lowercase name) for `Vary` matching.
    public func lookup(_ key: CacheKey, request: (String) -> [String]) -> CacheLookup {
        shard(for: key).withLock { $0.lookup(key, request: request) }
    }

    public enum InsertResult: Sendable, Equatable {
        case stored(evicted: Int)
        case tooLarge
    }

    @discardableResult
    public func insert(_ entry: CacheEntry) -> InsertResult {
        guard entry.body.readableBytes <= configuration.maxObjectBytes,
            entry.size <= configuration.capacityBytes / max(1, shards.count)
        else { return .tooLarge }
        let reclaimAt = reclaimTime(of: entry)
        let evicted = shard(for: entry.key).withLock { $0.insert(entry, reclaimAt: reclaimAt) }
        return .stored(evicted: evicted)
    }

    /// Replaces `old` by `new` (same key and variant) unless something replaced `old` already.
    @discardableResult
    public func replace(_ old: CacheEntry, with new: CacheEntry) -> Bool {
        shard(for: old.key).withLock { $0.replace(old, with: new) }
    }

    private func reclaimTime(of entry: CacheEntry) -> Int64 {
        let useful = entry.freshness.usefulUntil
        let keep = entry.hasValidators ? Int64(configuration.keepForRevalidation) * 1000 : 0
        let (sum, overflow) = useful.addingReportingOverflow(keep)
        return overflow ? Int64.max : sum
    }

    /// Hard purge removes; soft purge marks stale. Returns how many entries (variants) matched.
    public func purge(_ target: PurgeTarget, soft: Bool, now: Int64) -> Int {
        if case .key(let key) = target {
            return shard(for: key).withLock { $0.purge(target, soft: soft, now: now) }
        }
        var total = 0
        for shard in shards {
            total += shard.withLock { $0.purge(target, soft: soft, now: now) }
        }
        return total
    }

    /// Removes entries past their usefulness; called periodically off the request path.
    @discardableResult
    public func reclaimExpired(now: Int64) -> Int {
        var total = 0
        for shard in shards {
            total += shard.withLock { $0.reclaim(now: now) }
        }
        return total
    }

    public struct Stats: Sendable, Equatable {
        public var bytes = 0
        public var capacityBytes = 0
        public var counters = CacheStoreCounters()
    }

    public func stats() -> Stats {
        var stats = Stats(capacityBytes: configuration.capacityBytes)
        for shard in shards {
            shard.withLock { state in
                stats.bytes += state.bytes
                stats.counters.add(state.counters)
            }
        }
        return stats
    }

    /// The most hit entries across shards (a scan: for the admin API, not the request path).
    public func topKeys(_ limit: Int) -> [(key: CacheKey, hits: Int, size: Int)] {
        var all: [(key: CacheKey, hits: Int, size: Int)] = []
        for shard in shards {
            all += shard.withLock { $0.topKeys(limit) }
        }
        all.sort { $0.hits > $1.hits }
        return Array(all.prefix(limit))
    }
}
