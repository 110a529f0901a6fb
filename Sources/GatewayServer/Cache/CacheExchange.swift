import GatewayConfig
import HTTPCaching
import NIOCore

/// The cache's part of one exchange on a cached route: what the lookup found, and the copy of the
/// origin's response being collected for the store as it streams to the client. The proxy handler
/// drives it; the decisions live here and in `HTTPCaching`. A class: the handler hands it around
/// several times per request, and copying this many references each time cost more (retains
/// and releases, measured) than one allocation. Lives on one event loop.
final class CacheExchange {
    let caching: RouteCaching
    let key: CacheKey
    let directives: RequestCacheControl
    /// Kept for `Vary` (the stored variant is selected by this request's fields) and for the
    /// client's own conditions, answered by the cache.
    let request: RequestHead
    let hasAuthorization: Bool
    /// The request fields the cache reads, found once.
    let fields: CacheRequestFields
    /// When the request went to the origin, for the age calculation.
    var requestTime: Int64
    var forward: CacheStatusText.Forward
    /// The stored entry being revalidated; also the fallback when the origin fails.
    var stale: CacheEntry?

    init(
        caching: RouteCaching, key: CacheKey, directives: RequestCacheControl, request: RequestHead,
        fields: CacheRequestFields, requestTime: Int64, forward: CacheStatusText.Forward
    ) {
        self.fields = fields
        self.hasAuthorization = fields.hasAuthorization
        self.caching = caching
        self.key = key
        self.directives = directives
        self.request = request
        self.requestTime = requestTime
        self.forward = forward
    }

    // The origin's response, collected for the store.
    var response: CacheableResponse?
    var freshness: Freshness?
    var bodyParts: [ByteBuffer] = []
    var bodyBytes = 0
    var isStoring = false
    /// The body arrives without chunk framing (so it can be stored) and is framed again for the client.
    var rechunk = false
    /// Set when the origin's answer is not what the client gets: a 304 that refreshed the stale
    /// entry, or an error the stale entry stands in for. Served once that response has ended.
    var answerAtEnd: (entry: CacheEntry, outcome: CacheOutcome, cacheStatus: String)?
    var outcome = CacheOutcome.miss
    /// A miss with `Range`: the full response is fetched and stored, and the range answered
    /// from the stored entry once it is complete (instead of storing nothing from a 206).
    var serveStoredAtEnd = false
    /// The Cache-Status of the origin's response, for an answer given from it later.
    var forwardedCacheStatus = ""
    /// The shared origin fetch this exchange leads or follows (request coalescing).
    var fill: CacheFill?
    var leadsFill = false
    // A follower's progress through the fill.
    var followerID: Int?
    var followerChunkIndex = 0
    var followerHeadWritten = false
    var followerFramesChunks = false

    /// A plain miss may share an origin fetch: not a revalidation (that has its own entry), not
    /// a request that wants its own answer (no-cache, credentials), not one with a body.
    var mayShareFetch: Bool {
        !isBypass && stale == nil && !directives.noCache && !hasAuthorization && request.method == .GET
            && !request.hasBody
    }

    /// Keys an unsafe method's successful response invalidates (RFC 9111 4.4).
    private var invalidates: [CacheKey] = []

    /// Unsafe and other methods on a cached route: forwarded as they are, reported as BYPASS.
    var isBypass: Bool { forward == .method }

    /// Only responses that may be stored need their chunk framing removed.
    var wantsUnframedBody: Bool { !isBypass }

    enum Lookup {
        /// `refresh`: the entry is stale within stale-while-revalidate and is refreshed in the background.
        case serve(CacheExchange, CacheEntry, CacheOutcome, cacheStatus: String, refresh: Bool)
        case forward(CacheExchange)
        /// `only-if-cached` and nothing usable stored.
        case notCached(CacheExchange)
    }

