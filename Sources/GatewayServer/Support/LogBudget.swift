import NIOCore

/// How many request-path error lines one event loop may write: a burst, then a steady rate. The
/// lines over it are counted (`gateway_log_lines_suppressed_total`) and the next line written says
/// how many were left out, so an incident with thousands of failing requests a second cannot fill
/// the disk, yet the log still shows it started and how big it is.
struct LogBudget {
    static let perSecond = 10.0
    static let burst = 50.0

    private var tokens = LogBudget.burst
    private var refilledAt: NIODeadline?
    /// Lines left out since the last one written.
    private(set) var suppressed = 0

    /// Whether a line may be written now; if so, how many were left out before it.
    mutating func admit(now: NIODeadline) -> (allowed: Bool, suppressedBefore: Int) {
        if let refilledAt {
            let seconds = Double((now - refilledAt).nanoseconds) / 1e9
            tokens = min(Self.burst, tokens + max(0, seconds) * Self.perSecond)
        }
        refilledAt = now
        guard tokens >= 1 else {
            suppressed += 1
            return (false, 0)
        }
        tokens -= 1
        defer { suppressed = 0 }
        return (true, suppressed)
    }
}
