/// Passive outlier detection over the endpoints of one upstream: `consecutiveFailures` failures
/// (5xx or gateway errors) in a row eject an endpoint for `ejectFor` × the number of times it was
/// ejected before (growing, up to `maxEjectFor`), but never more than `maxEjectedPercent` of the
/// endpoints at once (at least one stays), as Envoy's outlier detection.
public struct OutlierDetector: Sendable, Equatable {
    public struct Settings: Sendable, Equatable {
        public var consecutiveFailures: Int
        public var ejectForNanoseconds: Int64
        public var maxEjectForNanoseconds: Int64
        public var maxEjectedPercent: Int

        public init(
            consecutiveFailures: Int = 5, ejectForNanoseconds: Int64 = 30_000_000_000,
            maxEjectForNanoseconds: Int64 = 300_000_000_000, maxEjectedPercent: Int = 50
        ) {
            self.consecutiveFailures = consecutiveFailures
            self.ejectForNanoseconds = ejectForNanoseconds
            self.maxEjectForNanoseconds = maxEjectForNanoseconds
            self.maxEjectedPercent = maxEjectedPercent
        }
    }

    private struct Endpoint: Sendable, Equatable {
        var consecutive = 0
        var ejectedUntil: Int64 = .min
        var ejections = 0
    }

    public let settings: Settings
    private var endpoints: [Endpoint]

    public init(endpoints count: Int, settings: Settings) {
        self.settings = settings
        self.endpoints = Array(repeating: Endpoint(), count: count)
    }

    public func isEjected(_ index: Int, now: Int64) -> Bool {
        endpoints.indices.contains(index) && endpoints[index].ejectedUntil > now
    }

    public func ejectedCount(now: Int64) -> Int {
        endpoints.filter { $0.ejectedUntil > now }.count
    }

    /// Records an outcome; returns true when it ejected the endpoint.
    @discardableResult
    public mutating func record(_ index: Int, failure: Bool, now: Int64) -> Bool {
        guard endpoints.indices.contains(index) else { return false }
        guard failure else {
            endpoints[index].consecutive = 0
            return false
        }
        endpoints[index].consecutive += 1
        guard endpoints[index].consecutive >= settings.consecutiveFailures, !isEjected(index, now: now) else {
            return false
        }
        // At most maxEjectedPercent of the endpoints, and never all of them.
        let cap = min(endpoints.count - 1, endpoints.count * settings.maxEjectedPercent / 100)
        guard ejectedCount(now: now) < cap else { return false }
        endpoints[index].ejections += 1
        let (scaled, overflow) = settings.ejectForNanoseconds.multipliedReportingOverflow(
            by: Int64(endpoints[index].ejections))
        let ejectFor = overflow ? settings.maxEjectForNanoseconds : min(scaled, settings.maxEjectForNanoseconds)
        let (until, past) = now.addingReportingOverflow(ejectFor)
        endpoints[index].ejectedUntil = past ? .max : until
        endpoints[index].consecutive = 0
        return true
    }
}