    /// Looks the request up and decides: answer from the store, or go to the origin (with the
    /// stale entry's validators when there is one).
    static func lookUp(
        _ head: RequestHead, caching: RouteCaching, cache: EdgeCache, identity: CacheIdentity
    ) -> Lookup {
        let now = cache.clock()
        let key = CacheKey.make(host: head.host, target: head.target, query: caching.query)
        let fields = CacheRequestFields(head)
        let directives =
            fields.cacheControl.isEmpty && fields.pragma.isEmpty
            ? RequestCacheControl() : RequestCacheControl(cacheControl: fields.cacheControl, pragma: fields.pragma)
        let hasAuthorization = fields.hasAuthorization
        let exchange = CacheExchange(
            caching: caching, key: key, directives: directives, request: head, fields: fields, requestTime: now,
            forward: .uriMiss)
        switch cache.store.lookup(key, request: { head.values(named: $0) }) {
        case .found(let entry):
            if hasAuthorization && !entry.freshness.servesAuthorizedRequests {
                exchange.forward = .request
                break
            }
            switch ServeDecision.decide(entry.freshness, request: directives, now: now) {
            case .fresh:
                let ttl = entry.freshness.remainingSeconds(now: now)
                return .serve(
                    exchange, entry, .hit, cacheStatus: CacheStatusText.hit(identity.name, ttl: ttl), refresh: false)
            case .staleAcceptedByClient:
                let ttl = entry.freshness.remainingSeconds(now: now)
                return .serve(
                    exchange, entry, .stale,
                    cacheStatus: CacheStatusText.hit(identity.name, ttl: ttl) + "; detail=max-stale", refresh: false)
            case .staleWhileRevalidate:
                let ttl = entry.freshness.remainingSeconds(now: now)
                return .serve(
                    exchange, entry, .stale,
                    cacheStatus: CacheStatusText.hit(identity.name, ttl: ttl) + "; detail=stale-while-revalidate",
                    refresh: true)
            case .revalidate:
                exchange.stale = entry
                exchange.forward = directives.noCache || directives.maxAge != nil ? .request : .stale
            }
        case .varyMiss:
            exchange.forward = .varyMiss
        case .miss:
            exchange.forward = .uriMiss
        }
        if directives.onlyIfCached { return .notCached(exchange) }
        return .forward(exchange)
    }

    /// A request with a method the cache does not answer (POST, PUT, DELETE, ...).
    static func bypass(_ head: RequestHead, caching: RouteCaching, cache: EdgeCache) -> CacheExchange {
        let exchange = CacheExchange(
            caching: caching, key: CacheKey.make(host: head.host, target: head.target, query: caching.query),
            directives: RequestCacheControl(), request: head, fields: CacheRequestFields(), requestTime: cache.clock(),
            forward: .method)
        exchange.outcome = .bypass
        return exchange
    }

    /// When the origin's answer to a revalidation is not what the client gets: a 304 refreshes
    /// the stale entry (stored again) and the entry answers; a 5xx within stale-if-error leaves
    /// the stale entry to answer.
    func answerInstead(
        of head: UpstreamResponseHead, cache: EdgeCache, identity: CacheIdentity, allocator: ByteBufferAllocator
    ) -> (entry: CacheEntry, outcome: CacheOutcome, cacheStatus: String)? {
        guard let stale else { return nil }
        let now = cache.clock()
        if head.status == 304 {
            let update = CacheableResponse(
                head: head, identity: identity, requestHadAuthorization: hasAuthorization,
                requestNoStore: directives.noStore)
            let refreshed = Self.refresh(
                stale, with: update, policy: caching.policy, requestTime: requestTime, cache: cache,
                allocator: allocator)
            if let refreshed {
                cache.store.insert(refreshed)
            }
            let entry = refreshed ?? stale
            let status = CacheStatusText.forwarded(
                identity.name, forward, status: 304, stored: refreshed != nil,
                ttl: entry.freshness.remainingSeconds(now: now))
            return (entry, .revalidated, status)
        }
        if head.status >= 500, ServeDecision.mayServeStaleOnError(stale.freshness, now: now) {
            let status = CacheStatusText.staleOnError(
                identity.name, ttl: stale.freshness.remainingSeconds(now: now), status: head.status)
            return (stale, .stale, status)
        }
        return nil
    }

