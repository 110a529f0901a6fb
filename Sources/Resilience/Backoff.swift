/// Exponential back-off with full jitter (AWS architecture blog, "Exponential Backoff And
/// Jitter"): attempt n waits a uniformly random time in [0, min(cap, base × 2^n)], so clients
/// that failed together do not retry together.
public struct Backoff: Sendable, Equatable {
    public let baseNanoseconds: Int64
    public let capNanoseconds: Int64

    public init(baseNanoseconds: Int64, capNanoseconds: Int64) {
        self.baseNanoseconds = max(0, baseNanoseconds)
        self.capNanoseconds = max(self.baseNanoseconds, capNanoseconds)
    }

    /// The delay before retry `attempt` (0 for the first retry); `random` returns a value in
    /// [0, 1] (injected so tests are deterministic).
    public func delay(attempt: Int, random: Double) -> Int64 {
        let shift = min(max(0, attempt), 30)
        let (scaled, overflow) = baseNanoseconds.multipliedReportingOverflow(by: Int64(1) << Int64(shift))
        let ceiling = overflow ? capNanoseconds : min(capNanoseconds, scaled)
        return Int64(Double(ceiling) * min(1, max(0, random)))
    }
}
