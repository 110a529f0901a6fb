/// A min-heap of nodes by reclaim time. It holds nodes weakly: one evicted or purged meanwhile
/// is freed at once (with its body) and its slot is skipped when due. Dead slots are compacted
/// away once they outnumber the live entries, so churn cannot grow the heap without bound.
struct ReclaimSchedule {
    private struct Item {
        let reclaimAt: Int64
        weak var node: CacheNode?
    }

    private var heap: [Item] = []

    var count: Int { heap.count }

    mutating func add(_ node: CacheNode, liveEntries: Int) {
        guard node.reclaimAt < Int64.max else { return }
        if heap.count > 2 * liveEntries + 1024 {
            compact()
        }
        heap.append(Item(reclaimAt: node.reclaimAt, node: node))
        siftUp(heap.count - 1)
    }

    mutating func popDue(now: Int64) -> CacheNode?? {
        guard let first = heap.first, first.reclaimAt <= now else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            siftDown(0)
        }
        return .some(first.node)
    }

    private mutating func compact() {
        heap.removeAll { $0.node == nil || $0.node?.queue == CacheNode.QueueID.none }
        for index in stride(from: heap.count / 2 - 1, through: 0, by: -1) {
            siftDown(index)
        }
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].reclaimAt < heap[parent].reclaimAt else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < heap.count, heap[left].reclaimAt < heap[smallest].reclaimAt { smallest = left }
            if right < heap.count, heap[right].reclaimAt < heap[smallest].reclaimAt { smallest = right }
            guard smallest != parent else { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