    /// The stale entry, if the origin could not be reached (or timed out) and stale-if-error
    /// allows it to answer.
    func staleAnswerOnFailure(cache: EdgeCache?, identity: CacheIdentity) -> (CacheEntry, String)? {
        guard let stale, let cache else { return nil }
        let now = cache.clock()
        guard ServeDecision.mayServeStaleOnError(stale.freshness, now: now) else { return nil }
        return (
            stale,
            CacheStatusText.staleOnError(identity.name, ttl: stale.freshness.remainingSeconds(now: now), status: nil)
        )
    }

    /// After a successful unsafe request, the stored responses for its target and for the
    /// `Location` / `Content-Location` it names on the same host are no longer trustworthy.
    func invalidateAfterUnsafeMethod(status: Int, cache: EdgeCache) {
        guard isBypass, (200..<400).contains(status) else { return }
        for key in [key] + invalidates {
            _ = cache.store.purge(.key(key), soft: false, now: cache.clock())
        }
    }

    /// Location and Content-Location of the response, as keys, when they are on the request's host.
    func noteInvalidationTargets(_ head: UpstreamResponseHead) {
        let host = request.host?.lowercased()
        for field in head.fields
        where head.nameEquals(field, lowercase: "location")
            || head.nameEquals(field, lowercase: "content-location")
        {
            let value = head.value(of: field)
            var target: String?
            if value.hasPrefix("/") && !value.hasPrefix("//") {
                target = value
            } else if let schemeEnd = value.range(of: "://") {
                let rest = value[schemeEnd.upperBound...]
                let slash = rest.firstIndex(of: "/") ?? rest.endIndex
                if rest[..<slash].lowercased() == host {
                    target = rest[slash...].isEmpty ? "/" : String(rest[slash...])
                }
            }
            if let target {
                invalidates.append(CacheKey.make(host: request.host, target: target, query: caching.query))
            }
        }
    }

    /// The request asks for part of the representation.
    var wantsRange: Bool { request.method == .GET && fields.range != nil }

    /// The parts of a stored 200 this request asks for: `If-Range` must name the entry's current
    /// version (a strong ETag match, or its exact Last-Modified), else the whole entry is the answer.
    func requestedRanges(of entry: CacheEntry) -> ByteRanges {
        guard entry.status == 200, request.method == .GET, let range = fields.range else {
            return .ignore
        }
        if let condition = fields.ifRange {
            if let tag = EntityTag(parsing: condition) {
                guard let current = entry.etag, tag.strongMatches(current) else { return .ignore }
            } else {
                guard let date = HTTPDate.parse(condition), date == entry.lastModified else { return .ignore }
            }
        }
        return ByteRanges.parse(range, length: entry.body.readableBytes)
    }

    /// The route's request operations plus the cache's: the client's own conditions are answered
    /// by the cache (so the origin sends a full, storable response), and the stale entry's
    /// validators go instead.
    func upstreamOperations(_ route: HeaderOperations) -> HeaderOperations {
        guard !isBypass else { return route }
        var operations = route
        operations.remove += ["if-none-match", "if-modified-since", "range", "if-range"]
        if let stale {
            if let etag = stale.etag {
                operations.set.append(HeaderField(name: "If-None-Match", value: etag.headerValue))
            }
            if let lastModified = stale.lastModifiedText {
                operations.set.append(HeaderField(name: "If-Modified-Since", value: lastModified))
            }
        }
        return operations
    }

    /// The route's response operations plus the cache's fields, for a response forwarded from the
    /// origin, or from a parent tier whose own cache fields it extends.
    static func downstreamOperations(
        _ route: HeaderOperations, identity: CacheIdentity, outcome: CacheOutcome, cacheStatus: String,
        parent: ParentCacheFields
    )
        -> HeaderOperations
    {
        var operations = route
        operations.remove += ["surrogate-key", "cache-tag"] + identity.targetedFields
        operations.set += [
            HeaderField(name: "X-Cache", value: parent.xCache.map { "\(outcome.rawValue), \($0)" } ?? outcome.rawValue),
            HeaderField(
                name: "X-Served-By", value: parent.servedBy.map { "\(identity.name), \($0)" } ?? identity.name),
            HeaderField(name: "Cache-Status", value: parent.cacheStatus.map { "\($0), \(cacheStatus)" } ?? cacheStatus),
        ]
        return operations
    }

