/// Retries to one upstream may be at most `percent` of its requests over a rolling window (with
/// a floor of `minimumRetries` so a quiet upstream can still be retried), so a failing upstream
/// sees a bounded extra load instead of a retry storm (Envoy's retry budget, Finagle's
/// RetryBudget).
public struct RetryBudget: Sendable, Equatable {
    public let percent: Double
    public let minimumRetries: Int
    private var requests: RollingCounts
    private var retries: RollingCounts

    public init(percent: Double, minimumRetries: Int = 3, windowNanoseconds: Int64 = 10_000_000_000) {
        self.percent = percent
        self.minimumRetries = minimumRetries
        self.requests = RollingCounts(windowNanoseconds: windowNanoseconds)
        self.retries = RollingCounts(windowNanoseconds: windowNanoseconds)
    }

    /// A first attempt (not a retry).
    public mutating func recordRequest(now: Int64) {
        requests.record(success: true, now: now)
    }

    /// Takes one retry from the budget if there is one left; false means do not retry.
    public mutating func withdraw(now: Int64) -> Bool {
        let made = requests.totals(now: now).successes
        let spent = retries.totals(now: now).successes
        let allowed = max(Double(minimumRetries), Double(made) * percent / 100)
        guard Double(spent + 1) <= allowed else { return false }
        retries.record(success: true, now: now)
        return true
    }
}
