/// What to do with a stored response for a request (RFC 9111 4, 5.2.1; RFC 5861).
public enum ServeDecision: Sendable, Equatable {
    /// Fresh and acceptable to the client.
    case fresh
    /// Stale, but the client accepts this much staleness (`max-stale`): serve, no refresh.
    case staleAcceptedByClient
    /// Stale within stale-while-revalidate: serve now and refresh in the background.
    case staleWhileRevalidate
    /// Must be validated with the origin before use; the entry's validators go with the request.
    case revalidate

    public static func decide(_ freshness: Freshness, request: RequestCacheControl, now: Int64) -> ServeDecision {
        if request.noCache || freshness.alwaysRevalidate { return .revalidate }
        let age = freshness.currentAge(now: now)
        if let maxAge = request.maxAge, age > Int64(maxAge) * 1000 { return .revalidate }
        if freshness.isFresh(now: now) {
            if let minFresh = request.minFresh, Int64(freshness.lifetime) * 1000 - age < Int64(minFresh) * 1000 {
                return .revalidate
            }
            return .fresh
        }
        let staleness = freshness.staleness(now: now)
        if let maxStale = request.maxStale, !freshness.mustRevalidate,
            maxStale == Int.max || staleness <= Int64(maxStale) * 1000
        {
            return .staleAcceptedByClient
        }
        if freshness.staleWhileRevalidate > 0, staleness <= Int64(freshness.staleWhileRevalidate) * 1000 {
            return .staleWhileRevalidate
        }
        return .revalidate
    }

    /// After a failed revalidation (error status, timeout, connect failure, open circuit): may the
    /// stale entry answer instead (RFC 5861 4)?
    public static func mayServeStaleOnError(_ freshness: Freshness, now: Int64) -> Bool {
        !freshness.alwaysRevalidate && freshness.staleIfError > 0
            && freshness.staleness(now: now) <= Int64(freshness.staleIfError) * 1000
    }
}
