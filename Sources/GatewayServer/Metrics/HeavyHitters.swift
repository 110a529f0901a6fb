/// The most requested objects without a table of every object: the Space-Saving algorithm
/// (Metwally et al., 2005) with a fixed number of counters. An object not counted takes over the
/// counter with the smallest count and inherits it as its possible overcount (`error`), so a
/// count is never below the truth and any object requested more than 1/capacity of the time is
/// certain to be in the table. Summaries merge by adding counts (how edges are combined).
struct HeavyHitters: Sendable, Equatable {
    struct Counter: Sendable, Equatable {
        var count: Int
        var error: Int
        var bytes: Int
    }

    let capacity: Int
    private(set) var counters: [String: Counter] = [:]

    init(capacity: Int = 64) {
        self.capacity = max(1, capacity)
    }

    mutating func add(_ object: String, bytes: Int) {
        if counters[object] != nil {
            counters[object]?.count += 1
            counters[object]?.bytes += bytes
            return
        }
        if counters.count < capacity {
            counters[object] = Counter(count: 1, error: 0, bytes: bytes)
            return
        }
        // Full: the smallest counter goes to the newcomer (a scan of `capacity` counters, only
        // for objects outside the table; popular objects stay in it).
        guard let smallest = counters.min(by: { $0.value.count < $1.value.count }) else { return }
        counters.removeValue(forKey: smallest.key)
        counters[object] = Counter(count: smallest.value.count + 1, error: smallest.value.count, bytes: bytes)
    }

    mutating func merge(_ other: HeavyHitters) {
        for (object, counter) in other.counters {
            if var mine = counters[object] {
                mine.count += counter.count
                mine.error += counter.error
                mine.bytes += counter.bytes
                counters[object] = mine
            } else {
                counters[object] = counter
            }
        }
        trim()
    }

    mutating func insert(_ object: String, _ counter: Counter) {
        counters[object, default: Counter(count: 0, error: 0, bytes: 0)].count += counter.count
        counters[object, default: Counter(count: 0, error: 0, bytes: 0)].error += counter.error
        counters[object, default: Counter(count: 0, error: 0, bytes: 0)].bytes += counter.bytes
    }

    /// Keeps the `capacity` largest after a merge.
    mutating func trim() {
        guard counters.count > capacity else { return }
        counters = Dictionary(uniqueKeysWithValues: top(capacity).map { ($0.object, $0.counter) })
    }

    func top(_ limit: Int) -> [(object: String, counter: Counter)] {
        counters.sorted { $0.value.count > $1.value.count || ($0.value.count == $1.value.count && $0.key < $1.key) }
            .prefix(limit).map { ($0.key, $0.value) }
    }
}
