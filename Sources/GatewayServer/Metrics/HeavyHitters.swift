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

    /// The mergeable-summaries rule (Agarwal et al., 2012): an object one side does not list may
    /// still have had up to that side's smallest count, if that side was full; adding it (to the
    /// count and to the error) keeps counts from falling below the truth. Counts from other nodes
    /// are added with wrapping arithmetic: a corrupt number must not stop the process.
    mutating func merge(_ other: HeavyHitters) {
        let myFloor = counters.count >= capacity ? counters.values.map(\.count).min() ?? 0 : 0
        let theirFloor = other.counters.count >= other.capacity ? other.counters.values.map(\.count).min() ?? 0 : 0
        var merged: [String: Counter] = [:]
        for object in Set(counters.keys).union(other.counters.keys) {
            let mine = counters[object] ?? Counter(count: myFloor, error: myFloor, bytes: 0)
            let theirs = other.counters[object] ?? Counter(count: theirFloor, error: theirFloor, bytes: 0)
            merged[object] = Counter(
                count: mine.count &+ theirs.count, error: mine.error &+ theirs.error, bytes: mine.bytes &+ theirs.bytes)
        }
        counters = merged
        trim()
    }

    /// One counter as another node sent it (a summary rebuilt from the wire).
    mutating func insert(_ object: String, _ counter: Counter) {
        var mine = counters[object] ?? Counter(count: 0, error: 0, bytes: 0)
        mine.count = mine.count &+ counter.count
        mine.error = mine.error &+ counter.error
        mine.bytes = mine.bytes &+ counter.bytes
        counters[object] = mine
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
