/// One upstream's attempt counters on one event loop; held by that loop's `UpstreamRuntime`.
final class UpstreamMetrics {
    let name: String
    var sample: Sample

    struct Sample: Sendable, Equatable {
        /// Attempts that got a complete response, by status class.
        var responses = [Int](repeating: 0, count: StatusClass.allCases.count)
        /// Time from sending the request to the end of the response.
        var duration = DurationHistogram()
        var errors = [Int](repeating: 0, count: UpstreamErrorKind.allCases.count)
        var circuitOpened = 0
        var circuitHalfOpened = 0
        var circuitClosed = 0
        var ejections = 0
        var retries = 0
        var retryBudgetExhausted = 0
        /// Requests answered 503 because no endpoint was in rotation (all open, down or ejected).
        var unavailable = 0
        /// Requests refused by the upstream's bulkheads (max_concurrent, max_pending).
        var shed = 0

        mutating func merge(_ other: Sample) {
            for index in responses.indices {
                responses[index] += other.responses[index]
            }
            duration.merge(other.duration)
            for index in errors.indices {
                errors[index] += other.errors[index]
            }
            circuitOpened += other.circuitOpened
            circuitHalfOpened += other.circuitHalfOpened
            circuitClosed += other.circuitClosed
            ejections += other.ejections
            retries += other.retries
            retryBudgetExhausted += other.retryBudgetExhausted
            unavailable += other.unavailable
            shed += other.shed
        }
    }

    init(name: String) {
        self.name = name
        self.sample = Sample()
    }

    func recordResponse(status: Int, durationNanoseconds: Int64) {
        sample.responses[StatusClass(status: status).rawValue] += 1
        sample.duration.record(nanoseconds: durationNanoseconds)
    }

    func recordError(_ kind: UpstreamErrorKind) {
        sample.errors[kind.rawValue] += 1
    }
}
