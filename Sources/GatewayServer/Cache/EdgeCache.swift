import GatewayConfig
import HTTPCaching
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The node's response cache: the store every loop shares and the clock its freshness math uses.
/// Created once per process; a reload keeps it (and its contents).
public final class EdgeCache: Sendable {
    public let store: CacheStore
    /// Milliseconds since the epoch. Injected so tests can move time instead of sleeping.
    public let clock: @Sendable () -> Int64
    /// Keys with a background refresh in flight, so a burst of stale hits starts one.
    private let refreshing = NIOLockedValueBox(Set<CacheKey>())
    /// Origin fetches in flight that other requests for the same key may share.
    private let fills = NIOLockedValueBox([CacheKey: CacheFill]())
    private let joinedFollowers = EventCounter()
    private let compressions = EventCounter()
    /// nil: no `cache.compression`.
    let compressor: Compressor?
    /// How long a request waits for a shared fetch's response head before going to the origin itself.
    let coalesceTimeout: TimeAmount

    public convenience init(_ config: CacheConfig) {
        self.init(config, clock: { WallClock.nowMilliseconds() })
    }

    public init(_ config: CacheConfig, clock: @escaping @Sendable () -> Int64) {
        self.store = CacheStore(
            CacheStore.Configuration(
                capacityBytes: config.memoryBytes, maxObjectBytes: config.maxObjectBytes,
                eviction: config.eviction == .lru ? .lru : .s3fifo))
        self.clock = clock
        self.coalesceTimeout = TimeAmount(config.coalesceTimeout)
        self.compressor = config.compression.map(Compressor.init)
    }

    /// The fill in flight for `key` (the caller follows it), or a new one the caller leads.
    func joinOrLead(_ key: CacheKey) -> (fill: CacheFill, isLeader: Bool) {
        let joined = fills.withLockedValue { fills -> (CacheFill, Bool) in
            if let existing = fills[key] { return (existing, false) }
            let fill = CacheFill(key: key)
            fills[key] = fill
            return (fill, true)
        }
        if !joined.1 {
            joinedFollowers.increment()
        }
        return joined
    }

    /// Succeeds once `count` requests in total have joined a fill as followers (an event for
    /// tests to wait on, instead of polling).
    func followersJoined(_ count: Int, on eventLoop: EventLoop) -> EventLoopFuture<Void> {
        joinedFollowers.reached(count, on: eventLoop)
    }

    /// Succeeds once `count` entries in total have been compressed (or found not worth it).
    func compressionsFinished(_ count: Int, on eventLoop: EventLoop) -> EventLoopFuture<Void> {
        compressions.reached(count, on: eventLoop)
    }

    /// Stores `entry`, then encodes it in the background if compression applies to it.
    @discardableResult
    func insert(_ entry: CacheEntry) -> CacheStore.InsertResult {
        let result = store.insert(entry)
        guard case .stored = result, let compressor else { return result }
        guard compressor.applies(to: entry) else {
            compressions.increment()
            return result
        }
        let store = self.store
        let compressions = self.compressions
        NIOThreadPool.singleton.submit { state in
            defer { compressions.increment() }
            guard state == .active else { return }
            let encodings = compressor.encode(entry.body)
            if !encodings.isEmpty {
                store.replace(entry, with: entry.withEncodings(encodings))
            }
        }
        return result
    }

    /// Takes the leader's fill out of the registry (once stored, or abandoned).
    func endFill(_ fill: CacheFill) {
        fills.withLockedValue { fills in
            if fills[fill.key] === fill { fills[fill.key] = nil }
        }
    }

    /// Requests following a shared fetch now (for tests and the stats).
    var followers: Int { fills.withLockedValue { $0.values.reduce(0) { $0 + $1.subscriberCount } } }

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
