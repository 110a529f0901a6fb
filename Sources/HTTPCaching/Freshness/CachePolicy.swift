/// What a route says about caching beyond what origins send.
public struct CachePolicy: Sendable, Equatable {
    /// Freshness for a response that is heuristically cacheable but carries no explicit lifetime;
    /// nil: the RFC 9111 4.2.2 heuristic (10 % of the time since Last-Modified, at most a day).
    public var defaultTTL: Int?
    /// A ceiling on any lifetime, explicit or not.
    public var maxTTL: Int?
    /// Used when the response has no `stale-while-revalidate` of its own.
    public var staleWhileRevalidate: Int
    /// Used when the response has no `stale-if-error` of its own.
    public var staleIfError: Int
    /// Store responses that set cookies, without their `Set-Cookie` fields. Off: never stored.
    public var ignoreSetCookie: Bool

    public init(
        defaultTTL: Int? = nil, maxTTL: Int? = nil, staleWhileRevalidate: Int = 0, staleIfError: Int = 0,
        ignoreSetCookie: Bool = false
    ) {
        self.defaultTTL = defaultTTL
        self.maxTTL = maxTTL
        self.staleWhileRevalidate = staleWhileRevalidate
        self.staleIfError = staleIfError
        self.ignoreSetCookie = ignoreSetCookie
    }

    /// RFC 9111 4.2.2 leaves the heuristic fraction and any cap to the cache; this is the usual
    /// 10 %, capped as Squid and Varnish users expect.
    static let heuristicFraction = 0.1
    static let heuristicCap = 86_400
}
