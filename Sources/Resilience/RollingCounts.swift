/// Successes and failures over the last `window` of time, in buckets, so the error ratio of a
/// rolling window costs a few integer adds per request and nothing per tick.
public struct RollingCounts: Sendable, Equatable {
    private let bucketNanoseconds: Int64
    private var starts: [Int64]
    private var successes: [Int]
    private var failures: [Int]

    public init(windowNanoseconds: Int64, buckets: Int = 10) {
        let count = max(1, buckets)
        bucketNanoseconds = max(1, windowNanoseconds / Int64(count))
        starts = Array(repeating: .min, count: count)
        successes = Array(repeating: 0, count: count)
        failures = Array(repeating: 0, count: count)
    }

    public mutating func record(success: Bool, now: Int64) {
        let start = now - ((now % bucketNanoseconds) + bucketNanoseconds) % bucketNanoseconds
        let index = Int((start / bucketNanoseconds) % Int64(starts.count))
        let slot = index < 0 ? index + starts.count : index
        if starts[slot] != start {
            starts[slot] = start
            successes[slot] = 0
            failures[slot] = 0
        }
        if success { successes[slot] += 1 } else { failures[slot] += 1 }
    }

    /// Totals of the buckets still inside the window at `now`.
    public func totals(now: Int64) -> (successes: Int, failures: Int) {
        let oldest = now - bucketNanoseconds * Int64(starts.count)
        var good = 0
        var bad = 0
        for slot in starts.indices where starts[slot] > oldest && starts[slot] <= now {
            good += successes[slot]
            bad += failures[slot]
        }
        return (good, bad)
    }

    public mutating func reset() {
        for slot in starts.indices {
            starts[slot] = .min
            successes[slot] = 0
            failures[slot] = 0
        }
    }
}
