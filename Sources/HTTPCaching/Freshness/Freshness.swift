/// How long a stored response stays fresh and how old it already was when it arrived, with the
/// windows in which it may still be served stale. Times are milliseconds since the Unix epoch.
public struct Freshness: Sendable, Equatable {
    /// Freshness lifetime in seconds (RFC 9111 4.2.1), after the route's ceiling.
    public var lifetime: Int
    /// RFC 9111 4.2.3 corrected_initial_age, in milliseconds.
    public var correctedInitialAge: Int64
    /// When the response was received.
    public var responseTime: Int64
    public var staleWhileRevalidate: Int
    public var staleIfError: Int
    /// Every use needs a successful revalidation first (`no-cache`, `Pragma: no-cache`).
    public var alwaysRevalidate: Bool
    /// Never served stale without revalidating: `must-revalidate`, `proxy-revalidate`, and
    /// (for a shared cache) `s-maxage`, except where the origin itself allowed a stale window.
    public var mustRevalidate: Bool
    /// The response allows a shared cache to answer requests with `Authorization` from it
    /// (`public`, `s-maxage` or `must-revalidate`, RFC 9111 3.5).
    public var servesAuthorizedRequests: Bool

    public init(
        lifetime: Int, correctedInitialAge: Int64, responseTime: Int64, staleWhileRevalidate: Int = 0,
        staleIfError: Int = 0, alwaysRevalidate: Bool = false, mustRevalidate: Bool = false,
        servesAuthorizedRequests: Bool = false
    ) {
        self.servesAuthorizedRequests = servesAuthorizedRequests
        self.lifetime = lifetime
        self.correctedInitialAge = correctedInitialAge
        self.responseTime = responseTime
        self.staleWhileRevalidate = staleWhileRevalidate
        self.staleIfError = staleIfError
        self.alwaysRevalidate = alwaysRevalidate
        self.mustRevalidate = mustRevalidate
    }

    /// RFC 9111 4.2.3 current_age, in milliseconds.
    public func currentAge(now: Int64) -> Int64 {
        correctedInitialAge + max(0, now - responseTime)
    }

    /// The `Age` header value: whole seconds, never negative.
    public func ageSeconds(now: Int64) -> Int {
        Int(currentAge(now: now) / 1000)
    }

    /// Seconds of freshness left (negative once stale), as Cache-Status' `ttl`.
    public func remainingSeconds(now: Int64) -> Int {
        let remaining = Int64(lifetime) * 1000 - currentAge(now: now)
        return Int(remaining >= 0 ? remaining / 1000 : (remaining - 999) / 1000)
    }

    public func isFresh(now: Int64) -> Bool {
        Int64(lifetime) * 1000 > currentAge(now: now)
    }

    /// Milliseconds past the end of freshness (0 while fresh).
    public func staleness(now: Int64) -> Int64 {
        max(0, currentAge(now: now) - Int64(lifetime) * 1000)
    }

    /// After this instant nothing can use the entry any more except a revalidation: it is stale
    /// beyond both windows.
    public var usefulUntil: Int64 {
        let freshFor = Int64(lifetime) * 1000 - correctedInitialAge
        let window = Int64(max(staleWhileRevalidate, staleIfError)) * 1000
        return responseTime + freshFor + window
    }

}
