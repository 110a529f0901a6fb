/// A circuit breaker for one upstream endpoint, as a pure state machine: the caller asks before
/// each attempt and reports each outcome, with the time (nanoseconds, any monotonic origin).
///
/// closed → open on `consecutiveFailures` failures in a row, or an error ratio of at least
/// `errorRatio` over the rolling `window` once it holds `minRequests` outcomes. open → half-open
/// after the cool-down, which doubles with each trip in a row (up to `maxOpenFor`). half-open lets
/// `halfOpenRequests` probes through; that many successes close it, any failure opens it again.
public struct CircuitBreaker: Sendable, Equatable {
    public struct Settings: Sendable, Equatable {
        public var consecutiveFailures: Int
        /// nil: no ratio rule.
        public var errorRatio: Double?
        public var minRequests: Int
        public var windowNanoseconds: Int64
        public var openForNanoseconds: Int64
        public var maxOpenForNanoseconds: Int64
        public var halfOpenRequests: Int

        public init(
            consecutiveFailures: Int = 5, errorRatio: Double? = 0.5, minRequests: Int = 20,
            windowNanoseconds: Int64 = 10_000_000_000, openForNanoseconds: Int64 = 30_000_000_000,
            maxOpenForNanoseconds: Int64 = 300_000_000_000, halfOpenRequests: Int = 3
        ) {
            self.consecutiveFailures = consecutiveFailures
            self.errorRatio = errorRatio
            self.minRequests = minRequests
            self.windowNanoseconds = windowNanoseconds
            self.openForNanoseconds = openForNanoseconds
            self.maxOpenForNanoseconds = maxOpenForNanoseconds
            self.halfOpenRequests = halfOpenRequests
        }
    }

    public enum State: Sendable, Equatable {
        case closed
        /// Refusing until `until`; `trips` counts opens in a row (for the cool-down back-off).
        case open(until: Int64, trips: Int)
        /// Probing: `inFlight` probes out, `successes` came back good.
        case halfOpen(inFlight: Int, successes: Int, trips: Int)
    }

    /// What a state change was, for metrics and logs.
    public enum Transition: Sendable, Equatable {
        case opened(trips: Int)
        case halfOpened
        case closed
    }

    public let settings: Settings
    public private(set) var state: State = .closed
    private var consecutive = 0
    private var window: RollingCounts

    public init(settings: Settings) {
        self.settings = settings
        self.window = RollingCounts(windowNanoseconds: settings.windowNanoseconds)
    }

    /// Whether an attempt may go to this endpoint now; a half-open breaker counts it as a probe.
    public mutating func allowRequest(now: Int64) -> (allowed: Bool, transition: Transition?) {
        switch state {
        case .closed:
            return (true, nil)
        case .open(let until, let trips):
            guard now >= until else { return (false, nil) }
            state = .halfOpen(inFlight: 1, successes: 0, trips: trips)
            return (true, .halfOpened)
        case .halfOpen(let inFlight, let successes, let trips):
            guard inFlight + successes < settings.halfOpenRequests else { return (false, nil) }
            state = .halfOpen(inFlight: inFlight + 1, successes: successes, trips: trips)
            return (true, nil)
        }
    }

    /// Whether the breaker would refuse now, without taking a probe slot (for picking endpoints).
    public func isAvailable(now: Int64) -> Bool {
        switch state {
        case .closed: true
        case .open(let until, _): now >= until
        case .halfOpen(let inFlight, let successes, _): inFlight + successes < settings.halfOpenRequests
        }
    }

    @discardableResult
    public mutating func record(success: Bool, now: Int64) -> Transition? {
        switch state {
        case .closed:
            window.record(success: success, now: now)
            if success {
                consecutive = 0
                return nil
            }
            consecutive += 1
            let (good, bad) = window.totals(now: now)
            let ratioTrips =
                settings.errorRatio.map { ratio in
                    good + bad >= settings.minRequests && Double(bad) >= ratio * Double(good + bad)
                } ?? false
            guard consecutive >= settings.consecutiveFailures || ratioTrips else { return nil }
            return trip(trips: 1, now: now)
        case .open:
            // An attempt admitted before the trip came back: it changes nothing.
            return nil
        case .halfOpen(let inFlight, let successes, let trips):
            guard success else { return trip(trips: trips + 1, now: now) }
            let done = successes + 1
            if done >= settings.halfOpenRequests {
                state = .closed
                consecutive = 0
                window.reset()
                return .closed
            }
            state = .halfOpen(inFlight: max(0, inFlight - 1), successes: done, trips: trips)
            return nil
        }
    }

    /// This breaker as a new owner takes it over (a reload builds new per-loop runtimes): probes in
    /// flight will report to the old owner, so their half-open slots are not carried, or the new
    /// breaker would wait forever for outcomes that never come.
    public func carriedOver() -> CircuitBreaker {
        var copy = self
        if case .halfOpen(_, let successes, let trips) = state {
            copy.state = .halfOpen(inFlight: 0, successes: successes, trips: trips)
        }
        return copy
    }

    /// An admitted attempt ended without an outcome (the client left, the request was refused for
    /// its own reasons): a half-open probe slot it held is given back, or the breaker would wait
    /// forever for a probe that never reports.
    public mutating func abandon() {
        if case .halfOpen(let inFlight, let successes, let trips) = state, inFlight > 0 {
            state = .halfOpen(inFlight: inFlight - 1, successes: successes, trips: trips)
        }
    }

    private mutating func trip(trips: Int, now: Int64) -> Transition {
        let shift = min(trips - 1, 20)
        let (doubled, overflow) = settings.openForNanoseconds.multipliedReportingOverflow(by: Int64(1) << Int64(shift))
        let coolDown = overflow ? settings.maxOpenForNanoseconds : min(doubled, settings.maxOpenForNanoseconds)
        let (until, past) = now.addingReportingOverflow(coolDown)
        state = .open(until: past ? .max : until, trips: trips)
        consecutive = 0
        window.reset()
        return .opened(trips: trips)
    }
}
