/// Decides which entries leave a shard when it is over its byte budget. Nodes that leave for
/// other reasons (purge, expiry, replacement) are removed through `remove`.
protocol EvictionPolicy {
    var bytes: Int { get }
    mutating func admit(_ node: CacheNode)
    mutating func accessed(_ node: CacheNode)
    mutating func remove(_ node: CacheNode)
    /// Puts `new` where `old` was (same queue, same frequency): a revalidated or soft-purged entry
    /// keeps its standing.
    mutating func replace(_ old: CacheNode, with new: CacheNode)
    /// Takes the next victim out of the policy's queues; nil when empty.
    mutating func evict() -> CacheNode?
    mutating func removeAll()
}

/// Which policy a store uses (`cache.eviction`).
public enum EvictionPolicyKind: String, Sendable, Equatable, CaseIterable {
    case s3fifo
    case lru
}

/// Least recently used: every hit moves the entry to the front. One-hit wonders of a scan push
/// out the whole working set, which is what S3-FIFO avoids.
struct LRUPolicy: EvictionPolicy {
    private var queue = NodeQueue()

    var bytes: Int { queue.bytes }

    mutating func admit(_ node: CacheNode) {
        node.queue = .main
        queue.pushHead(node)
    }

    mutating func accessed(_ node: CacheNode) {
        guard node.queue == .main, queue.head !== node else { return }
        queue.remove(node)
        queue.pushHead(node)
    }

    mutating func remove(_ node: CacheNode) {
        guard node.queue == .main else { return }
        queue.remove(node)
        node.queue = .none
    }

    mutating func replace(_ old: CacheNode, with new: CacheNode) {
        remove(old)
        admit(new)
    }

    mutating func evict() -> CacheNode? {
        guard let victim = queue.tail else { return nil }
        remove(victim)
        return victim
    }

    mutating func removeAll() { queue.removeAll() }
}
