/// What the cache did for clients, per event loop (merged per node, and across the fleet through
/// Redis): bytes served and fetched from the origin, response times by cache status, and the most
/// requested objects.
struct CacheAnalytics: Sendable, Equatable {
    var requests = [Int](repeating: 0, count: CacheOutcome.allCases.count)
    var bytesServed = 0
    var bytesFromOrigin = 0
    /// Indexed like `CacheOutcome.allCases`.
    var responseTimes = [DurationHistogram](repeating: DurationHistogram(), count: CacheOutcome.allCases.count)
    var topObjects = HeavyHitters()

    mutating func record(
        _ outcome: CacheOutcome, object: String, durationNanoseconds: Int64, sentBytes: Int, originBytes: Int
    ) {
        let index = CacheOutcome.allCases.firstIndex(of: outcome) ?? 0
        requests[index] += 1
        bytesServed += sentBytes
        bytesFromOrigin += originBytes
        responseTimes[index].record(nanoseconds: durationNanoseconds)
        topObjects.add(object, bytes: sentBytes)
    }

    /// Wrapping adds: figures from other nodes come over the network.
    mutating func merge(_ other: CacheAnalytics) {
        for index in requests.indices where index < other.requests.count {
            requests[index] = requests[index] &+ other.requests[index]
            responseTimes[index].merge(other.responseTimes[index])
        }
        bytesServed = bytesServed &+ other.bytesServed
        bytesFromOrigin = bytesFromOrigin &+ other.bytesFromOrigin
        topObjects.merge(other.topObjects)
    }

    func count(_ outcome: CacheOutcome) -> Int {
        requests[CacheOutcome.allCases.firstIndex(of: outcome) ?? 0]
    }

    /// HIT and STALE over everything the cache could have answered (not BYPASS).
    var hitRatio: Double? {
        let served = count(.hit) + count(.stale)
        let lookups = served + count(.miss) + count(.revalidated)
        return lookups == 0 ? nil : Double(served) / Double(lookups)
    }
}
