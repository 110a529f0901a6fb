/// A stored entry's place in its shard: eviction queue links and access frequency. Only touched
/// under the shard's lock.
final class CacheNode {
    let entry: CacheEntry
    /// The entry's size when admitted, so accounting never drifts.
    let size: Int
    var previous: CacheNode?
    var next: CacheNode?
    var queue: QueueID = .none
    /// S3-FIFO's 2-bit access counter.
    var frequency: UInt8 = 0
    /// Hits served from this entry, for the stats' top keys.
    var hits = 0
    /// When the entry stops being useful and may be reclaimed (see `CacheShard.reclaimAt`).
    var reclaimAt: Int64

    enum QueueID {
        case none, small, main
    }

    init(entry: CacheEntry, reclaimAt: Int64) {
        self.entry = entry
        self.size = entry.size
        self.reclaimAt = reclaimAt
    }
}

/// A doubly linked list of nodes, head = newest. Nodes link themselves, so removal from the
/// middle (purge, expiry, replacement) costs O(1).
struct NodeQueue {
    private(set) var head: CacheNode?
    private(set) var tail: CacheNode?
    private(set) var bytes = 0
    private(set) var count = 0

    mutating func pushHead(_ node: CacheNode) {
        node.previous = nil
        node.next = head
        head?.previous = node
        head = node
        if tail == nil { tail = node }
        bytes += node.size
        count += 1
    }

    mutating func remove(_ node: CacheNode) {
        if let previous = node.previous { previous.next = node.next } else { head = node.next }
        if let next = node.next { next.previous = node.previous } else { tail = node.previous }
        node.previous = nil
        node.next = nil
        bytes -= node.size
        count -= 1
    }

    /// Unlinks every node (they reference each other; breaking the links frees them promptly).
    mutating func removeAll() {
        var node = head
        while let current = node {
            node = current.next
            current.previous = nil
            current.next = nil
        }
        head = nil
        tail = nil
        bytes = 0
        count = 0
    }
}