    /// The coding of the entry's encoded bodies this client prefers; nil for identity.
    func preferredCoding(of entry: CacheEntry) -> ContentCoding? {
        guard !entry.encodings.isEmpty else { return nil }
        return AcceptEncoding(fields.acceptEncoding).preferred(among: entry.encodings.map(\.coding))
    }

    /// Whether the client's `If-None-Match` / `If-Modified-Since` (RFC 9110 13.1.2, 13.1.3) hold
    /// against the entry, so that the answer is 304. Any representation's validator counts: the
    /// client may hold the gzip one and now accept br as well.
    func clientHasCurrentCopy(of entry: CacheEntry) -> Bool {
        guard entry.status == 200 else { return false }
        let noneMatch = fields.ifNoneMatch
        if !noneMatch.isEmpty {
            let condition = EntityTagList.parse(noneMatch)
            let representations: [ContentCoding?] = [nil] + entry.encodings.map(\.coding)
            return representations.contains { condition.matchesForNoneMatch(entry.etag(for: $0)) }
        }
        if let since = fields.ifModifiedSince.flatMap(HTTPDate.parse),
            let modified = entry.lastModified
        {
            return modified <= since
        }
        return false
    }

    /// Starts collecting the origin's response if the store may keep it. Returns the
    /// `Cache-Status` for the forwarded response.
    func beginStoring(
        _ head: UpstreamResponseHead, framing: UpstreamResponseHead.BodyFraming, requestIsHead: Bool,
        cache: EdgeCache, identity: CacheIdentity
    ) -> String {
        let now = cache.clock()
        let response = CacheableResponse(
            head: head, identity: identity, requestHadAuthorization: hasAuthorization,
            requestNoStore: directives.noStore)
        var detail: String?
        if isBypass {
            noteInvalidationTargets(head)
            return CacheStatusText.forwarded(identity.name, .method, status: head.status)
        } else if requestIsHead {
            detail = "head"
        } else {
            switch StorageDecision.evaluate(
                response.facts, policy: caching.policy, requestTime: requestTime, responseTime: now)
            {
            case .store(let freshness):
                if case .length(let length) = framing, length > cache.store.configuration.maxObjectBytes {
                    detail = "too-large"
                } else {
                    self.freshness = freshness
                    self.response = response
                    isStoring = true
                }
            case .doNotStore(let reason):
                detail = reason.rawValue
            }
        }
        return CacheStatusText.forwarded(
            identity.name, forward, status: head.status, stored: isStoring, ttl: freshness?.lifetime, detail: detail)
    }

    /// The leader tells the followers what they will answer with, or that they must fetch
    /// themselves (the response will not be stored, so it is not theirs to share).
    func publishHeadToFollowers(
        framing: UpstreamResponseHead.BodyFraming, cache: EdgeCache, allocator: ByteBufferAllocator
    ) {
        guard leadsFill, let fill else { return }
        guard isStoring, let response, let freshness else {
            fill.abandon()
            cache.endFill(fill)
            self.fill = nil
            return
        }
        let contentLength: Int?
        switch framing {
        case .none: contentLength = 0
        case .length(let length): contentLength = length
        case .chunked, .untilClose: contentLength = nil
        }
        let request = self.request
        fill.publishHead(
            CacheFill.Head(
                status: response.facts.status,
                fields: response.fieldBlock(addedETag: nil, now: cache.clock(), allocator: allocator),
                contentLength: contentLength,
                vary: VarySelector(vary: response.facts.vary) { request.values(named: $0) },
                ttl: freshness.lifetime))
    }

    func publishChunkToFollowers(_ buffer: ByteBuffer, cache: EdgeCache) {
        guard leadsFill, let fill else { return }
        if isStoring {
            fill.publishChunk(buffer)
        } else {
            // Grew past max_object: followers that already answered are cut off.
            fill.abandon()
            cache.endFill(fill)
            self.fill = nil
        }
    }

    func collect(_ buffer: ByteBuffer, maxObjectBytes: Int) {
        guard isStoring else { return }
        bodyBytes += buffer.readableBytes
        if bodyBytes > maxObjectBytes {
            isStoring = false
            bodyParts = []
            return
        }
        bodyParts.append(buffer)
    }

