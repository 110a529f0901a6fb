/// S3-FIFO (Yang et al., SOSP 2023): new entries go to a small FIFO (10 % of the bytes); those hit
/// again while there move to the main FIFO, the rest leave and are remembered in a ghost FIFO of
/// key hashes, so an entry that comes back soon goes straight to main. Main evicts with a
/// CLOCK-like second chance. One-hit wonders therefore never displace the working set, and a hit
/// costs a counter increment instead of LRU's list move. Byte-based: sizes differ by orders of
/// magnitude.
struct S3FIFOPolicy: EvictionPolicy {
    private let capacity: Int
    private var small = NodeQueue()
    private var main = NodeQueue()
    private var ghost = GhostQueue()

    init(capacity: Int) {
        self.capacity = capacity
    }

    var bytes: Int { small.bytes + main.bytes }
    private var smallTarget: Int { max(capacity / 10, 1) }

    mutating func admit(_ node: CacheNode) {
        node.frequency = 0
        if ghost.remove(node.entry.key.hash) {
            node.queue = .main
            main.pushHead(node)
        } else {
            node.queue = .small
            small.pushHead(node)
        }
    }

    mutating func accessed(_ node: CacheNode) {
        if node.frequency < 3 { node.frequency += 1 }
    }

    mutating func remove(_ node: CacheNode) {
        switch node.queue {
        case .small: small.remove(node)
        case .main: main.remove(node)
        case .none: return
        }
        node.queue = .none
    }

    mutating func replace(_ old: CacheNode, with new: CacheNode) {
        let queue = old.queue
        remove(old)
        new.frequency = old.frequency
        new.queue = queue
        switch queue {
        case .small: small.pushHead(new)
        case .main: main.pushHead(new)
        case .none: admit(new)
        }
    }

    mutating func evict() -> CacheNode? {
        while small.count > 0 || main.count > 0 {
            if small.bytes >= smallTarget || main.count == 0 {
                if let victim = evictFromSmall() { return victim }
            } else if let victim = evictFromMain() {
                return victim
            }
        }
        return nil
    }

    /// The oldest small entry moves to main if it was hit since it arrived, else leaves.
    private mutating func evictFromSmall() -> CacheNode? {
        guard let tail = small.tail else { return nil }
        small.remove(tail)
        if tail.frequency > 0 {
            tail.frequency = 0
            tail.queue = .main
            main.pushHead(tail)
            return nil
        }
        tail.queue = .none
        ghost.insert(tail.entry.key.hash, limit: max(main.count, 64))
        return tail
    }

    /// The oldest main entry gets another round per recorded hit.
    private mutating func evictFromMain() -> CacheNode? {
        guard let tail = main.tail else { return nil }
        main.remove(tail)
        if tail.frequency > 0 {
            tail.frequency -= 1
            main.pushHead(tail)
            return nil
        }
        tail.queue = .none
        return tail
    }

    mutating func removeAll() {
        small.removeAll()
        main.removeAll()
        ghost = GhostQueue()
    }
}

/// Hashes of recently evicted keys, oldest forgotten first.
struct GhostQueue {
    private var order: [Int] = []
    private var start = 0
    private var counts: [Int: Int] = [:]

    mutating func insert(_ hash: Int, limit: Int) {
        order.append(hash)
        counts[hash, default: 0] += 1
        while order.count - start > limit {
            forget(order[start])
            start += 1
        }
        if start > 1024 && start * 2 > order.count {
            order.removeFirst(start)
            start = 0
        }
    }

    /// True if the hash was there (and now is not).
    mutating func remove(_ hash: Int) -> Bool {
        guard counts[hash] != nil else { return false }
        forget(hash)
        return true
    }

    private mutating func forget(_ hash: Int) {
        if let count = counts[hash] {
            counts[hash] = count > 1 ? count - 1 : nil
        }
    }
}
