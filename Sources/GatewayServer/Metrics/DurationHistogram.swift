/// A latency histogram kept by one event loop: plain integers, no atomics, because only that loop
/// writes it; a scrape copies it on the loop and merges the copies.
struct DurationHistogram: Sendable, Equatable {
    /// Upper bounds in seconds, as Prometheus' `le` labels; the last bucket is +Inf.
    static let boundsInSeconds: [Double] = [
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
    ]
    private static let boundsInNanoseconds: [Int64] = boundsInSeconds.map { Int64($0 * 1e9) }

    /// Observations per bucket, not cumulative (cumulated when rendered); one more than the bounds.
    private(set) var counts = [Int](repeating: 0, count: boundsInSeconds.count + 1)
    private(set) var sumNanoseconds: Int64 = 0
    private(set) var count = 0

    mutating func record(nanoseconds: Int64) {
        let value = max(0, nanoseconds)
        var index = 0
        let bounds = Self.boundsInNanoseconds
        while index < bounds.count && value > bounds[index] {
            index += 1
        }
        counts[index] += 1
        sumNanoseconds &+= value
        count += 1
    }

    mutating func merge(_ other: DurationHistogram) {
        for index in counts.indices {
            counts[index] = counts[index] &+ other.counts[index]
        }
        sumNanoseconds &+= other.sumNanoseconds
        count = count &+ other.count
    }

    /// Rebuilt from counts another node sent (fleet statistics); nil if they do not fit the bounds.
    init?(counts: [Int], sumNanoseconds: Int64) {
        guard counts.count == Self.boundsInSeconds.count + 1, counts.allSatisfy({ $0 >= 0 }) else { return nil }
        self.counts = counts
        self.sumNanoseconds = sumNanoseconds
        self.count = counts.reduce(0, &+)
    }

    init() {}

    /// The bucket bound (seconds) at or below which a fraction `quantile` of observations fall: an
    /// upper bound on that quantile, as precise as the buckets; nil when empty or past the last bound.
    func upperBound(ofQuantile quantile: Double) -> Double? {
        guard count > 0 else { return nil }
        let rank = Int((quantile * Double(count)).rounded(.up))
        var running = 0
        for (index, bucket) in counts.enumerated() {
            running += bucket
            if running >= max(1, rank) {
                return index < Self.boundsInSeconds.count ? Self.boundsInSeconds[index] : nil
            }
        }
        return nil
    }

    /// Counts at or below each bound, then the total (+Inf), as the exposition format wants them.
    var cumulativeCounts: [Int] {
        var running = 0
        return counts.map { count in
            running += count
            return running
        }
    }
}