    /// The entry for the store once the whole body arrived, or nil if it is not to be stored.
    func finishStoring(cache: EdgeCache, allocator: ByteBufferAllocator) -> CacheEntry? {
        guard isStoring, let response, let freshness else { return nil }
        isStoring = false
        var body = allocator.buffer(capacity: bodyBytes)
        for var part in bodyParts {
            body.writeBuffer(&part)
        }
        bodyParts = []
        let request = self.request
        return Self.entry(
            key: key, response: response, body: body, freshness: freshness, addETag: caching.addETag,
            vary: VarySelector(vary: response.facts.vary) { request.values(named: $0) }, cache: cache,
            allocator: allocator)
    }

    /// A stored entry from a complete response that may be stored.
    static func entry(
        key: CacheKey, response: CacheableResponse, body: ByteBuffer, freshness: Freshness, addETag: Bool,
        vary: VarySelector, cache: EdgeCache, allocator: ByteBufferAllocator
    ) -> CacheEntry {
        let addedETag =
            addETag && response.etag == nil && response.lastModifiedText == nil ? GeneratedETag.of(body) : nil
        var response = response
        if let compressor = cache.compressor {
            response.varyOnAcceptEncodingIfCompressed(by: compressor, bodySize: body.readableBytes)
        }
        return CacheEntry(
            key: key, vary: vary, status: response.facts.status,
            fields: response.fieldBlock(addedETag: addedETag, now: cache.clock(), allocator: allocator), body: body,
            etag: addedETag ?? response.etag, lastModifiedText: response.lastModifiedText, freshness: freshness,
            tags: response.tags)
    }

    /// RFC 9111 4.3.4: a 304 from the origin updates the stored fields it carries and the
    /// freshness; the body stays. Nil if the 304 itself says the result must not be stored.
    static func refresh(
        _ entry: CacheEntry, with response: CacheableResponse, policy: CachePolicy, requestTime: Int64,
        cache: EdgeCache, allocator: ByteBufferAllocator
    ) -> CacheEntry? {
        let now = cache.clock()
        var update = response
        if update.facts.date == nil {
            // RFC 9110 6.6.1: the 304 is dated when it arrived, and that date replaces the stored
            // one, or the refreshed entry would look as old as the first response.
            let date = HTTPDate.format(now / 1000)
            update.keptFields.append(("Date", date))
            update.facts.date = date
        }
        // The stored fields, with those the 304 sends replaced.
        var merged: [(name: String, value: String)] = []
        let updatedNames = Set(update.keptFields.map { $0.name.lowercased() })
        StoredFields.forEachLine(of: entry.fields) { name, line in
            guard !updatedNames.contains(name.lowercased()) else { return }
            merged.append((String(name), StoredFields.value(ofLine: line, nameLength: name.utf8.count)))
        }
        merged += update.keptFields
        var combined = update
        combined.keptFields = merged
        combined.facts.status = entry.status
        for (name, value) in merged {
            switch name.lowercased() {
            case "cache-control" where update.facts.cacheControl.isEmpty: combined.facts.cacheControl.append(value)
            case "expires" where update.facts.expires.isEmpty: combined.facts.expires.append(value)
            case "last-modified" where update.facts.lastModified == nil: combined.facts.lastModified = value
            case "etag" where update.facts.etag == nil: combined.facts.etag = value
            case "vary" where update.facts.vary.isEmpty: combined.facts.vary.append(value)
            case "date" where update.facts.date == nil: combined.facts.date = value
            default: break
            }
        }
        combined.hasDate = true
        guard
            case .store(let freshness) = StorageDecision.evaluate(
                combined.facts, policy: policy, requestTime: requestTime, responseTime: now)
        else { return nil }
        return entry.refreshed(
            fields: combined.fieldBlock(addedETag: nil, now: now, allocator: allocator),
            etag: update.etag, lastModifiedText: update.lastModifiedText, freshness: freshness,
            tags: update.tags.isEmpty ? entry.tags : update.tags)
    }
}
