import GatewayConfig
import HTTPCaching
import NIOConcurrencyHelpers

/// The node's response cache: the store every loop shares and the clock its freshness math uses.
/// Created once per process; a reload keeps it (and its contents).
public final class EdgeCache: Sendable {
    public let store: CacheStore
    /// Milliseconds since the epoch. Injected so tests can move time instead of sleeping.
    public let clock: @Sendable () -> Int64
    /// Keys with a background refresh in flight, so a burst of stale hits starts one.
    private let refreshing = NIOLockedValueBox(Set<CacheKey>())

    public convenience init(_ config: CacheConfig) {
        self.init(config, clock: { WallClock.nowMilliseconds() })
    }

    public init(_ config: CacheConfig, clock: @escaping @Sendable () -> Int64) {
        self.store = CacheStore(
            CacheStore.Configuration(
                capacityBytes: config.memoryBytes, maxObjectBytes: config.maxObjectBytes,
                eviction: config.eviction == .lru ? .lru : .s3fifo))
        self.clock = clock
    }

    /// Claims the refresh of `key`; false if one is already running.
    func beginRefresh(_ key: CacheKey) -> Bool {
        refreshing.withLockedValue { $0.insert(key).inserted }
    }

    func endRefresh(_ key: CacheKey) {
        _ = refreshing.withLockedValue { $0.remove(key) }
    }

    /// Refreshes in flight (for tests and the status page).
    var refreshesInFlight: Int { refreshing.withLockedValue { $0.count } }
}

/// A route's caching settings, compiled once per snapshot.
final class RouteCaching: Sendable {
    let policy: CachePolicy
    let query: QueryKeyPolicy
    let addETag: Bool

    init(_ config: RouteCacheConfig) {
        policy = CachePolicy(
            defaultTTL: config.defaultTTL.map(Self.seconds), maxTTL: config.maxTTL.map(Self.seconds),
            staleWhileRevalidate: Self.seconds(config.staleWhileRevalidate),
            staleIfError: Self.seconds(config.staleIfError), ignoreSetCookie: config.ignoreSetCookie)
        switch config.query {
        case .ignore: query = .ignore
        case .all: query = .all
        case .only(let names): query = .only(Set(names))
        }
        addETag = config.addETag
    }

    private static func seconds(_ duration: Duration) -> Int {
        Int(duration.components.seconds)
    }
}

/// What the cache says about itself in responses, per snapshot: its name in `Cache-Status`
/// (the node id) and the targeted fields it obeys and strips (RFC 9213), most specific first.
struct CacheIdentity {
    let name: String
    /// Lowercased.
    let targetedFields: [String]

    init(_ configuration: GatewayConfiguration) {
        name = configuration.node.id
        targetedFields = (configuration.cache?.targetedHeader.map { [$0.lowercased()] } ?? []) + ["cdn-cache-control"]
    }
}
