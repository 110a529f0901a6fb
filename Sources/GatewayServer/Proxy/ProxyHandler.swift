import Atomics
import Authentication
import GatewayConfig
import HTTPCaching
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import RateLimiting
import Redis
import Tracing

/// The downstream side of the proxy: one instance per client connection, the last handler of its
/// pipeline. It sequences the request phases (limits → route → rewrite → choose endpoint → proxy)
/// and streams both bodies with backpressure. It parses the client's bytes itself (`RequestParser`)
/// and has at most one exchange in flight: bytes of pipelined requests that arrive meanwhile stay
/// unparsed until the response ends. (NIO's `HTTPServerPipelineHandler` would order them too, but
/// by stopping and restarting reads around every response, which costs two `epoll_ctl` calls per
/// request.)
///
/// All state lives on the channel's event loop, as do the upstream connection and its pool.
final class ProxyHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    /// Responses go to the client as bytes: proxied heads are the upstream's own bytes, edited
    /// (`DownstreamHeadWriter`), and bodies are forwarded as they arrived.
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum Phase {
        /// Between requests.
        case idle
        /// Head received and routed; waiting for a pooled or new upstream connection.
        case waitingForConnection
        /// Request (and then response) flowing through an upstream connection.
        case proxying
        /// Waiting for, or streaming, the response of another request's origin fetch for the same
        /// cache key (request coalescing).
        case followingFill
        /// Waiting for something to decide whether the request may go on: Redis for the route's
        /// rate limits, or a JWKS refresh for a token naming a new key.
        case waitingForDecision
        /// The upstream switched protocols (101): bytes go both ways as they come until either
        /// side closes or the tunnel is idle for the listener's idle timeout.
        case tunnelling
        /// The gateway answered itself; the rest of the request body is discarded.
        case answeredLocally
        /// The last response is being written and the connection closes after it; input is ignored.
        case closing
        case closed
    }

    private let loop: LoopContext
    private let listener: ListenerRuntime
    private var context: ChannelHandlerContext?
    /// Asked of the channel once: each `context.channel` is a walk through the pipeline.
    private var allocator = ByteBufferAllocator()
    private let peer: ConnectionPeer
    private var client: ClientAddress { peer.client }

    private var phase = Phase.idle
    private var downstreamReadPending = false
    private var parser: RequestParser
    /// Client bytes not parsed yet: the rest of a partial head, or requests pipelined behind the
    /// current exchange.
    private var input = PendingInput()
    private var isProcessingInput = false
    /// Beyond this many unparsed pipelined bytes the client is not read until they are consumed.
    private static let maxPipelinedBytes = 64 * 1024
    private static let maxDiscardedBody = 64 * 1024
    /// After an early answer, how many body bytes (as on the wire, `RequestParser.bodyWireBytes`)
    /// may still be read and dropped before the connection is closed instead.
    private var discardBodyUntil = Int.max
    private var upstreamWritable = true
    /// Tracked from writability events rather than asked of the channel per request (each ask is
    /// an existential call plus retains inside NIO).
    private var downstreamWritable = true
    private var requestsOnConnection = 0
    /// Numbers exchanges on this connection (and retries within one), so a connection or failure
    /// that arrives for an exchange that already ended is recognised as stale.
    private var exchangeNumber: UInt64 = 0
    /// When the current wait (for a head, or the next body chunk) began; checked by the loop sweep.
    private var waitingSince = NIODeadline.now()
    /// The time of the event being handled: a client read, a connect, or the end of a response.
    /// Deadlines have a granularity of a second, so one clock read per event is enough (it was
    /// six per request).
    private var eventTime = NIODeadline.now()

    // The current exchange. Plain fields rather than a per-request object: no allocation per request.
    private var route: CompiledRoute?
    /// `route`'s index in the snapshot it was matched in, and that snapshot's generation.
    private var routeIndex = -1
    private var routeGeneration = 0
    private var upstream: UpstreamRuntime?
    private var pool: EndpointPool?
    /// The endpoint of the current attempt, in `upstream.pools`.
    private var endpointIndex = 0
    /// The current attempt was admitted by the endpoint's breaker and its outcome not reported yet.
    private var attemptUnreported = false
    /// The current attempt's connection took the request (head and buffered body): from then on
    /// only a kept copy of the body can be sent again.
    private var attemptSentRequest = false
    private var triedEndpoints = TriedEndpoints()
    private var retriesLeft = 0
    private var attemptsMade = 0
    private var hashKey: UInt64?
    /// The request body as sent so far, kept while the upstream retries and it fits `retries.max_body`:
    /// a retry sends it again. nil when not kept (then a request with a body is not retried).
    private var retainedBody: CircularBuffer<ByteBuffer>?
    private var retainedBodyBytes = 0
    private var pendingRetry: Scheduled<Void>?
    /// Bulkhead slots this exchange holds; given back when it is recorded.
    private var routeSlot: Bulkhead?
    private var upstreamSlot: Bulkhead?
    private var pendingSlot: Bulkhead?
    private var connection: UpstreamConnection?
    /// The request head as the upstream gets it, kept (it is a value) for a retry.
    private var upstreamHead: ByteBuffer?
    private var requestMethod = HTTPMethod.GET
    /// The client's region by `geo`, on routes that pick their upstream by it (for the log).
    private var clientRegion: String?
    /// From the request's `traceparent`, for error log lines.
    private var traceID: String?
    private var requestFraming = UpstreamRequestWriter.Framing.none
    private var bufferedBody = CircularBuffer<ByteBuffer>()
    private var requestID = RequestID.none
    /// Spans and the upstream's `traceparent`; nil without tracing.
    private var trace: ExchangeTrace?
    /// "allowed" or "limited" once the route's rate limits decided, for the server span.
    private var rateLimitDecision: String?
    private var downstreamVersion = HTTPVersion.http1_1
    private var downstreamKeepAlive = true
    private var requestHasBody = false
    private var requestIsHead = false
    private var requestIsUpgrade = false
    /// gRPC needs HTTP/2, so only streams are looked at; its errors are answered in gRPC form.
    private var requestIsGRPC = false
    private var requestEndReceived = false
    private var requestEndSent = false
    private var responseHeadSent = false
    private var upstreamKeepAlive = true
    private var requestBodyBytes = 0
    private var connectionWasReused = false
    private var retriedOnFreshConnection = false
    /// One timer per connection, re-armed lazily: it may fire early (a deadline moved later) and
    /// then re-arms itself, so a busy keep-alive connection schedules a timer about once per
    /// timeout period instead of scheduling and cancelling one per request. HTTP/2 streams (a
    /// handler per request) share their connection's timer instead (`ConnectionPeer.streamTimer`).
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?
    private var downstreamNeedsFlush = false
    /// A proxied response head held back for a moment so that a small body arriving in the same
    /// read goes out in the same buffer: one write (and one `write` syscall) instead of two.
    private var heldResponseHead: ByteBuffer?
    /// Buffers of the previous exchange, reused by the next one (see `recycledBuffer`). Larger
    /// ones are let go, so an idle keep-alive connection holds at most a few KiB.
    private var responseBufferStorage: ByteBuffer?
    private var requestHeadStorage: ByteBuffer?
    private static let maxRecycledBuffer = 4096
    private static let maxCoalescedBody = 16 * 1024
    /// The cache's part of the exchange; nil on routes that do not cache.
    private var cacheExchange: CacheExchange?
    /// RateLimit-* fields for the response, on routes with rate limits.
    private var rateLimitFields: [HeaderField] = []
    /// Who the request authenticated as, and with which route's rules, on routes with auth.
    private var identity: RequestIdentity?
    private var authenticator: RouteAuthenticator?
    /// `WWW-Authenticate` of a refused request.
    private var authChallenge: [HeaderField] = []
    /// Other fields of a local answer (a redirect's `Location`).
    private var extraLocalFields: [HeaderField] = []
    private var requestDeadline = NIODeadline.distantFuture
    private var responseHeaderDeadline = NIODeadline.distantFuture
    private var responseHeaderTimeout = TimeAmount.seconds(15)

    // What the metrics and the access log record when the exchange ends.
    /// True from the request head (or an unparseable one) until the exchange was recorded.
    private var exchangeUnrecorded = false
    private var exchangeStart = NIODeadline.now()
    private var routeMetrics: RouteMetrics
    private var upstreamMetrics: UpstreamMetrics?
    private var upstreamSentAt = NIODeadline.now()
    private var upstreamDuration: TimeAmount?
    private var responseStatus = 0
    private var requestHeadBytes = 0
    private var responseBytes = 0
    /// Body bytes from the upstream on a cached route (the origin's share of what was served).
    private var originBytes = 0
    /// Kept only while an access log is configured: the strings exist anyway, holding them costs
    /// a retain each.
    private var logTarget: String?
    private var logHost: String?

    /// Whether this handler serves an HTTP/2 stream (behind `HTTP2StreamBridge`) rather than a
    /// client connection of its own: streams are not counted as accepted connections.
    private let isStream: Bool

    /// `peer` is shared by the streams of one HTTP/2 connection; an HTTP/1.1 connection has its own.
    init(loop: LoopContext, listener: ListenerRuntime, isStream: Bool = false, peer: ConnectionPeer = ConnectionPeer())
    {
        self.loop = loop
        self.listener = listener
        self.isStream = isStream
        self.peer = peer
        self.parser = RequestParser(maxHeadBytes: listener.maxHeaderBytes, maxFields: listener.maxHeaders)
        self.routeMetrics = loop.metrics.unrouted
        Self.liveHandlers.wrappingIncrement(ordering: .relaxed)
    }

    deinit {
        Self.liveHandlers.wrappingDecrement(ordering: .relaxed)
    }

    /// Handlers alive in the process (one per client connection or HTTP/2 stream): what a leak
    /// of connections would show first; tests check it returns to where it was.
    static let liveHandlers = ManagedAtomic(0)

    var listenerName: String { listener.name }
    var listenerBindingID: Int { listener.bindingID }

    // MARK: - Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        allocator = context.channel.allocator
        if context.channel.isActive {
            begin(context: context)
        }
    }

    /// The context holds this handler and this handler held the context: without letting go here,
    /// every closed connection (every finished HTTP/2 stream) stayed in memory with its pipeline.
    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        stopTimer()
        pendingRetry?.cancel()
        pendingRetry = nil
    }

    /// Whether `begin` ran: the handler may be added before the channel is active (the common
    /// case) or after (behind TLS ALPN or the h2c preface check), and must start once either way.
    private var started = false

    func channelActive(context: ChannelHandlerContext) {
        begin(context: context)
        context.fireChannelActive()
    }

    private func begin(context: ChannelHandlerContext) {
        guard !started else { return }
        started = true
        peer.resolve(context.channel.remoteAddress, trustedProxies: loop.snapshot.configuration.trustedProxies)
        waitingSince = .now()
        if !isStream { loop.metrics.acceptedConnections += 1 }
        loop.register(self)
        if loop.isDraining {
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        loop.unregister(self)
        eventTime = .now()
        // nginx's 499: the client closed before its response was complete.
        recordExchange(status: responseStatus == 0 ? 499 : responseStatus)
        abandonExchange()
        stopTimer()
        phase = .closed
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if phase == .closing || phase == .closed {
            return
        }
        var buffer = unwrapInboundIn(data)
        eventTime = .now()
        if phase == .tunnelling {
            return forwardIntoTunnel(buffer)
        }
        input.append(&buffer)
        processInput(context: context)
    }

    /// True once the current request has fully arrived but its response has not: anything the
    /// client sends now belongs to a later request.
    private var isPipelinedBehindCurrentExchange: Bool {
        phase != .idle && requestEndReceived
    }

    /// Parses and handles requests from `input` until it runs out or a request is in flight whose
    /// response has not ended. Re-entrant calls (an exchange that ends synchronously, like a 404)
    /// return at once and the outer loop carries on.
    private func processInput(context: ChannelHandlerContext) {
        guard !isProcessingInput else { return }
        isProcessingInput = true
        defer { isProcessingInput = false }
        while phase != .closing && phase != .closed && !isPipelinedBehindCurrentExchange {
            let event: RequestParser.Event?
            do {
                event = try parser.next(&input.bytes)
            } catch {
                handleParseError(error, context: context)
                break
            }
            guard let event else { break }
            switch event {
            case .head(let head):
                receiveHead(head, context: context)
            case .body(let buffer):
                receiveBody(buffer, context: context)
            case .end:
                receiveEnd(context: context)
            }
        }
        input.releaseIfConsumed()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        // Not passed on: this is the pipeline's last handler, and the walk to NIO's tail costs
        // time on every read.
        if phase == .proxying || phase == .tunnelling {
            connection?.handler.flush()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        downstreamWritable = context.channel.isWritable
        connection?.handler.setReadsAllowed(downstreamWritable)
        if downstreamWritable {
            resumeDownstreamReads()
        }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    /// The parser cannot resynchronise after a framing error: answer (if nothing of a response
    /// went out yet), then close.
    private func handleParseError(_ error: RequestParseError, context: ChannelHandlerContext) {
        input.clear()
        guard !responseHeadSent, phase != .closed else {
            closeNow()
            return
        }
        downstreamKeepAlive = false
        requestEndReceived = true
        if phase == .idle {
            // An unparseable head has no id, version or method of its own; never reuse the
            // previous request's.
            requestID = loop.requestIDs.next()
            traceID = nil
            trace = nil
            downstreamVersion = .http1_1
            requestIsHead = false
            startRecording(headBytes: 0, method: nil)
        }
        let gatewayError: GatewayError
        switch error {
        case .headTooLarge, .tooManyFields: gatewayError = .headersTooLarge
        case .requestLineTooLong: gatewayError = .uriTooLong
        case .versionNotSupported: gatewayError = .versionNotSupported
        case .malformed, .malformedChunk: gatewayError = .badRequest
        case .badPath: gatewayError = .badPath
        }
        abandonExchange()
        respondLocally(gatewayError, context: context)
    }

    func read(context: ChannelHandlerContext) {
        // Backpressure: stop reading the client while its bytes have nowhere to go, or while it is
        // not reading what it already asked for (pipelined requests answered locally would
        // otherwise pile up responses without bound).
        if phase == .waitingForConnection || phase == .waitingForDecision || !upstreamWritable || !downstreamWritable
            || hasTooMuchPipelinedInput
        {
            downstreamReadPending = true
            return
        }
        context.read()
    }

    // MARK: - Request phases

    private var hasTooMuchPipelinedInput: Bool {
        isPipelinedBehindCurrentExchange && input.bytes.readableBytes >= Self.maxPipelinedBytes
    }

    private func receiveHead(_ head: RequestHead, context: ChannelHandlerContext) {
        guard phase == .idle else {
            if phase != .closing { context.close(promise: nil) }
            return
        }
        beginExchange(head)
        let snapshot = loop.snapshot
        let host = head.host
        if loop.accessLog != nil {
            logTarget = head.target
            logHost = host
        }

        if let field = head.requestIDField, case let passedOn = head.value(of: field),
            RequestIDGenerator.isAcceptable(passedOn)
        {
            requestID = RequestID(passedOn: passedOn)
        } else {
            requestID = loop.requestIDs.next()
        }
        if let field = head.traceParentField {
            traceID = TraceParent.traceID(head.value(of: field))
        }
        requestHasBody = head.hasBody
        // The body's framing is the gateway's, set from what the parser actually framed, never
        // the client's header text: a `Connection: content-length` or an odd spelling of chunked
        // must not let the body be read upstream as a second request.
        if !head.hasKnownFraming {
            requestFraming = .none
        } else if head.transferCoding == .chunked {
            requestFraming = .chunked
        } else if let contentLength = head.contentLength {
            requestFraming = .contentLength(contentLength)
        } else {
            requestFraming = .none
        }
        switch head.transferCoding {
        case .unsupported: return respondLocally(.unsupportedTransferCoding, context: context)
        case .chunked, .none: break
        }
        if head.expectation == .unsupported {
            return respondLocally(.unsupportedExpectation, context: context)
        }
        if head.hostCount > 1 || (head.hostCount == 0 && head.versionMinor >= 1 && head.authority == nil) {
            return respondLocally(.missingHost, context: context)
        }
        if let host, !HostSyntax.isValid(host) {
            return respondLocally(.invalidHost, context: context)
        }
        if !head.hasKnownFraming {
            return respondLocally(.badRequest, context: context)
        }
        if let maxBody = listener.maxBody, let contentLength = head.contentLength, contentLength > maxBody {
            return respondLocally(.payloadTooLarge, context: context)
        }

        if let port = listener.httpsRedirectPort {
            return redirectToHTTPS(head, port: port, context: context)
        }
        let uri = head.target
        let pathEnd = uri.utf8.firstIndex(of: UInt8(ascii: "?")) ?? uri.endIndex
        guard
            let match = snapshot.router.match(
                host: host.map { Substring($0) }, path: uri[..<pathEnd], method: Substring(head.method.rawValue),
                headers: RequestHeaderLookup(head: head))
        else {
            beginTrace(head, route: nil, snapshot: snapshot)
            return respondLocally(.noRoute, context: context)
        }
        let route = snapshot.routes[match.routeIndex]
        self.route = route
        beginTrace(head, route: route, snapshot: snapshot)
        routeIndex = match.routeIndex
        routeGeneration = snapshot.generation
        routeMetrics = loop.routeMetrics[match.routeIndex]
        guard route.upstreamIndex >= 0, route.upstreamIndex < loop.upstreams.count else {
            return respondLocally(.noEndpoint, context: context)
        }
        requestMethod = head.method
        if match.routeIndex < loop.routeAuth.count, let authenticator = loop.routeAuth[match.routeIndex] {
            return authenticate(
                head, with: authenticator, route: route, routeIndex: match.routeIndex, snapshot: snapshot,
                context: context, mayRefresh: true)
        }
        continueAfterAuthentication(
            head, route: route, routeIndex: match.routeIndex, snapshot: snapshot, context: context)
    }

    /// `https_redirect`: the same host and target on HTTPS. The host is the request's own, so it
    /// must look like one (no path, user info or spaces smuggled into the Location).
    private func redirectToHTTPS(_ head: RequestHead, port: Int, context: ChannelHandlerContext) {
        guard let hostValue = head.host, let host = Self.hostWithoutPort(hostValue) else {
            return respondLocally(.missingHost, context: context)
        }
        let authority = port == 443 ? host : "\(host):\(port)"
        var target = head.target
        if !target.hasPrefix("/") {
            // Absolute form: the path after the authority (RFC 9112 3.2.2); OPTIONS * stays *.
            if let schemeEnd = target.range(of: "://"),
                let pathStart = target[schemeEnd.upperBound...].firstIndex(of: "/")
            {
                target = String(target[pathStart...])
            } else {
                target = "/"
            }
        }
        extraLocalFields = [HeaderField(name: "Location", value: "https://\(authority)\(target)")]
        respondLocally(
            head.method == .GET || head.method == .HEAD ? .httpsRedirect : .httpsRedirectKeepingMethod,
            context: context)
    }

    /// `example.test:8080` → `example.test`, `[::1]:8080` → `[::1]`; nil for anything that is not
    /// a plain name or address.
    static func hostWithoutPort(_ value: String) -> String? {
        var host = Substring(value)
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return nil }
            let rest = host[host.index(after: close)...]
            guard rest.isEmpty || (rest.first == ":" && rest.dropFirst().allSatisfy(\.isNumber)) else { return nil }
            host = host[...close]
            return host.dropFirst().dropLast().allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." })
                ? String(host) : nil
        }
        if let colon = host.firstIndex(of: ":") {
            guard host[host.index(after: colon)...].allSatisfy(\.isNumber) else { return nil }
            host = host[..<colon]
        }
        guard !host.isEmpty,
            host.utf8.allSatisfy({ byte in
                (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                    || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                    || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "-")
                    || byte == UInt8(ascii: ".")
            })
        else { return nil }
        return String(host)
    }

    /// Where the matched route is in the loop's current snapshot: a reload may have replaced the
    /// snapshot while the request waited (a JWKS refresh, Redis, a shared fetch), and the loop's
    /// per-route and per-upstream arrays follow the current one. nil when the route is gone.
    private func liveRoute(_ route: CompiledRoute, _ index: Int) -> (index: Int, upstreamIndex: Int)? {
        let current = loop.snapshot
        if current.generation == routeGeneration { return (index, route.upstreamIndex) }
        guard let live = current.routes.firstIndex(where: { $0.name == route.name }) else { return nil }
        return (live, current.routes[live].upstreamIndex)
    }

    /// `upstream_by_region`: the upstream of the client's region (by `geo`, from the address the
    /// rate limits also use: the peer, or behind trusted proxies the forwarded client).
    private func regionalUpstream(_ live: (index: Int, upstreamIndex: Int), head: RequestHead) -> Int {
        let snapshot = loop.snapshot
        guard live.index < snapshot.routes.count, let byRegion = snapshot.routes[live.index].upstreamIndexByRegion,
            let geo = snapshot.geo
        else { return live.upstreamIndex }
        var address = client.bytes
        if client.isTrustedProxy {
            let forwarded = CompiledRateLimit.clientIP(
                head, client: client, trustedProxies: snapshot.configuration.trustedProxies)
            address = UnitParser.parseIPAddress(Substring(forwarded)) ?? address
        }
        let region = geo.region(of: address)
        guard region < byRegion.count, byRegion[region] >= 0, byRegion[region] < loop.upstreams.count else {
            return live.upstreamIndex
        }
        clientRegion = geo.regionNames[region]
        return byRegion[region]
    }

    /// Rate limits, then the cache and the upstream.
    private func continueAfterAuthentication(
        _ head: RequestHead, route: CompiledRoute, routeIndex matchedIndex: Int, snapshot: Snapshot,
        context: ChannelHandlerContext
    ) {
        guard let routeIndex = liveRoute(route, matchedIndex)?.index else {
            return respondLocally(.noRoute, context: context)
        }
        if routeIndex < loop.routeRateLimits.count, case let policies = loop.routeRateLimits[routeIndex],
            !policies.isEmpty, let limiter = loop.rateLimiter
        {
            if let redis = loop.redis {
                return askRedisRateLimits(
                    policies, redis: redis, limiter: limiter, head: head, route: route, routeIndex: routeIndex,
                    snapshot: snapshot, context: context)
            }
            guard admitThroughRateLimits(policies, limiter: limiter, head: head, route: route, context: context) else {
                return
            }
        }
        continueAfterRateLimits(head, route: route, routeIndex: routeIndex, snapshot: snapshot, context: context)
    }

    /// Authenticates with the route's methods; a token naming a key its provider has not fetched
    /// yet waits for one JWKS refresh (rate-limited by the provider), an opaque token for its
    /// introspection, and is then checked again.
    private func authenticate(
        _ head: RequestHead, with authenticator: RouteAuthenticator, route: CompiledRoute, routeIndex: Int,
        snapshot: Snapshot, context: ChannelHandlerContext, mayRefresh: Bool
    ) {
        let now = Double(WallClock.nowMilliseconds()) / 1000
        switch authenticator.authenticate(head, cache: loop.tokenCache, now: now, mayRefresh: mayRefresh) {
        case .authenticated(let identity):
            self.identity = identity
            self.authenticator = authenticator
            loop.metrics.authSuccesses += 1
            continueAfterAuthentication(
                head, route: route, routeIndex: routeIndex, snapshot: snapshot, context: context)
        case .failed(let failure):
            if let index = AuthFailure.allCases.firstIndex(of: failure) { loop.metrics.authFailures[index] += 1 }
            authChallenge = [HeaderField(name: "WWW-Authenticate", value: Self.challenge(failure, authenticator))]
            respondLocally(.authentication(failure), context: context)
        case .pending(let refresh):
            phase = .waitingForDecision
            let exchange = exchangeNumber &+ 1
            exchangeNumber = exchange
            let done = context.eventLoop.makePromise(of: Void.self)
            done.completeWithTask { await refresh.value }
            done.futureResult.assumeIsolated().whenComplete { _ in
                guard self.phase == .waitingForDecision, self.exchangeNumber == exchange, let context = self.context
                else { return }
                self.phase = .idle
                self.eventTime = .now()
                self.authenticate(
                    head, with: authenticator, route: route, routeIndex: routeIndex, snapshot: snapshot,
                    context: context, mayRefresh: false)
                self.resumeDownstreamReads()
            }
        }
    }

    /// RFC 6750 §3: the scheme and realm, and for a bad token its error code and a description
    /// that names the problem, never the token or a key. API-key-only routes name their scheme.
    private static func challenge(_ failure: AuthFailure, _ authenticator: RouteAuthenticator) -> String {
        let usesTokens = authenticator.methods.contains {
            if case .apiKey = $0 { false } else { true }
        }
        guard usesTokens else { return #"APIKey realm="gateway""# }
        var value = #"Bearer realm="gateway""#
        if let error = failure.bearerError {
            value += #", error="\#(error)", error_description="\#(failure.description)""#
        }
        return value
    }

    /// The phases after rate limiting: cache lookup, then the upstream.
    private func continueAfterRateLimits(
        _ head: RequestHead, route: CompiledRoute, routeIndex matchedIndex: Int, snapshot: Snapshot,
        context: ChannelHandlerContext
    ) {
        guard let routeIndex = liveRoute(route, matchedIndex)?.index else {
            return respondLocally(.noRoute, context: context)
        }
        if !requestIsUpgrade, routeIndex < loop.routeCaching.count, let caching = loop.routeCaching[routeIndex],
            let cache = loop.cache
        {
            if head.method == .GET || head.method == .HEAD {
                switch CacheExchange.lookUp(head, caching: caching, cache: cache, identity: loop.cacheIdentity) {
                case .serve(let exchange, let entry, let outcome, let cacheStatus, let refresh):
                    cacheExchange = exchange
                    if refresh {
                        BackgroundFetch.refresh(
                            entry, request: head, route: route, caching: caching, loop: loop,
                            metrics: routeMetrics)
                    }
                    return serveFromCache(entry, outcome: outcome, cacheStatus: cacheStatus, context: context)
                case .notCached(let exchange):
                    cacheExchange = exchange
                    return respondLocally(.notCached, context: context)
                case .forward(let exchange):
                    if exchange.mayShareFetch {
                        let (fill, isLeader) = cache.joinOrLead(exchange.key)
                        exchange.fill = fill
                        exchange.leadsFill = isLeader
                        cacheExchange = exchange
                        if !isLeader {
                            return followFill(fill, context: context)
                        }
                    }
                    cacheExchange = exchange
                }
            } else {
                cacheExchange = CacheExchange.bypass(head, caching: caching, cache: cache)
            }
        }
        let requestTimeout =
            routeIndex < loop.requestTimeouts.count
            ? loop.requestTimeouts[routeIndex] : TimeAmount(route.requestTimeout)
        forwardToUpstream(
            head, route: route, routeIndex: routeIndex, requestTimeout: requestTimeout, snapshot: snapshot,
            context: context)
    }

    /// Chooses the endpoint and sends the request on (the proxy phase proper).
    private func forwardToUpstream(
        _ head: RequestHead, route: CompiledRoute, routeIndex: Int, requestTimeout: TimeAmount, snapshot: Snapshot,
        context: ChannelHandlerContext
    ) {
        let uri = head.target
        guard let live = liveRoute(route, routeIndex), live.upstreamIndex >= 0,
            live.upstreamIndex < loop.upstreams.count
        else {
            return respondLocally(.noEndpoint, context: context)
        }
        let routeIndex = live.index
        let upstream = loop.upstreams[regionalUpstream(live, head: head)]
        self.upstream = upstream
        upstreamMetrics = upstream.metrics
        // Bulkheads first: a request refused here must not touch the balancer or a breaker.
        if routeIndex < loop.routeBulkheads.count, let bulkhead = loop.routeBulkheads[routeIndex] {
            guard bulkhead.tryAcquire() else { return respondLocally(.routeConcurrencyLimit, context: context) }
            routeSlot = bulkhead
        }
        if let bulkhead = upstream.concurrency {
            guard bulkhead.tryAcquire() else {
                upstream.metrics.sample.shed += 1
                return respondLocally(.upstreamConcurrencyLimit, context: context)
            }
            upstreamSlot = bulkhead
        }
        hashKey = upstream.hashSource.flatMap { HashKey.compute($0, head: head, client: client) }
        let now = Int64(truncatingIfNeeded: eventTime.uptimeNanoseconds)
        retriesLeft = upstream.config.retries.attempts
        if upstream.retriesAfterSending {
            upstream.recordRequest(now: now)
            if requestHasBody {
                // What arrived while the request waited (auth, rate limits) is already buffered.
                retainedBody = CircularBuffer()
                for part in bufferedBody { retainForRetry(part, limit: upstream.config.retries.maxBody) }
            }
        }
        guard let index = upstream.pickEndpoint(hashKey: hashKey, excluding: triedEndpoints, now: now) else {
            upstream.metrics.sample.unavailable += 1
            return respondLocally(.noEndpoint, context: context)
        }
        startAttempt(on: index, upstream: upstream, now: now)
        responseHeaderTimeout = upstream.responseHeaderTimeout

        let target = route.pathRewrite?.apply(toTarget: uri) ?? uri
        var output = recycledBuffer(
            &requestHeadStorage, capacity: UpstreamRequestWriter.capacity(for: head, target: target))
        UpstreamRequestWriter.write(
            head, target: target,
            operations: upstreamOperations(route: route),
            forwarding: forwarding(for: snapshot),
            requestID: requestID, framing: requestFraming,
            trace: trace.flatMap { trace in
                trace.upstreamTraceParent.map {
                    UpstreamRequestWriter.TraceFields(traceParent: $0, dropsTraceState: trace.dropsTraceState)
                }
            },
            into: &output)
        upstreamHead = output

        if head.expectation == .continue100 && head.versionMinor >= 1 {
            // We take the body ourselves (as nginx does) so the upstream never sees the expectation.
            context.writeAndFlush(
                wrapOutboundOut(ByteBuffer(staticString: "HTTP/1.1 100 Continue\r\n\r\n")), promise: nil)
        }
        requestDeadline = eventTime + requestTimeout
        // The response-header deadline starts when the request is sent, so now + timeout is a
        // lower bound for it: arming for that now means sending the request will not re-arm.
        ensureTimer(firingBy: min(requestDeadline, eventTime + responseHeaderTimeout), context: context)
        acquireConnection(context: context)
    }

    /// The route's request header rules, plus the cache's conditional fields and the auth's
    /// claim headers and credential removal.
    private func upstreamOperations(route: CompiledRoute) -> HeaderOperations {
        let base = cacheExchange?.upstreamOperations(route.requestHeaders) ?? route.requestHeaders
        guard let identity, let authenticator else { return base }
        return authenticator.upstreamOperations(base, identity: identity)
    }

    /// Rendered once per connection (and again if a new snapshot changes the Via entry).
    private func forwarding(for snapshot: Snapshot) -> UpstreamRequestWriter.Forwarding {
        peer.forwarding(scheme: listener.scheme, snapshot: snapshot)
    }

    private func receiveBody(_ buffer: ByteBuffer, context: ChannelHandlerContext) {
        requestBodyBytes += buffer.readableBytes
        waitingSince = eventTime
        if phase == .answeredLocally && parser.bodyWireBytes > discardBodyUntil {
            // Too much to read and drop after an early answer: that answer has gone out, so close.
            downstreamKeepAlive = false
            closeAfterPendingWrites(context: context)
            return
        }
        if let maxBody = listener.maxBody, requestBodyBytes > maxBody, phase != .answeredLocally {
            // Chunked bodies have no declared length: the limit is enforced while streaming.
            downstreamKeepAlive = false
            if responseHeadSent {
                closeNow()
            } else {
                releaseConnection(reusable: false)
                respondLocally(.payloadTooLarge, context: context)
            }
            return
        }
        if retainedBody != nil, let upstream { retainForRetry(buffer, limit: upstream.config.retries.maxBody) }
        switch phase {
        case .proxying:
            if let connection { writeRequestBody(buffer, to: connection) }
        case .waitingForConnection:
            bufferedBody.append(buffer)
        case .waitingForDecision:
            bufferedBody.append(buffer)
        case .idle, .followingFill, .answeredLocally, .tunnelling, .closing, .closed:
            break
        }
    }

    private func receiveEnd(context: ChannelHandlerContext) {
        requestEndReceived = true
        switch phase {
        case .proxying:
            sendRequestEnd()
        case .answeredLocally:
            finishExchange(context: context)
        case .idle, .waitingForConnection, .followingFill, .waitingForDecision, .tunnelling, .closing, .closed:
            break
        }
    }

    private func beginExchange(_ head: RequestHead) {
        phase = .idle
        requestsOnConnection += 1
        downstreamVersion = head.version
        downstreamKeepAlive = head.keepAlive && !loop.isDraining
        requestEndReceived = false
        requestEndSent = false
        responseHeadSent = false
        upstreamKeepAlive = true
        requestBodyBytes = 0
        discardBodyUntil = .max
        requestIsHead = head.method == .HEAD
        // HTTP/2 has no Upgrade (RFC 9113 8.6); the bridge never forwards one anyway.
        requestIsUpgrade = head.isUpgrade && !isStream
        requestIsGRPC = isStream && head.isGRPC
        requestHasBody = false
        connectionWasReused = false
        retriedOnFreshConnection = false
        route = nil
        pool = nil
        upstream = nil
        triedEndpoints.removeAll()
        attemptsMade = 0
        retriesLeft = 0
        hashKey = nil
        retainedBody = nil
        retainedBodyBytes = 0
        upstreamHead = nil
        heldResponseHead = nil
        cacheExchange = nil
        if !rateLimitFields.isEmpty { rateLimitFields.removeAll() }
        if !authChallenge.isEmpty { authChallenge.removeAll() }
        if !extraLocalFields.isEmpty { extraLocalFields.removeAll() }
        identity = nil
        clientRegion = nil
        traceID = nil
        trace = nil
        rateLimitDecision = nil
        authenticator = nil
        bufferedBody.removeAll(keepingCapacity: true)
        waitingSince = eventTime
        responseHeaderDeadline = .distantFuture
        requestID = .none
        startRecording(headBytes: head.block.readableBytes, method: head.method)
    }

    private func startRecording(headBytes: Int, method: HTTPMethod?) {
        exchangeUnrecorded = true
        exchangeStart = eventTime
        requestHeadBytes = headBytes
        requestBodyBytes = 0
        if let method { requestMethod = method }
        routeMetrics = loop.metrics.unrouted
        upstreamMetrics = nil
        upstreamDuration = nil
        responseStatus = 0
        responseBytes = 0
        originBytes = 0
        logTarget = nil
        logHost = nil
    }

    /// Counts the exchange and writes its access log line, once, when its response has ended (or
    /// the connection did).
    private func recordExchange(status: Int) {
        guard exchangeUnrecorded else { return }
        exchangeUnrecorded = false
        releaseUpstreamHolds()
        if let exchange = cacheExchange, let fill = exchange.fill {
            if exchange.leadsFill {
                // No-op if the fill completed; else its followers learn it will not.
                fill.abandon()
                loop.cache?.endFill(fill)
            } else if let id = exchange.followerID {
                fill.unsubscribe(id)
            }
        }
        let duration = eventTime - exchangeStart
        let method = MethodClass(requestMethod)
        routeMetrics.record(
            method: method, status: status, durationNanoseconds: duration.nanoseconds,
            receivedBytes: requestHeadBytes + requestBodyBytes, sentBytes: responseBytes)
        let cacheOutcome = cacheExchange?.outcome
        if let cacheOutcome, let exchange = cacheExchange {
            routeMetrics.recordCache(cacheOutcome)
            loop.metrics.cacheAnalytics.record(
                cacheOutcome, object: exchange.key.text, durationNanoseconds: duration.nanoseconds,
                sentBytes: responseBytes, originBytes: originBytes)
        }
        if let trace {
            finishTrace(trace, status: status, cacheStatus: cacheOutcome?.rawValue)
        }
        if let accessLog = loop.accessLog {
            accessLog.append(
                AccessLogEntry(
                    requestID: requestID, client: client.ip, method: requestMethod, host: logHost,
                    target: logTarget.map { CredentialRedaction.redact($0, names: loop.snapshot.credentialQueryNames) },
                    status: status, receivedBytes: requestHeadBytes + requestBodyBytes, sentBytes: responseBytes,
                    duration: duration, route: route?.name, upstreamEndpoint: pool?.label,
                    upstreamDuration: upstreamDuration, cacheStatus: cacheOutcome?.rawValue,
                    user: identity.flatMap { $0.user.isEmpty ? nil : $0.user }, region: clientRegion,
                    traceID: traceID))
        }
    }

    // MARK: - Tracing

    /// Decides whether this exchange is traced (the caller's `traceparent`, then the route's
    /// ratio) and starts its server span.
    private func beginTrace(_ head: RequestHead, route: CompiledRoute?, snapshot: Snapshot) {
        guard let tracer = loop.tracer, let tracing = snapshot.configuration.tracing else { return }
        let parent = head.traceParentField.flatMap { TraceParent(head.value(of: $0)) }
        let decision = ExchangeTrace.decide(
            parent: parent, ratio: route?.traceSampleRatio ?? tracing.sampleRatio, draw: loop.requestIDs.next64())
        var fields: SpanFields = []
        if case .record = decision {
            let target = head.target
            let pathEnd = target.utf8.firstIndex(of: UInt8(ascii: "?")) ?? target.endIndex
            fields = [
                ("http.request.method", .string(head.method.rawValue)),
                ("url.path", .string(String(target[..<pathEnd]))),
                ("url.scheme", .string(listener.scheme)), ("client.address", .string(client.ip)),
                ("network.protocol.version", .string(isStream ? "2" : head.versionMinor == 0 ? "1.0" : "1.1")),
                ("gateway.request_id", .string(requestID.description)),
                ("gateway.node", .string(snapshot.configuration.node.id)),
            ]
            if let host = head.host { fields.append(("server.address", .string(host))) }
            if let route { fields.append(("http.route", .string(route.name))) }
        }
        // Only a recorded continuation of the caller's trace carries its tracestate into the span.
        var traceState: String?
        if case .record(parent: .some) = decision {
            // Several tracestate lines are one list (W3C Trace Context 3.3.1.1); one longer than the
            // spec's 512 bytes is not carried into spans (it still goes upstream as it came).
            let lines = head.fields.indices.filter { head.fields[$0].kind == .traceState }.map { head.value(of: $0) }
            let joined = lines.joined(separator: ",")
            traceState = lines.isEmpty || joined.utf8.count > 512 ? nil : joined
        }
        let trace = ExchangeTrace(
            decision, traceState: traceState, tracer: tracer, ids: &loop.requestIDs,
            name: route.map { "\(head.method.rawValue) \($0.name)" } ?? head.method.rawValue, fields: fields)
        self.trace = trace
        traceID = trace.traceID
    }

    private func finishTrace(_ trace: ExchangeTrace, status: Int, cacheStatus: String?) {
        guard trace.isRecorded else { return }
        var fields: SpanFields = []
        if let cacheStatus { fields.append(("gateway.cache.status", .string(cacheStatus))) }
        if let rateLimitDecision { fields.append(("gateway.rate_limit.decision", .string(rateLimitDecision))) }
        if let pool { fields.append(("gateway.upstream.endpoint", .string(pool.label))) }
        if let region = clientRegion { fields.append(("gateway.client.region", .string(region))) }
        trace.finish(status: status, fields: fields)
    }

    // MARK: - Attempts and retries

    private func startAttempt(on index: Int, upstream: UpstreamRuntime, now: Int64) {
        endpointIndex = index
        triedEndpoints.insert(index)
        pool = upstream.pools[index]
        attemptsMade += 1
        trace?.beginAttempt(method: requestMethod.rawValue, upstream: upstream.config.name, endpoint: pool?.label ?? "")
        upstream.beginAttempt(index, now: now)
        attemptUnreported = true
        attemptSentRequest = false
    }

    /// Tells the endpoint's breaker and outlier detection how the attempt went, once.
    private func reportAttempt(_ outcome: AttemptOutcome) {
        guard attemptUnreported, let upstream else { return }
        attemptUnreported = false
        switch outcome {
        case .response(let status): trace?.attemptResponded(status: status)
        case .connectFailure: trace?.finishAttempt(status: nil, error: "connect_failure")
        case .timeout: trace?.finishAttempt(status: nil, error: "timeout")
        case .reset: trace?.finishAttempt(status: nil, error: "reset")
        }
        upstream.record(outcome, endpoint: endpointIndex, now: Int64(truncatingIfNeeded: eventTime.uptimeNanoseconds))
    }

    /// Whether the request can be tried again on an endpoint it has not tried, if the upstream's
    /// retry policy covers `outcome` and it is safe: an idempotent method or a request that never
    /// left, a body that was kept whole, a retry budget with room, and time left before the request
    /// deadline. Returns the endpoint and the back-off; the budget is already charged.
    private func planRetry(after outcome: AttemptOutcome) -> (endpoint: Int, delay: Int64)? {
        guard retriesLeft > 0, let upstream, !responseHeadSent, responseStatus == 0 else { return nil }
        guard outcome.matches(upstream.config.retries.on) else { return nil }
        guard outcome == .connectFailure || requestMethod.isIdempotent else { return nil }
        // An attempt that never got a connection sent nothing: the body is still all in `bufferedBody`.
        guard !requestHasBody || retainedBody != nil || !attemptSentRequest else { return nil }
        let now = Int64(truncatingIfNeeded: eventTime.uptimeNanoseconds)
        let delay = upstream.backoff.delay(attempt: attemptsMade - 1, random: Double.random(in: 0...1))
        guard eventTime + .nanoseconds(delay) < requestDeadline else { return nil }
        guard let next = upstream.pickEndpoint(hashKey: hashKey, excluding: triedEndpoints, now: now),
            upstream.withdrawRetry(after: outcome, now: now)
        else { return nil }
        return (next, delay)
    }

    /// Retries if `planRetry` allows; the caller has reported the attempt and let go of its
    /// connection. True when a retry is under way (after the back-off, if any).
    private func retry(after outcome: AttemptOutcome, context: ChannelHandlerContext) -> Bool {
        guard let plan = planRetry(after: outcome) else { return false }
        performRetry(plan, context: context)
        return true
    }

    private func performRetry(_ plan: (endpoint: Int, delay: Int64), context: ChannelHandlerContext) {
        guard let upstream else { return }
        retriesLeft -= 1
        heldResponseHead = nil
        requestEndSent = false
        responseHeaderDeadline = .distantFuture
        if let retainedBody { bufferedBody = retainedBody }
        startAttempt(on: plan.endpoint, upstream: upstream, now: Int64(truncatingIfNeeded: eventTime.uptimeNanoseconds))
        if let traceParent = trace?.upstreamTraceParent, trace?.isRecorded == true, upstreamHead != nil {
            UpstreamRequestWriter.replaceTraceParent(traceParent, in: &upstreamHead!)
        }
        ensureTimer(firingBy: requestDeadline, context: context)
        guard plan.delay > 0 else {
            acquireConnection(context: context)
            return
        }
        phase = .waitingForConnection
        exchangeNumber &+= 1
        let exchange = exchangeNumber
        pendingRetry = context.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(plan.delay)) { [self] in
            self.pendingRetry = nil
            guard self.phase == .waitingForConnection, self.exchangeNumber == exchange, let context = self.context
            else { return }
            self.eventTime = .now()
            self.acquireConnection(context: context)
        }
    }

    /// Keeps a body part for a retry while the body fits the policy's limit.
    private func retainForRetry(_ buffer: ByteBuffer, limit: Int) {
        guard retainedBody != nil else { return }
        retainedBodyBytes += buffer.readableBytes
        if retainedBodyBytes > limit {
            retainedBody = nil
        } else {
            retainedBody?.append(buffer)
        }
    }

    /// Gives back what the exchange holds for the upstream: bulkhead slots, and a breaker's probe
    /// slot if the attempt never reported.
    private func releaseUpstreamHolds() {
        if attemptUnreported {
            attemptUnreported = false
            upstream?.abandonAttempt(endpointIndex)
        }
        pendingRetry?.cancel()
        pendingRetry = nil
        leavePendingQueue()
        if let slot = routeSlot {
            routeSlot = nil
            slot.release()
        }
        if let slot = upstreamSlot {
            upstreamSlot = nil
            slot.release()
        }
    }

    private func leavePendingQueue() {
        if let slot = pendingSlot {
            pendingSlot = nil
            slot.release()
        }
    }

    // MARK: - Upstream connection

    private func acquireConnection(context: ChannelHandlerContext) {
        guard let pool, upstreamHead != nil else { return }
        // A request that cannot be retried must not go out on a connection the upstream may be
        // closing right now; only recently used ones are safe enough (see README, "Connection reuse").
        let maxIdleAge: TimeAmount? = requestMethod.isIdempotent ? nil : .seconds(2)
        phase = .waitingForConnection
        exchangeNumber &+= 1
        if !retriedOnFreshConnection, let connection = pool.takeIdle(maxIdleAge: maxIdleAge, now: eventTime) {
            useConnection(connection, reused: true)
            return
        }
        switch pool.connect(for: self, exchange: exchangeNumber) {
        case .connecting:
            break
        case .queued:
            if let bulkhead = upstream?.pending, pendingSlot == nil {
                guard bulkhead.tryAcquire() else {
                    upstream?.metrics.sample.shed += 1
                    return respondLocally(.upstreamPendingLimit, context: context)
                }
                pendingSlot = bulkhead
            }
        case .overloaded:
            upstreamMetrics?.recordError(.overloaded)
            respondLocally(.upstreamOverloaded, context: context)
        }
    }

    /// Called by the pool when a connect completes or a released connection is handed to this
    /// waiting exchange.
    func connectionReady(_ connection: UpstreamConnection, reused: Bool, exchange: UInt64) {
        eventTime = .now()
        guard phase == .waitingForConnection, exchange == exchangeNumber else {
            // The exchange ended while we waited (client gone, timeout): the connection is still good.
            connection.pool.release(connection, reusable: true, now: eventTime)
            return
        }
        useConnection(connection, reused: reused)
    }

    private func useConnection(_ connection: UpstreamConnection, reused: Bool) {
        guard let upstreamHead else {
            connection.pool.release(connection, reusable: true, now: eventTime)
            return
        }
        self.connection = connection
        if pendingSlot != nil { leavePendingQueue() }
        attemptSentRequest = true
        connectionWasReused = reused
        upstreamSentAt = eventTime
        phase = .proxying
        let handler = connection.handler
        handler.exchange = self
        // A response that may be stored arrives without chunk framing and is framed again for the client.
        handler.beginResponse(
            requestWasHead: requestIsHead,
            dechunk: downstreamVersion.minor == 0 || cacheExchange?.wantsUnframedBody == true,
            requestedUpgrade: requestIsUpgrade)
        handler.setReadsAllowed(downstreamWritable)
        upstreamWritable = handler.isWritable
        handler.write(upstreamHead)
        while let part = bufferedBody.popFirst() {
            writeRequestBody(part, to: connection)
        }
        // Writes can fail synchronously and run upstreamFailed re-entrantly: only go on if this
        // connection still serves this exchange.
        guard self.connection === connection, phase == .proxying else { return }
        if requestEndReceived || !requestHasBody {
            // A bodiless request is complete with its head: ending it now lets the connection be
            // reused even if the response beats the client's end-of-message to us.
            sendRequestEnd()
        } else {
            connection.handler.flush()
        }
        resumeDownstreamReads()
    }

    func connectionFailed(_ error: Error, exchange: UInt64) {
        eventTime = .now()
        guard phase == .waitingForConnection, exchange == exchangeNumber, let context else { return }
        logUpstreamError("cannot connect to upstream", error)
        if pendingSlot != nil { leavePendingQueue() }
        let gatewayError: GatewayError
        if case ChannelError.connectTimeout = error {
            gatewayError = .upstreamConnectTimeout
            upstreamMetrics?.recordError(.connectTimeout)
        } else {
            gatewayError = .upstreamUnavailable
            upstreamMetrics?.recordError(.connectFailure)
        }
        reportAttempt(.connectFailure)
        if retry(after: .connectFailure, context: context) { return }
        respondLocally(gatewayError, context: context)
    }

    private func sendRequestEnd() {
        guard let connection, !requestEndSent else { return }
        requestEndSent = true
        // Deadlines first, the write last: a failing write re-enters upstreamFailed, which may
        // already start the next exchange, and nothing here may touch that one's state.
        responseHeaderDeadline = eventTime + responseHeaderTimeout
        if let context {
            ensureTimer(firingBy: min(requestDeadline, responseHeaderDeadline), context: context)
        }
        if case .chunked = requestFraming {
            connection.handler.write(UpstreamRequestWriter.lastChunk)
        }
        connection.handler.flush()
    }

    /// Content-length bodies go out as the bytes arrived; chunked ones get their chunk framing
    /// back (the parser removed it).
    private func writeRequestBody(_ buffer: ByteBuffer, to connection: UpstreamConnection) {
        guard buffer.readableBytes > 0 else { return }
        if case .chunked = requestFraming {
            connection.handler.write(
                UpstreamRequestWriter.chunkHeader(size: buffer.readableBytes, allocator: connection.channel.allocator))
            connection.handler.write(buffer)
            connection.handler.write(UpstreamRequestWriter.chunkTrailer)
        } else {
            connection.handler.write(buffer)
        }
    }

    private func releaseConnection(reusable: Bool) {
        guard let connection else { return }
        self.connection = nil
        upstreamWritable = true
        connection.pool.release(connection, reusable: reusable, now: eventTime)
    }

    // MARK: - Response from the upstream

    func upstreamResponseHead(_ head: UpstreamResponseHead, framing: UpstreamResponseHead.BodyFraming) {
        guard let context, phase == .proxying else { return }
        if attemptUnreported { reportAttempt(.response(status: head.status)) }
        if retriesLeft > 0, upstream?.config.retries.on.matches(status: head.status) == true,
            retryInsteadOfForwarding(status: head.status, context: context)
        {
            return
        }
        var responseOperations = clientResponseOperations
        if let exchange = cacheExchange, let cache = loop.cache {
            let answer = exchange.answerInstead(
                of: head, cache: cache, identity: loop.cacheIdentity, allocator: allocator)
            if exchange.stale != nil {
                routeMetrics.recordRevalidation(
                    answer?.outcome == .revalidated ? .notModified : head.status >= 500 ? .failed : .modified)
            }
            if let answer {
                // The client gets a stored entry once this response has been read to its end.
                exchange.answerAtEnd = answer
                cacheExchange = exchange
                responseHeaderDeadline = .distantFuture
                upstreamKeepAlive = head.keepAlive && framing != .untilClose
                responseStatus = head.status
                return
            }
            let cacheStatus = exchange.beginStoring(
                head, framing: framing, requestIsHead: requestIsHead, cache: cache, identity: loop.cacheIdentity)
            exchange.publishHeadToFollowers(framing: framing, cache: cache, allocator: allocator)
            exchange.forwardedCacheStatus = cacheStatus
            if exchange.wantsRange, exchange.isStoring, head.status == 200, case .length = framing {
                // Answered from the stored entry once complete (so the range can be cut from it).
                exchange.serveStoredAtEnd = true
                cacheExchange = exchange
                responseHeaderDeadline = .distantFuture
                upstreamKeepAlive = head.keepAlive
                responseStatus = head.status
                return
            }
            exchange.rechunk = framing == .chunked && exchange.wantsUnframedBody && downstreamVersion.minor >= 1
            responseOperations = CacheExchange.downstreamOperations(
                responseOperations, identity: loop.cacheIdentity, outcome: exchange.outcome, cacheStatus: cacheStatus,
                parent: ParentCacheFields(head))
            cacheExchange = exchange
        }
        responseHeadSent = true
        responseHeaderDeadline = .distantFuture
        upstreamKeepAlive = head.keepAlive && framing != .untilClose
        let forwardChunked = framing == .chunked && downstreamVersion.minor >= 1
        if framing == .untilClose || (framing == .chunked && !forwardChunked) {
            // The body's end is only marked by closing: so it must be for the client too.
            downstreamKeepAlive = false
        }
        let clientFraming: DownstreamHeadWriter.ClientFraming
        switch framing {
        case .none: clientFraming = .noBody
        case .length(let length): clientFraming = .contentLength(length)
        case .chunked: clientFraming = forwardChunked ? .chunked : .untilClose
        case .untilClose: clientFraming = .untilClose
        }
        let options = DownstreamHeadWriter.Options(
            requestID: requestID, operations: responseOperations, framing: clientFraming,
            keepAlive: downstreamKeepAlive && !loop.isDraining, clientVersionMinor: downstreamVersion.minor)
        var bodyCapacity = 0
        if case .length(let length) = framing, length <= Self.maxCoalescedBody {
            bodyCapacity = length
        }
        var output = recycledBuffer(
            &responseBufferStorage, capacity: DownstreamHeadWriter.capacity(for: head) + bodyCapacity)
        DownstreamHeadWriter.writeProxiedHead(head, options: options, into: &output)
        responseStatus = head.status
        responseBytes += output.readableBytes
        if bodyCapacity > 0 {
            heldResponseHead = output
        } else {
            writeRecycled(output, context: context)
        }
        downstreamNeedsFlush = true
    }

    func upstreamResponseBody(_ buffer: ByteBuffer) {
        guard let context, phase == .proxying else { return }
        if cacheExchange != nil {
            originBytes += buffer.readableBytes
            if forwardCachedRouteBody(buffer, context: context) { return }
        }
        responseBytes += buffer.readableBytes
        if var head = heldResponseHead {
            heldResponseHead = nil
            head.writeImmutableBuffer(buffer)
            writeRecycled(head, context: context)
        } else {
            context.write(wrapOutboundOut(buffer), promise: nil)
        }
        downstreamNeedsFlush = true
    }

    private func writeHeldResponseHead(context: ChannelHandlerContext) {
        if let head = heldResponseHead {
            heldResponseHead = nil
            writeRecycled(head, context: context)
        }
    }

    /// Writes a response buffer and keeps a reference to it: once NIO has written it, the
    /// reference is the only one and the next response reuses the memory.
    private func writeRecycled(_ buffer: ByteBuffer, context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(buffer), promise: nil)
        if buffer.capacity <= Self.maxRecycledBuffer {
            responseBufferStorage = buffer
        }
    }

    /// A cleared buffer of at least `capacity` bytes: the stored one if nothing else holds it
    /// any more, else a new one.
    private func recycledBuffer(_ storage: inout ByteBuffer?, capacity: Int) -> ByteBuffer {
        guard var buffer = storage else { return allocator.buffer(capacity: capacity) }
        storage = nil
        buffer.clear(minimumCapacity: capacity)
        return buffer
    }

    func upstreamResponseEnd() {
        guard let context, phase == .proxying else { return }
        eventTime = .now()
        let upstreamDuration = eventTime - upstreamSentAt
        self.upstreamDuration = upstreamDuration
        upstreamMetrics?.recordResponse(status: responseStatus, durationNanoseconds: upstreamDuration.nanoseconds)
        writeHeldResponseHead(context: context)
        // Reusable only if both messages were framed completely on this connection.
        releaseConnection(reusable: upstreamKeepAlive && requestEndSent)
        if !requestEndReceived && requestHasBody {
            // The upstream answered before the request body ended: we cannot find the next
            // request's start without reading the rest, so this connection ends with the response.
            downstreamKeepAlive = false
        }
        cancelTimer()
        if cacheExchange != nil, finishCachedRouteResponse(context: context) { return }
        writeEnd(context: context)
    }

    func upstreamReadComplete() {
        guard let context else { return }
        if phase == .tunnelling { waitingSince = .now() }
        writeHeldResponseHead(context: context)
        if downstreamNeedsFlush {
            downstreamNeedsFlush = false
            context.flush()
        }
    }

    func upstreamWritabilityChanged(isWritable: Bool) {
        upstreamWritable = isWritable
        if isWritable {
            resumeDownstreamReads()
        }
    }

    func upstreamFailed(_ error: Error) {
        eventTime = .now()
        if phase == .tunnelling {
            logUpstreamError("upstream failed in a tunnel", error)
            return upstreamTunnelClosed()
        }
        guard let context, phase == .proxying else { return }
        // Any TLS error before a response (a failed handshake, a peer's alert such as "certificate
        // required") means the request was not taken.
        if error is NIOSSLError || error is BoringSSLError, !responseHeadSent, responseStatus == 0 {
            return upstreamHandshakeFailed(error, context: context)
        }
        logUpstreamError(responseHeadSent ? "upstream failed mid-response" : "upstream failed before answering", error)
        upstreamMetrics?.recordError(error is UpstreamResponseError ? .invalidResponse : .reset)
        releaseConnection(reusable: false)
        heldResponseHead = nil
        if responseHeadSent {
            // Part of the response is already with the client: closing is the only honest signal.
            trace?.responseBrokeOff()
            recordExchange(status: responseStatus)
            closeNow()
            return
        }
        if connectionWasReused, !retriedOnFreshConnection, !requestHasBody, requestMethod.isIdempotent,
            !(error is UpstreamResponseError), responseStatus == 0
        {
            // A kept-alive connection the upstream closed just as we sent: safe to repeat once, on
            // the same endpoint; the endpoint did nothing wrong, so its breaker is not told.
            retriedOnFreshConnection = true
            requestEndSent = false
            acquireConnection(context: context)
            return
        }
        reportAttempt(.reset)
        if retry(after: .reset, context: context) { return }
        respondLocally(error is UpstreamResponseError ? .upstreamInvalidResponse : .upstreamReset, context: context)
    }

    /// The TLS handshake with the endpoint failed (certificate not trusted, wrong name, no common
    /// protocol): the request never reached it, like a refused connection.
    private func upstreamHandshakeFailed(_ error: Error, context: ChannelHandlerContext) {
        logUpstreamError("TLS handshake with upstream failed", error)
        upstreamMetrics?.recordError(.tls)
        releaseConnection(reusable: false)
        heldResponseHead = nil
        reportAttempt(.connectFailure)
        if retry(after: .connectFailure, context: context) { return }
        respondLocally(.upstreamTLSFailure, context: context)
    }

    /// A response head whose status the retry policy covers is dropped, with its connection, for
    /// a retry elsewhere, if one is allowed; otherwise it is forwarded as it is. True when the
    /// retry is under way.
    private func retryInsteadOfForwarding(status: Int, context: ChannelHandlerContext) -> Bool {
        guard let connection, let plan = planRetry(after: .response(status: status)) else { return false }
        logUpstreamError("retrying on another endpoint", "status \(status)")
        self.connection = nil
        upstreamWritable = true
        connection.pool.release(connection, reusable: false, now: eventTime)
        performRetry(plan, context: context)
        return true
    }

    // MARK: - Tunnels (101 Switching Protocols)

    /// The upstream accepted the upgrade: its 101 goes to the client, whatever the client sent
    /// after its request (already the new protocol) goes to the upstream, and from here on bytes
    /// are forwarded as they come, with the same backpressure as bodies.
    func upstreamSwitchedProtocols(_ head: UpstreamResponseHead) {
        guard let context, let connection, phase == .proxying else { return }
        if attemptUnreported { reportAttempt(.response(status: head.status)) }
        phase = .tunnelling
        cancelTimer()
        responseHeadSent = true
        responseStatus = head.status
        downstreamKeepAlive = false
        waitingSince = eventTime
        let options = DownstreamHeadWriter.Options(
            requestID: requestID, operations: clientResponseOperations, framing: .switchingProtocols,
            keepAlive: true, clientVersionMinor: 1)
        var output = allocator.buffer(capacity: DownstreamHeadWriter.capacity(for: head))
        DownstreamHeadWriter.writeProxiedHead(head, options: options, into: &output)
        responseBytes += output.readableBytes
        context.write(wrapOutboundOut(output), promise: nil)
        downstreamNeedsFlush = true
        if input.bytes.readableBytes > 0 {
            let early = input.bytes
            input.clear()
            forwardIntoTunnel(early)
            connection.handler.flush()
        }
        resumeDownstreamReads()
    }

    private func forwardIntoTunnel(_ buffer: ByteBuffer) {
        guard let connection else { return }
        requestBodyBytes += buffer.readableBytes
        waitingSince = eventTime
        connection.handler.write(buffer)
    }

    func upstreamTunnelData(_ buffer: ByteBuffer) {
        guard let context, phase == .tunnelling else { return }
        responseBytes += buffer.readableBytes
        context.write(wrapOutboundOut(buffer), promise: nil)
        downstreamNeedsFlush = true
    }

    /// Either the upstream closed its side or its connection failed: the client's connection
    /// ends too, after what the upstream sent before closing.
    func upstreamTunnelClosed() {
        guard let context, phase == .tunnelling else { return }
        eventTime = .now()
        releaseConnection(reusable: false)
        recordExchange(status: responseStatus)
        closeAfterPendingWrites(context: context)
    }

    // MARK: - Finishing

    /// Flushes the end of the response (its bytes are already written) and moves on: to the next
    /// request, or to closing the connection once the last byte is out.
    private func writeEnd(context: ChannelHandlerContext) {
        downstreamNeedsFlush = false
        recordExchange(status: responseStatus)
        if downstreamKeepAlive && !loop.isDraining {
            // Flushed before anything pipelined behind this exchange is parsed, so the next
            // response can never land inside this one.
            context.flush()
            if requestEndReceived {
                finishExchange(context: context)
            } else {
                phase = .answeredLocally
            }
            return
        }
        closeAfterPendingWrites(context: context)
    }

    private func closeAfterPendingWrites(context: ChannelHandlerContext) {
        phase = .closing
        waitingSince = .now()
        input.clear()
        // Close only after the last byte is written, never in the same tick as the write.
        let promise = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0)), promise: promise)
        promise.futureResult.assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    private func finishExchange(context: ChannelHandlerContext) {
        guard phase != .closed, phase != .closing else { return }
        phase = .idle
        upstreamWritable = true
        route = nil
        pool = nil
        if let upstreamHead, upstreamHead.capacity <= Self.maxRecycledBuffer {
            requestHeadStorage = upstreamHead
        }
        upstreamHead = nil
        waitingSince = eventTime
        processInput(context: context)
        resumeDownstreamReads()
    }

    /// Answers with a JSON error made by the gateway. Only valid before any response byte was sent.
    private func respondLocally(_ error: GatewayError, context: ChannelHandlerContext) {
        guard !responseHeadSent, phase != .closed else {
            closeNow()
            return
        }
        cancelTimer()
        releaseConnection(reusable: false)
        if let pool, phase == .waitingForConnection {
            pool.cancelWait(self)
        }
        if error.source == .upstream, cacheExchange?.stale != nil {
            routeMetrics.recordRevalidation(.failed)
        }
        if error.source == .upstream,
            let (entry, cacheStatus) = cacheExchange?.staleAnswerOnFailure(
                cache: loop.cache, identity: loop.cacheIdentity)
        {
            return serveFromCache(entry, outcome: .stale, cacheStatus: cacheStatus, context: context)
        }
        bufferedBody.removeAll()
        if !requestEndReceived && requestHasBody {
            if canDiscardRestOfBody(after: error) {
                discardBodyUntil = parser.bodyWireBytes + Self.maxDiscardedBody
            } else {
                downstreamKeepAlive = false
            }
        }
        phase = .answeredLocally
        responseHeadSent = true
        responseStatus = Int(error.status.code)
        if requestIsGRPC {
            // The client sees 200 + grpc-status; metrics and the access log keep the HTTP status.
            let answer = GRPCErrorResponse.bytes(
                for: error, requestID: requestID.description,
                extraFields: rateLimitFields + authChallenge + Self.retryAfter(for: error) + extraLocalFields,
                allocator: context.channel.allocator)
            responseBytes += answer.readableBytes
            context.write(wrapOutboundOut(answer), promise: nil)
        } else {
            let body = ErrorResponse.body(
                for: error, requestID: requestID.description, allocator: context.channel.allocator)
            let head = DownstreamHeadWriter.localHead(
                status: error.status, contentType: "application/json", contentLength: body.readableBytes,
                date: loop.dateCache.value, requestID: requestID.description,
                keepAlive: downstreamKeepAlive && !loop.isDraining,
                clientVersionMinor: downstreamVersion.minor, allocator: context.channel.allocator,
                extraFields: rateLimitFields + authChallenge + cacheFields(for: error) + Self.retryAfter(for: error)
                    + extraLocalFields)
            context.write(wrapOutboundOut(head), promise: nil)
            responseBytes += head.readableBytes
            if !requestIsHead {
                responseBytes += body.readableBytes
                context.write(wrapOutboundOut(body), promise: nil)
            }
        }
        writeEnd(context: context)
        resumeDownstreamReads()
    }

    // MARK: - Rate limits

    /// The route's response header operations plus the RateLimit-* fields, for every response
    /// the client gets (proxied, from the cache, or from a shared fetch).
    private var clientResponseOperations: HeaderOperations {
        var operations = route?.responseHeaders ?? HeaderOperations()
        if !rateLimitFields.isEmpty { operations.set += rateLimitFields }
        return operations
    }

    /// Every policy of the route must allow the request; the tightest decision's numbers go to
    /// the client as RateLimit-* fields. A refusal is answered 429 with Retry-After. (A policy
    /// that allowed before another refused has still counted the request, as in Envoy and Kong.)
    private func admitThroughRateLimits(
        _ policies: [LoopRateLimit], limiter: LocalRateLimiter, head: RequestHead, route: CompiledRoute,
        context: ChannelHandlerContext
    ) -> Bool {
        let now = WallClock.nowMilliseconds()
        let trusted = loop.snapshot.configuration.trustedProxies
        var tightest: RateLimitDecision?
        for applied in policies {
            let policy = applied.policy
            let key = policy.key(
                for: head, client: client, route: route.name, trustedProxies: trusted, identity: identity)
            let decision = limiter.take(policy, key: key, now: now)
            guard admit(decision, applied, tightest: &tightest, context: context) else { return false }
        }
        if let tightest { rateLimitFields = RateLimitFields.make(tightest) }
        return true
    }

    /// Counts a decision; a refusal is answered here (429) and returns false.
    private func admit(
        _ decision: RateLimitDecision, _ applied: LoopRateLimit, tightest: inout RateLimitDecision?,
        context: ChannelHandlerContext
    ) -> Bool {
        guard decision.allowed else {
            rateLimitDecision = "limited"
            applied.counters.counts.limited += 1
            rateLimitFields =
                RateLimitFields.make(decision) + [
                    HeaderField(
                        name: "Retry-After", value: String(RateLimitFields.seconds(decision.retryAfterMilliseconds)))
                ]
            respondLocally(.rateLimited, context: context)
            return false
        }
        applied.counters.counts.allowed += 1
        if rateLimitDecision == nil { rateLimitDecision = "allowed" }
        if decision.remaining < tightest?.remaining ?? .max { tightest = decision }
        return true
    }

    /// A decision Redis could not make: fail_open counts it with the embedded limiter against
    /// this node's share of the limit; fail_closed gives nil (the caller answers 503).
    private func decideWithoutRedis(
        _ applied: LoopRateLimit, key: String, limiter: LocalRateLimiter, failure: Result<RESPValue, Error>?
    ) -> RateLimitDecision? {
        applied.counters.counts.redisErrors += 1
        loop.noteRedisFailure(failure)
        guard applied.policy.onRedisError == .failOpen else { return nil }
        return limiter.take(
            applied.policy, key: key, now: WallClock.nowMilliseconds(), limit: applied.policy.fallbackLimit)
    }

    /// With Redis: approximate-mode policies decide at once from the synced counters; exact-mode
    /// ones make one script call each, pipelined, and the request waits for all of them (bounded
    /// by the command timeout). Redis unreachable or failing applies each policy's `on_redis_error`.
    private func askRedisRateLimits(
        _ policies: [LoopRateLimit], redis: any RedisScriptRunner, limiter: LocalRateLimiter, head: RequestHead,
        route: CompiledRoute, routeIndex: Int, snapshot: Snapshot, context: ChannelHandlerContext
    ) {
        let trusted = snapshot.configuration.trustedProxies
        var tightest: RateLimitDecision?
        var exact: [(applied: LoopRateLimit, key: String)] = []
        for applied in policies {
            let key = applied.policy.key(
                for: head, client: client, route: route.name, trustedProxies: trusted, identity: identity)
            if applied.policy.mode == .exact {
                // Not connected: the call fails at once and the failure policy applies.
                exact.append((applied, key))
                continue
            }
            let decision: RateLimitDecision
            if redis.isConnected, let approximate = loop.approximateLimiter {
                decision = approximate.take(applied.policy, key: key, now: WallClock.nowMilliseconds())
            } else if let fallback = decideWithoutRedis(applied, key: key, limiter: limiter, failure: nil) {
                decision = fallback
            } else {
                return respondLocally(.rateLimiterUnavailable, context: context)
            }
            guard admit(decision, applied, tightest: &tightest, context: context) else { return }
        }
        guard !exact.isEmpty else {
            if let tightest { rateLimitFields = RateLimitFields.make(tightest) }
            return continueAfterRateLimits(
                head, route: route, routeIndex: routeIndex, snapshot: snapshot, context: context)
        }
        phase = .waitingForDecision
        let exchange = exchangeNumber &+ 1
        exchangeNumber = exchange
        let sent = NIODeadline.now()
        let decide = { (results: [Result<RESPValue, Error>]) in
            guard self.phase == .waitingForDecision, self.exchangeNumber == exchange, let context = self.context else {
                return
            }
            self.eventTime = .now()
            self.loop.metrics.redisLatency.record(nanoseconds: (self.eventTime - sent).nanoseconds)
            self.phase = .idle
            for ((applied, key), result) in zip(exact, results) {
                let decision: RateLimitDecision
                if case .success(let reply) = result, let parsed = RateLimitReply.decision(reply) {
                    decision = parsed
                    self.loop.noteRedisRecovered()
                } else if let fallback = self.decideWithoutRedis(
                    applied, key: key, limiter: limiter, failure: result)
                {
                    decision = fallback
                } else {
                    return self.respondLocally(.rateLimiterUnavailable, context: context)
                }
                guard self.admit(decision, applied, tightest: &tightest, context: context) else { return }
            }
            if let tightest { self.rateLimitFields = RateLimitFields.make(tightest) }
            self.continueAfterRateLimits(
                head, route: route, routeIndex: routeIndex, snapshot: snapshot, context: context)
            self.resumeDownstreamReads()
        }
        let calls = exact.map { applied, key in
            redis.evaluate(
                applied.policy.script, keys: [CompiledRateLimit.redisKey(key)],
                arguments: applied.policy.scriptArguments)
        }
        // The usual case is one policy: no combined future to build and complete.
        if calls.count == 1 {
            calls[0].assumeIsolated().whenComplete { decide([$0]) }
        } else {
            EventLoopFuture.whenAllComplete(calls, on: context.eventLoop).assumeIsolated().whenSuccess(decide)
        }
    }

    // MARK: - Cache

    /// Answers from a stored entry: 304 when the client's own copy is current, else the entry.
    /// Only valid before any response byte was sent; the upstream connection, if any, was
    /// released by the caller.
    private func serveFromCache(
        _ entry: CacheEntry, outcome: CacheOutcome, cacheStatus: String, context: ChannelHandlerContext
    ) {
        guard !responseHeadSent, phase != .closed else {
            closeNow()
            return
        }
        cancelTimer()
        if let pool, phase == .waitingForConnection {
            pool.cancelWait(self)
        }
        bufferedBody.removeAll()
        if !requestEndReceived && requestHasBody {
            if restOfBodyIsSmallOrChunked {
                discardBodyUntil = parser.bodyWireBytes + Self.maxDiscardedBody
            } else {
                downstreamKeepAlive = false
            }
        }
        phase = .answeredLocally
        responseHeadSent = true
        cacheExchange?.outcome = outcome
        let now = loop.cache?.clock() ?? WallClock.nowMilliseconds()
        let notModified = cacheExchange?.clientHasCurrentCopy(of: entry) ?? false
        var operations = clientResponseOperations
        if !notModified, let exchange = cacheExchange {
            switch exchange.requestedRanges(of: entry) {
            case .ignore:
                break
            case .unsatisfiable:
                operations.set.append(HeaderField(name: "Content-Range", value: "bytes */\(entry.body.readableBytes)"))
                return writeCachedPart(
                    status: 416, entry: entry, body: nil, operations: operations, outcome: outcome,
                    cacheStatus: cacheStatus, now: now, context: context)
            case .satisfiable(let ranges):
                let part = ByteRangeBody.make(ranges, of: entry, allocator: allocator)
                operations.set += part.fields
                return writeCachedPart(
                    status: 206, entry: entry, body: part.body, operations: operations, outcome: outcome,
                    cacheStatus: cacheStatus, now: now, context: context)
            }
        }
        // The representation: an encoded body the client prefers, else the identity one.
        let coding = cacheExchange?.preferredCoding(of: entry)
        let body = coding.flatMap { entry.encoded($0)?.body } ?? entry.body
        if let coding, !notModified {
            operations.set.append(HeaderField(name: "Content-Encoding", value: coding.rawValue))
        }
        if coding != nil || notModified, let etag = entry.etag(for: coding) {
            operations.set.append(HeaderField(name: "ETag", value: etag.headerValue))
        }
        let status = notModified ? 304 : entry.status
        let sendsBody = !requestIsHead && !notModified && body.readableBytes > 0
        let options = CachedResponseWriter.Options(
            outcome: outcome, cacheStatus: cacheStatus, age: entry.freshness.ageSeconds(now: now), requestID: requestID,
            operations: operations,
            keepAlive: downstreamKeepAlive && !loop.isDraining,
            clientVersionMinor: downstreamVersion.minor, servedBy: loop.cacheIdentity.name)
        let coalesceBody = sendsBody && body.readableBytes <= Self.maxCoalescedBody
        var output = recycledBuffer(
            &responseBufferStorage,
            capacity: entry.fields.readableBytes + 256 + (coalesceBody ? body.readableBytes : 0))
        CachedResponseWriter.writeHead(
            status: status, fields: entry.fields,
            framing: notModified ? .noBody : .contentLength(body.readableBytes), options: options, into: &output)
        responseStatus = status
        responseBytes += output.readableBytes
        if coalesceBody {
            // Small bodies go out with the head: one write instead of two.
            output.writeImmutableBuffer(body)
            writeRecycled(output, context: context)
        } else {
            writeRecycled(output, context: context)
            if sendsBody {
                context.write(wrapOutboundOut(body), promise: nil)
            }
        }
        if sendsBody { responseBytes += body.readableBytes }
        writeEnd(context: context)
        resumeDownstreamReads()
    }

    /// Answers this request from another request's origin fetch of the same key, as it arrives.
    private func followFill(_ fill: CacheFill, context: ChannelHandlerContext) {
        phase = .followingFill
        routeMetrics.recordCoalesced()
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        cacheExchange?.followerID = fill.subscribe {
            eventLoop.execute { loopBound.value.fillProgressed() }
        }
        requestDeadline = eventTime + (loop.cache?.coalesceTimeout ?? .seconds(5))
        ensureTimer(firingBy: requestDeadline, context: context)
        // It may have progressed before the subscription.
        fillProgressed()
    }

    private func fillProgressed() {
        guard phase == .followingFill, let context, let exchange = cacheExchange, let fill = exchange.fill else {
            return
        }
        switch fill.progress(from: exchange.followerChunkIndex) {
        case .waiting:
            return
        case .abandoned:
            if exchange.followerHeadWritten {
                // Part of the response is with the client: closing is the only honest signal.
                closeNow()
            } else {
                stopFollowingFill(context: context)
            }
        case .streaming(let head, let chunks, let complete):
            if !exchange.followerHeadWritten {
                let request = exchange.request
                guard head.vary.matches({ request.values(named: $0) }) else {
                    return stopFollowingFill(context: context)
                }
                cancelTimer()
                exchange.followerHeadWritten = true
                exchange.outcome = .hit
                responseHeadSent = true
                let framing: CachedResponseWriter.Framing
                if requestIsHead {
                    framing = head.contentLength.map { .contentLength($0) } ?? .noBody
                } else if let length = head.contentLength {
                    framing = .contentLength(length)
                } else if downstreamVersion.minor >= 1 {
                    framing = .chunked
                    exchange.followerFramesChunks = true
                } else {
                    framing = .untilClose
                    downstreamKeepAlive = false
                }
                let options = CachedResponseWriter.Options(
                    outcome: .hit, cacheStatus: "\(loop.cacheIdentity.name); hit; ttl=\(head.ttl); detail=coalesced",
                    age: 0,
                    requestID: requestID,
                    operations: clientResponseOperations,
                    keepAlive: downstreamKeepAlive && !loop.isDraining, clientVersionMinor: downstreamVersion.minor,
                    servedBy: loop.cacheIdentity.name)
                var output = allocator.buffer(capacity: head.fields.readableBytes + 256)
                CachedResponseWriter.writeHead(
                    status: head.status, fields: head.fields, framing: framing, options: options, into: &output)
                responseStatus = head.status
                responseBytes += output.readableBytes
                context.write(wrapOutboundOut(output), promise: nil)
            }
            exchange.followerChunkIndex += chunks.count
            if !requestIsHead {
                for chunk in chunks {
                    if exchange.followerFramesChunks {
                        let header = UpstreamRequestWriter.chunkHeader(size: chunk.readableBytes, allocator: allocator)
                        context.write(wrapOutboundOut(header), promise: nil)
                        context.write(wrapOutboundOut(chunk), promise: nil)
                        context.write(wrapOutboundOut(UpstreamRequestWriter.chunkTrailer), promise: nil)
                        responseBytes += header.readableBytes + 2
                    } else {
                        context.write(wrapOutboundOut(chunk), promise: nil)
                    }
                    responseBytes += chunk.readableBytes
                }
            }
            let framesChunks = exchange.followerFramesChunks
            cacheExchange = exchange
            guard complete else {
                context.flush()
                return
            }
            if framesChunks && !requestIsHead {
                context.write(wrapOutboundOut(UpstreamRequestWriter.lastChunk), promise: nil)
                responseBytes += UpstreamRequestWriter.lastChunk.readableBytes
            }
            phase = .answeredLocally
            writeEnd(context: context)
            resumeDownstreamReads()
        }
    }

    /// The shared fetch will not answer this request (timed out, abandoned, another variant):
    /// it goes to the origin itself, without coalescing again.
    private func stopFollowingFill(context: ChannelHandlerContext) {
        guard let exchange = cacheExchange, let route else { return }
        if let fill = exchange.fill, let id = exchange.followerID {
            fill.unsubscribe(id)
        }
        exchange.fill = nil
        exchange.followerID = nil
        cacheExchange = exchange
        phase = .idle
        eventTime = .now()
        forwardToUpstream(
            exchange.request, route: route, routeIndex: routeIndex, requestTimeout: TimeAmount(route.requestTimeout),
            snapshot: loop.snapshot, context: context)
    }

    /// A 206 or 416 cut from a stored entry.
    private func writeCachedPart(
        status: Int, entry: CacheEntry, body: ByteBuffer?, operations: HeaderOperations, outcome: CacheOutcome,
        cacheStatus: String, now: Int64, context: ChannelHandlerContext
    ) {
        let options = CachedResponseWriter.Options(
            outcome: outcome, cacheStatus: cacheStatus, age: entry.freshness.ageSeconds(now: now), requestID: requestID,
            operations: operations, keepAlive: downstreamKeepAlive && !loop.isDraining,
            clientVersionMinor: downstreamVersion.minor, servedBy: loop.cacheIdentity.name)
        var output = allocator.buffer(capacity: entry.fields.readableBytes + 320)
        CachedResponseWriter.writeHead(
            status: status, fields: entry.fields, framing: .contentLength(body?.readableBytes ?? 0), options: options,
            into: &output)
        responseStatus = status
        responseBytes += output.readableBytes
        context.write(wrapOutboundOut(output), promise: nil)
        if let body, !requestIsHead {
            responseBytes += body.readableBytes
            context.write(wrapOutboundOut(body), promise: nil)
        }
        writeEnd(context: context)
        resumeDownstreamReads()
    }

    /// Body bytes of an origin response on a cached route: swallowed when a stored entry answers
    /// instead, collected when the response is being stored, framed again when they arrived
    /// unframed. Returns true if it wrote (or dropped) the bytes itself.
    private func forwardCachedRouteBody(_ buffer: ByteBuffer, context: ChannelHandlerContext) -> Bool {
        guard let exchange = cacheExchange else { return false }
        if exchange.answerAtEnd != nil { return true }
        if let cache = loop.cache {
            exchange.collect(buffer, maxObjectBytes: cache.store.configuration.maxObjectBytes)
            exchange.publishChunkToFollowers(buffer, cache: cache)
        }
        if exchange.serveStoredAtEnd {
            cacheExchange = exchange
            return true
        }
        let rechunk = exchange.rechunk
        cacheExchange = exchange
        guard rechunk else { return false }
        guard buffer.readableBytes > 0 else { return true }
        writeHeldResponseHead(context: context)
        let header = UpstreamRequestWriter.chunkHeader(size: buffer.readableBytes, allocator: allocator)
        context.write(wrapOutboundOut(header), promise: nil)
        context.write(wrapOutboundOut(buffer), promise: nil)
        context.write(wrapOutboundOut(UpstreamRequestWriter.chunkTrailer), promise: nil)
        responseBytes += header.readableBytes + buffer.readableBytes + 2
        downstreamNeedsFlush = true
        return true
    }

    /// The origin's response on a cached route ended (its connection already released): answer
    /// with the stored entry that stands in for it, or store what was collected. Returns true if
    /// the exchange was answered here.
    private func finishCachedRouteResponse(context: ChannelHandlerContext) -> Bool {
        guard let exchange = cacheExchange, let cache = loop.cache else { return false }
        if let answer = exchange.answerAtEnd {
            exchange.answerAtEnd = nil
            cacheExchange = exchange
            serveFromCache(answer.entry, outcome: answer.outcome, cacheStatus: answer.cacheStatus, context: context)
            return true
        }
        if exchange.rechunk {
            context.write(wrapOutboundOut(UpstreamRequestWriter.lastChunk), promise: nil)
            responseBytes += UpstreamRequestWriter.lastChunk.readableBytes
        }
        let stored = exchange.finishStoring(cache: cache, allocator: allocator)
        if let stored {
            cache.insert(stored)
        }
        if exchange.leadsFill, let fill = exchange.fill {
            // Stored first, so a request arriving after the fill left the registry finds the entry.
            fill.complete()
            cache.endFill(fill)
        }
        exchange.invalidateAfterUnsafeMethod(status: responseStatus, cache: cache)
        cacheExchange = exchange
        if exchange.serveStoredAtEnd {
            if let stored {
                serveFromCache(stored, outcome: .miss, cacheStatus: exchange.forwardedCacheStatus, context: context)
            } else {
                respondLocally(.upstreamInvalidResponse, context: context)
            }
            return true
        }
        return false
    }

    private static let retryAfterOneSecond = [HeaderField(name: "Retry-After", value: "1")]

    /// Shed requests say when to come back: the excess is meant to return later, not at once.
    private static func retryAfter(for error: GatewayError) -> [HeaderField] {
        switch error {
        case .upstreamConcurrencyLimit, .upstreamPendingLimit, .routeConcurrencyLimit, .upstreamOverloaded:
            retryAfterOneSecond
        default:
            []
        }
    }

    /// On a cached route, the gateway's own errors say how the cache took part too.
    private func cacheFields(for error: GatewayError) -> [HeaderField] {
        guard let exchange = cacheExchange else { return [] }
        return [
            HeaderField(
                name: "X-Cache", value: exchange.isBypass ? CacheOutcome.bypass.rawValue : CacheOutcome.miss.rawValue),
            HeaderField(
                name: "Cache-Status",
                value: CacheStatusText.forwarded(loop.cacheIdentity.name, exchange.forward, detail: error.code)),
            HeaderField(name: "X-Served-By", value: loop.cacheIdentity.name),
        ]
    }

    /// Like nginx, the rest of a small body is read and dropped after an early answer, so the
    /// connection stays usable; a large or unframed one (or one refused for its size) is not read.
    private func canDiscardRestOfBody(after error: GatewayError) -> Bool {
        // A body refused for its size, or one that stopped arriving, is not waited for.
        guard error != .payloadTooLarge, error != .requestTimeout else { return false }
        return restOfBodyIsSmallOrChunked
    }

    private var restOfBodyIsSmallOrChunked: Bool {
        switch requestFraming {
        case .contentLength(let length): return length - requestBodyBytes <= Self.maxDiscardedBody
        case .chunked: return true  // bounded by `discardBodyUntil` while it arrives
        case .none: return false
        }
    }

    /// nginx's error.log line for a failed upstream exchange, as structured fields.
    /// Rate-limited per event loop (`LogBudget`): the first line after a pause in the flood says
    /// how many were left out.
    private func logUpstreamError(_ message: Logger.Message, _ cause: Any) {
        let admitted = loop.errorLogBudget.admit(now: .now())
        guard admitted.allowed else {
            loop.metrics.suppressedLogLines += 1
            return
        }
        var metadata: Logger.Metadata = [
            LogLevels.subsystemKey: "\(LogSubsystem.proxy.rawValue)", "request_id": "\(requestID)",
            "route": "\(route?.name ?? "-")", "endpoint": "\(pool?.label ?? "-")", "client": "\(client.ip)",
            "error": "\(cause)",
        ]
        if let traceID { metadata["trace_id"] = "\(traceID)" }
        if admitted.suppressedBefore > 0 { metadata["suppressed_before"] = "\(admitted.suppressedBefore)" }
        loop.logger.warning(message, metadata: metadata)
    }

    // MARK: - Timers, draining, teardown

    private func ensureTimer(firingBy deadline: NIODeadline, context: ChannelHandlerContext) {
        if let armed = timerDeadline, armed <= deadline { return }
        timerDeadline = deadline
        if let streamTimer = peer.streamTimer {
            streamTimer.schedule(self, at: deadline, on: context.eventLoop)
            return
        }
        timer?.cancel()
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            self.deadlineReached()
        }
    }

    private func stopTimer() {
        timer?.cancel()
        timer = nil
        timerDeadline = nil
        peer.streamTimer?.cancel(self)
    }

    /// The exchange no longer has deadlines; an armed timer stays and finds nothing to do.
    private func cancelTimer() {
        requestDeadline = .distantFuture
        responseHeaderDeadline = .distantFuture
    }

    func deadlineReached() {
        eventTime = .now()
        timer = nil
        timerDeadline = nil
        guard let context, phase == .waitingForConnection || phase == .proxying || phase == .followingFill else {
            return
        }
        let now = NIODeadline.now()
        if phase == .followingFill {
            if now >= requestDeadline {
                stopFollowingFill(context: context)
            } else {
                ensureTimer(firingBy: requestDeadline, context: context)
            }
            return
        }
        guard now >= requestDeadline || now >= responseHeaderDeadline else {
            ensureTimer(firingBy: min(requestDeadline, responseHeaderDeadline), context: context)
            return
        }
        if phase == .waitingForConnection, let pool {
            pool.cancelWait(self)
        }
        logUpstreamError(
            now >= responseHeaderDeadline ? "upstream response header timeout" : "request timeout",
            phase == .waitingForConnection ? "still waiting for a connection" : "waiting for the response")
        upstreamMetrics?.recordError(.responseTimeout)
        // Only a request sent whole and left unanswered is the endpoint's fault: a request deadline
        // passing while the client still uploads is not.
        if phase == .proxying, requestEndSent, !responseHeadSent, responseStatus == 0 {
            reportAttempt(.timeout)
            if now < requestDeadline, let plan = planRetry(after: .timeout) {
                releaseConnection(reusable: false)
                performRetry(plan, context: context)
                return
            }
        }
        respondLocally(.upstreamTimeout, context: context)
    }

    /// Called every second by the loop sweep: client-side read timeouts need no per-request timer.
    func checkTimeouts(now: NIODeadline) {
        eventTime = now
        switch phase {
        case .idle:
            let limit = requestsOnConnection == 0 ? listener.headerReadTimeout : listener.idleTimeout
            if now - waitingSince > limit {
                closeNow()
            }
        case .proxying, .waitingForConnection:
            if !requestEndReceived, now - waitingSince > listener.bodyReadTimeout {
                if let context, !responseHeadSent {
                    respondLocally(.requestTimeout, context: context)
                } else {
                    closeNow()
                }
            }
        case .tunnelling:
            if now - waitingSince > listener.idleTimeout {
                closeNow()
            }
        case .answeredLocally, .closing:
            // A client that never finishes its body, or never reads the final response, must not
            // hold the connection (and its max_connections slot) forever.
            if now - waitingSince > listener.bodyReadTimeout {
                closeNow()
            }
        case .waitingForDecision, .followingFill, .closed:
            // Redis calls end with their command timeout. A follower waits at most the coalescing timeout for a head, then as long as the
            // fetch it follows (which has the upstream's timeouts).
            break
        }
    }

    func drain() {
        downstreamKeepAlive = false
        if phase == .idle {
            closeNow()
        }
    }

    func closeNow() {
        guard phase != .closed else { return }
        context?.close(promise: nil)
    }

    /// The client went away mid-exchange: the upstream connection is in an unknown state.
    private func abandonExchange() {
        cancelTimer()
        heldResponseHead = nil
        if phase == .waitingForConnection, let pool {
            pool.cancelWait(self)
        }
        if let connection {
            self.connection = nil
            connection.pool.release(connection, reusable: false, now: .now())
        }
    }

    private func resumeDownstreamReads() {
        guard downstreamReadPending, phase != .waitingForConnection, phase != .waitingForDecision, upstreamWritable,
            downstreamWritable,
            !hasTooMuchPipelinedInput, let context
        else { return }
        downstreamReadPending = false
        context.read()
    }
}

extension HTTPMethod {
    /// RFC 9110 9.2.2: a failed attempt of these can be repeated without changing the outcome.
    var isIdempotent: Bool {
        switch self {
        case .GET, .HEAD, .PUT, .DELETE, .OPTIONS, .TRACE: return true
        default: return false
        }
    }
}
