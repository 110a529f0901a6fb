/// Parsers for the scalar notations the config language uses (durations, sizes, rates, addresses).
/// Each returns nil on anything it does not accept; the loader turns nil into a diagnostic that
/// shows the expected form, so the parsers stay free of wording and line numbers.
public enum UnitParser {}

/// An event rate such as `100/s` or `6000/min`.
public struct Rate: Sendable, Equatable {
    /// At least 1.
    public var count: Int
    public var period: Duration

    public init(count: Int, period: Duration) {
        self.count = count
        self.period = period
    }
}
