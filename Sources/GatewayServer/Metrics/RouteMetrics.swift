/// One route's counters on one event loop. A class so that an exchange can hold the one it was
/// routed to across a reload (the loop's array is realigned to the new routes meanwhile).
final class RouteMetrics {
    let name: String
    var sample: Sample

    struct Sample: Sendable, Equatable {
        /// Indexed by `MethodClass.rawValue * StatusClass.allCases.count + StatusClass.rawValue`.
        var requests = [Int](repeating: 0, count: MethodClass.allCases.count * StatusClass.allCases.count)
        var duration = DurationHistogram()
        var receivedBytes = 0
        var sentBytes = 0
        /// Indexed like `CacheOutcome.allCases`.
        var cacheOutcomes = [Int](repeating: 0, count: CacheOutcome.allCases.count)
        /// Requests that waited for another request's origin fetch of the same key.
        var coalesced = 0
        /// Indexed like `RevalidationResult.allCases`.
        var revalidations = [Int](repeating: 0, count: RevalidationResult.allCases.count)

        func cache(_ outcome: CacheOutcome) -> Int {
            cacheOutcomes[CacheOutcome.allCases.firstIndex(of: outcome) ?? 0]
        }

        func requests(_ method: MethodClass, _ status: StatusClass) -> Int {
            requests[method.rawValue * StatusClass.allCases.count + status.rawValue]
        }

        mutating func merge(_ other: Sample) {
            for index in requests.indices {
                requests[index] += other.requests[index]
            }
            duration.merge(other.duration)
            receivedBytes += other.receivedBytes
            sentBytes += other.sentBytes
            for index in cacheOutcomes.indices {
                cacheOutcomes[index] += other.cacheOutcomes[index]
            }
            coalesced += other.coalesced
            for index in revalidations.indices {
                revalidations[index] += other.revalidations[index]
            }
        }
    }

    init(name: String) {
        self.name = name
        self.sample = Sample()
    }

    func record(
        method: MethodClass, status: Int, durationNanoseconds: Int64, receivedBytes: Int, sentBytes: Int
    ) {
        sample.requests[method.rawValue * StatusClass.allCases.count + StatusClass(status: status).rawValue] += 1
        sample.duration.record(nanoseconds: durationNanoseconds)
        sample.receivedBytes += receivedBytes
        sample.sentBytes += sentBytes
    }

    func recordCache(_ outcome: CacheOutcome) {
        sample.cacheOutcomes[CacheOutcome.allCases.firstIndex(of: outcome) ?? 0] += 1
    }

    func recordCoalesced() {
        sample.coalesced += 1
    }

    func recordRevalidation(_ result: RevalidationResult) {
        sample.revalidations[result.rawValue] += 1
    }
}

/// How a revalidation with the origin ended.
enum RevalidationResult: Int, CaseIterable {
    /// 304: the stored body is still current.
    case notModified
    /// A new response replaced the stored one.
    case modified
    /// Error status, timeout or no connection.
    case failed

    var label: String {
        switch self {
        case .notModified: "not_modified"
        case .modified: "modified"
        case .failed: "failed"
        }
    }
}
