import GatewayConfig
import HTTPCaching
import NIOCore
import NIOHTTP1

/// Refreshes an entry served stale within stale-while-revalidate: once per key however many
/// requests see it stale (the key is registered until the refresh ends), off the requests' path.
enum BackgroundRefresh {
    static func start(
        _ entry: CacheEntry, request: RequestHead, route: CompiledRoute, caching: RouteCaching, loop: LoopContext,
        metrics: RouteMetrics
    ) {
        guard let cache = loop.cache, route.upstreamIndex >= 0, route.upstreamIndex < loop.upstreams.count,
            cache.beginRefresh(entry.key)
        else { return }
        let upstream = loop.upstreams[route.upstreamIndex]
        guard let pool = upstream.pickEndpoint(hashKey: nil), let address = pool.address else {
            cache.endRefresh(entry.key)
            return
        }
        let head = requestHead(for: entry, request: request, route: route, loop: loop)
        let requestTime = cache.clock()
        let identity = loop.cacheIdentity
        let allocator = ByteBufferAllocator()
        OriginFetch.fetch(
            head, from: address, on: loop.eventLoop, connectTimeout: TimeAmount(upstream.config.timeouts.connect),
            timeout: TimeAmount(route.requestTimeout), maxBodyBytes: cache.store.configuration.maxObjectBytes
        ).assumeIsolated().whenComplete { result in
            defer { cache.endRefresh(entry.key) }
            guard case .success(let fetched) = result else {
                metrics.recordRevalidation(.failed)
                return
            }
            let response = CacheableResponse(
                status: fetched.status, fields: fetched.fields, identity: identity, requestHadAuthorization: false,
                requestNoStore: false)
            if fetched.status == 304 {
                if let refreshed = CacheExchange.refresh(
                    entry, with: response, policy: caching.policy, requestTime: requestTime, cache: cache,
                    allocator: allocator)
                {
                    cache.store.insert(refreshed)
                }
                metrics.recordRevalidation(.notModified)
                return
            }
            if fetched.status >= 500 {
                metrics.recordRevalidation(.failed)
                return
            }
            metrics.recordRevalidation(.modified)
            switch StorageDecision.evaluate(
                response.facts, policy: caching.policy, requestTime: requestTime, responseTime: cache.clock())
            {
            case .store(let freshness):
                cache.store.insert(
                    CacheExchange.entry(
                        key: entry.key, response: response, body: fetched.body, freshness: freshness,
                        addETag: caching.addETag,
                        vary: VarySelector(vary: response.facts.vary) { request.values(named: $0) }, cache: cache,
                        allocator: allocator))
            case .doNotStore:
                // The origin no longer allows storing it: the stale copy must not outlive that.
                _ = cache.store.purge(.key(entry.key), soft: false, now: cache.clock())
            }
        }
    }

    /// A GET for the entry's target with its validators, the route's request header operations,
    /// and the fields the entry's variant was selected by.
    private static func requestHead(
        for entry: CacheEntry, request: RequestHead, route: CompiledRoute, loop: LoopContext
    ) -> HTTPRequestHead {
        let target = route.pathRewrite?.apply(toTarget: request.target) ?? request.target
        var headers = HTTPHeaders()
        if let host = request.host { headers.add(name: "Host", value: host) }
        for name in entry.vary.names {
            for value in request.values(named: name) { headers.add(name: name, value: value) }
        }
        for name in route.requestHeaders.remove { headers.remove(name: name) }
        for field in route.requestHeaders.set { headers.replaceOrAdd(name: field.name, value: field.value) }
        for field in route.requestHeaders.add { headers.add(name: field.name, value: field.value) }
        if let etag = entry.etag { headers.replaceOrAdd(name: "If-None-Match", value: etag.headerValue) }
        if let lastModified = entry.lastModifiedText {
            headers.replaceOrAdd(name: "If-Modified-Since", value: lastModified)
        }
        headers.add(name: "Via", value: loop.snapshot.viaValue)
        headers.add(name: "X-Request-Id", value: loop.requestIDs.nextID())
        return HTTPRequestHead(version: .http1_1, method: .GET, uri: target, headers: headers)
    }
}
