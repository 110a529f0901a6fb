/// The top-level `cache` section: the node's response store, shared by every cached route.
public struct CacheConfig: Sendable, Equatable {
    public enum Eviction: String, Sendable, Equatable, CaseIterable {
        case s3fifo, lru
    }

    /// The store's bound: bodies, stored fields and a per-entry overhead estimate.
    public var memoryBytes: Int
    /// Larger responses are passed through, never stored.
    public var maxObjectBytes: Int
    public var eviction: Eviction
    /// A gateway-specific targeted cache-control field (RFC 9213), consulted before
    /// `CDN-Cache-Control`; neither is forwarded to clients.
    public var targetedHeader: String?
    /// How long a request for a key that is being fetched waits for that fetch's response head
    /// before going to the origin itself (nginx's `proxy_cache_lock_timeout`).
    public var coalesceTimeout: Duration
    /// nil: stored responses are sent as the origin sent them.
    public var compression: CompressionConfig?

    public init(
        memoryBytes: Int = 256 * 1024 * 1024, maxObjectBytes: Int = 16 * 1024 * 1024, eviction: Eviction = .s3fifo,
        targetedHeader: String? = nil, coalesceTimeout: Duration = .seconds(5), compression: CompressionConfig? = nil
    ) {
        self.coalesceTimeout = coalesceTimeout
        self.compression = compression
        self.memoryBytes = memoryBytes
        self.maxObjectBytes = maxObjectBytes
        self.eviction = eviction
        self.targetedHeader = targetedHeader
    }
}

/// A route's `cache` section: the route opts into the store, and says what origins do not.
public struct RouteCacheConfig: Sendable, Equatable {
    public enum QueryKey: Sendable, Equatable {
        case ignore
        case all
        /// Only these parameter names.
        case only([String])
    }

    /// Freshness when the origin gives none (and heuristic freshness is allowed for the status).
    public var defaultTTL: Duration?
    /// A ceiling on every lifetime.
    public var maxTTL: Duration?
    /// When the origin sends no `stale-while-revalidate`.
    public var staleWhileRevalidate: Duration
    /// When the origin sends no `stale-if-error`.
    public var staleIfError: Duration
    public var query: QueryKey
    /// Add a strong ETag to stored responses that have no validator.
    public var addETag: Bool
    /// Store responses with `Set-Cookie` (without the cookie); off: such responses are not stored.
    public var ignoreSetCookie: Bool

    public init(
        defaultTTL: Duration? = nil, maxTTL: Duration? = nil, staleWhileRevalidate: Duration = .zero,
        staleIfError: Duration = .zero, query: QueryKey = .all, addETag: Bool = false, ignoreSetCookie: Bool = false
    ) {
        self.defaultTTL = defaultTTL
        self.maxTTL = maxTTL
        self.staleWhileRevalidate = staleWhileRevalidate
        self.staleIfError = staleIfError
        self.query = query
        self.addETag = addETag
        self.ignoreSetCookie = ignoreSetCookie
    }
}

/// `cache.compression`: stored responses of these types are also kept encoded, once, and each
/// client gets the coding it prefers.
public struct CompressionConfig: Sendable, Equatable {
    /// `br` and/or `gzip`.
    public var algorithms: [String]
    public var minSizeBytes: Int
    /// `type/subtype` or `type/*`, lowercased.
    public var types: [String]

    public static let defaultTypes = [
        "text/*", "application/json", "application/javascript", "application/xml", "image/svg+xml",
    ]

    public init(algorithms: [String] = ["br", "gzip"], minSizeBytes: Int = 1024, types: [String] = Self.defaultTypes) {
        self.algorithms = algorithms
        self.minSizeBytes = minSizeBytes
        self.types = types
    }
}
