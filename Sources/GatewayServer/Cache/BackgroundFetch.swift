import GatewayConfig
import HTTPCaching
import NIOCore
import NIOHTTP1

/// Fetches a cached route's URL into the store with no client waiting: the refresh of an entry
/// served stale within stale-while-revalidate, or a warm-up asked for through the admin API.
/// Runs on one event loop with that loop's upstream balancer, over its own connection.
enum BackgroundFetch {
    enum Outcome: Sendable, Equatable {
        /// Stored (or, after a 304, the stale entry refreshed).
        case stored(status: Int, bytes: Int)
        /// The origin answered, but the response may not be stored.
        case notStored(status: Int, reason: String)
        case failed(String)
    }

    /// What to fetch: the URL as a request to the route would ask it, and the stored entry it
    /// revalidates, if any.
    struct Request {
        var key: CacheKey
        var host: String?
        var target: String
        /// The fields a stored variant is selected by (`Vary`), by lowercase name.
        var fields: (String) -> [String]
        var stale: CacheEntry?
    }

    static func fetch(
        _ request: Request, route: CompiledRoute, caching: RouteCaching, loop: LoopContext, metrics: RouteMetrics?
    ) -> EventLoopFuture<Outcome> {
        guard let cache = loop.cache, route.upstreamIndex >= 0, route.upstreamIndex < loop.upstreams.count else {
            return loop.eventLoop.makeSucceededFuture(.failed("the route has no upstream"))
        }
        let upstream = loop.upstreams[route.upstreamIndex]
        guard let index = upstream.pickEndpoint(hashKey: nil, excluding: TriedEndpoints(), now: UpstreamRuntime.now()),
            let address = upstream.pools[index].address
        else {
            return loop.eventLoop.makeSucceededFuture(.failed("no endpoint of upstream '\(upstream.config.name)'"))
        }
        let head = requestHead(for: request, route: route, loop: loop)
        let requestTime = cache.clock()
        let identity = loop.cacheIdentity
        let allocator = ByteBufferAllocator()
        let fields = request.fields
        let stale = request.stale
        let key = request.key
        return OriginFetch.fetch(
            head, from: address, on: loop.eventLoop, connectTimeout: TimeAmount(upstream.config.timeouts.connect),
            timeout: TimeAmount(route.requestTimeout), maxBodyBytes: cache.store.configuration.maxObjectBytes
        ).assumeIsolated().map { fetched -> Outcome in
            let response = CacheableResponse(
                status: fetched.status, fields: fetched.fields, identity: identity, requestHadAuthorization: false,
                requestNoStore: false)
            if fetched.status == 304, let stale {
                metrics?.recordRevalidation(.notModified)
                guard
                    let refreshed = CacheExchange.refresh(
                        stale, with: response, policy: caching.policy, requestTime: requestTime, cache: cache,
                        allocator: allocator)
                else { return .notStored(status: 304, reason: "no-store") }
                cache.store.insert(refreshed)
                return .stored(status: 304, bytes: refreshed.body.readableBytes)
            }
            if stale != nil {
                metrics?.recordRevalidation(fetched.status >= 500 ? .failed : .modified)
            }
            if fetched.status >= 500, stale != nil {
                // The stale entry stays for stale-if-error to use.
                return .notStored(status: fetched.status, reason: "status")
            }
            switch StorageDecision.evaluate(
                response.facts, policy: caching.policy, requestTime: requestTime, responseTime: cache.clock())
            {
            case .store(let freshness):
                let entry = CacheExchange.entry(
                    key: key, response: response, body: fetched.body, freshness: freshness, addETag: caching.addETag,
                    vary: VarySelector(vary: response.facts.vary, request: fields), cache: cache, allocator: allocator)
                guard case .stored = cache.insert(entry) else {
                    return .notStored(status: fetched.status, reason: "too-large")
                }
                return .stored(status: fetched.status, bytes: fetched.body.readableBytes)
            case .doNotStore(let reason):
                if stale != nil {
                    // The origin no longer allows storing it: the stale copy must not outlive that.
                    _ = cache.store.purge(.key(key), soft: false, now: cache.clock())
                }
                return .notStored(status: fetched.status, reason: reason.rawValue)
            }
        }.flatMapErrorThrowing { error in
            if stale != nil { metrics?.recordRevalidation(.failed) }
            return .failed("\(error)")
        }.nonisolated()
    }

    /// Refreshes an entry served stale within stale-while-revalidate, once per key however many
    /// requests see it stale (the key is registered until the refresh ends).
    static func refresh(
        _ entry: CacheEntry, request: RequestHead, route: CompiledRoute, caching: RouteCaching, loop: LoopContext,
        metrics: RouteMetrics
    ) {
        guard let cache = loop.cache, cache.beginRefresh(entry.key) else { return }
        let refresh = Request(
            key: entry.key, host: request.host, target: request.target, fields: { request.values(named: $0) },
            stale: entry)
        fetch(refresh, route: route, caching: caching, loop: loop, metrics: metrics).whenComplete { _ in
            cache.endRefresh(entry.key)
        }
    }

    /// A GET for the target with the stale entry's validators, the route's request header
    /// operations, and the fields the variant was selected by.
    private static func requestHead(for request: Request, route: CompiledRoute, loop: LoopContext) -> HTTPRequestHead {
        let target = route.pathRewrite?.apply(toTarget: request.target) ?? request.target
        var headers = HTTPHeaders()
        if let host = request.host { headers.add(name: "Host", value: host) }
        for name in request.stale?.vary.names ?? [] {
            for value in request.fields(name) { headers.add(name: name, value: value) }
        }
        for name in route.requestHeaders.remove { headers.remove(name: name) }
        for field in route.requestHeaders.set { headers.replaceOrAdd(name: field.name, value: field.value) }
        for field in route.requestHeaders.add { headers.add(name: field.name, value: field.value) }
        if let etag = request.stale?.etag { headers.replaceOrAdd(name: "If-None-Match", value: etag.headerValue) }
        if let lastModified = request.stale?.lastModifiedText {
            headers.replaceOrAdd(name: "If-Modified-Since", value: lastModified)
        }
        headers.add(name: "Via", value: loop.snapshot.viaValue)
        headers.add(name: "X-Request-Id", value: loop.requestIDs.nextID())
        return HTTPRequestHead(version: .http1_1, method: .GET, uri: target, headers: headers)
    }
}
