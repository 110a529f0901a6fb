import AsyncHTTPClient
import Foundation
import GatewayConfig
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import Redis
import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#endif

/// The data plane as a lifecycle service: binds the listeners, owns the event loops and drains
/// gracefully when the service group asks it to stop.
public final class GatewayServer: Service, Sendable {
    public struct StartupError: Error, CustomStringConvertible {
        public let description: String
    }

    struct BoundListener {
        let binding: ListenerBinding
        let channel: Channel
    }

    private struct Running {
        let group: MultiThreadedEventLoopGroup
        let loops: [NIOLoopBound<LoopContext>]
        /// By listener name, in config order.
        var listeners: [(name: String, bound: BoundListener)]
        var loopsByEventLoop: [ObjectIdentifier: NIOLoopBound<LoopContext>]
    }

    private let current: NIOLockedValueBox<Snapshot>
    private let logger: Logger
    private let running = NIOLockedValueBox<Running?>(nil)
    private let draining = NIOLockedValueBox(false)
    private let nextBindingID = NIOLockedValueBox(0)
    /// Reloads, generation and other process-wide metrics; the data plane's are on the loops.
    public let processMetrics: ProcessMetrics
    public let accessLog: AccessLogSink
    /// The response store, created once: a reload keeps its contents (and its size; see README).
    public let cache: EdgeCache
    /// The embedded rate limiter (all event loops share it).
    let rateLimiter = LocalRateLimiter()
    /// The current configuration's JWT providers and route authenticators.
    private let auth = NIOLockedValueBox<AuthRuntime?>(nil)
    /// Active health checks and bulkheads of the current configuration.
    private let resilience = NIOLockedValueBox<ResilienceRuntime>(.empty)
    /// Fleet-wide purges through Redis; nil without a standalone `redis` section.
    private let fleetPurge = NIOLockedValueBox<FleetCommands?>(nil)
    var fleet: FleetCommands? { fleetPurge.withLockedValue { $0 } }
    /// Spans to the OTLP collector; nil without `tracing` (a reload cannot add it).
    private let requestTracer = NIOLockedValueBox<RequestTracer?>(nil)
    /// For JWKS fetches, made when a provider first needs it.
    private let httpClient = NIOLockedValueBox<HTTPClient?>(nil)

    public init(
        snapshot: Snapshot, logger: Logger, processMetrics: ProcessMetrics = ProcessMetrics(),
        cacheClock: (@Sendable () -> Int64)? = nil
    ) {
        self.current = NIOLockedValueBox(snapshot)
        let cacheConfig = snapshot.configuration.cache ?? CacheConfig()
        self.cache = cacheClock.map { EdgeCache(cacheConfig, clock: $0) } ?? EdgeCache(cacheConfig)
        self.logger = logger
        self.processMetrics = processMetrics
        self.accessLog = AccessLogSink(onDrop: { lines in
            processMetrics.accessLogDroppedLines.increment(by: Int64(lines))
        })
    }

    /// Listener name → the address it is bound to (port 0 in the config is resolved here).
    public var boundAddresses: [String: SocketAddress] {
        running.withLockedValue { running in
            var addresses: [String: SocketAddress] = [:]
            for (name, bound) in running?.listeners ?? [] {
                addresses[name] = bound.channel.localAddress
            }
            return addresses
        }
    }

    /// Listening and not draining: what `/admin/ready` reports.
    public var isReady: Bool {
        running.withLockedValue { $0 != nil } && !draining.withLockedValue { $0 }
    }

    public var isDraining: Bool { draining.withLockedValue { $0 } }

    public func run() async throws {
        if running.withLockedValue({ $0 == nil }) {
            _ = try await start()
        }
        try? await gracefulShutdown()
        await shutdown(drainTimeout: snapshot.configuration.runtime.drainTimeout)
    }

    /// The snapshot new requests are routed with.
    public var snapshot: Snapshot { current.withLockedValue { $0 } }

    /// Publishes `newSnapshot` to every event loop. Names are resolved and new listener sockets
    /// bound first, off the loops, so a failure there changes nothing; each loop then switches in
    /// one step, so requests in flight finish on the snapshot they started with and the next
    /// request on any connection uses the new one. Pools of endpoints that stay are kept; the
    /// others are retired and close once their last exchange ends. Listeners that stay at their
    /// address keep their socket (no accept is missed); removed ones stop accepting and their
    /// connections close after their current response.
    public func reload(to newSnapshot: Snapshot) async throws {
        guard let state = running.withLockedValue({ $0 }) else {
            current.withLockedValue { $0 = newSnapshot }
            return
        }
        let configuration = newSnapshot.configuration
        let resolved = try Self.resolveEndpoints(configuration.upstreams)
        let previousAuth = auth.withLockedValue { $0 }
        let newAuth = try await buildAuth(configuration, previous: previousAuth)

        // A socket stays with a listener at the same address, whatever its name now: binding the
        // address again while the old socket holds it would fail. Port 0 means "any port", so
        // there only the name can say which listener it is.
        var kept: [String: BoundListener] = [:]
        var claimed = Set<Int>()
        for wanted in configuration.listeners {
            let candidates = state.listeners.filter { name, bound in
                !claimed.contains(bound.binding.id) && bound.binding.config.address == wanted.address
                    && (wanted.address.port != 0 || name == wanted.name)
            }
            if let match = candidates.first(where: { $0.name == wanted.name }) ?? candidates.first {
                kept[wanted.name] = match.bound
                claimed.insert(match.bound.binding.id)
            }
        }
        // Certificates are read again on every reload (renewals take effect); a bad one rejects it.
        let tls = try Self.buildTLS(configuration)
        let upstreamTLS = try Self.buildUpstreamTLS(configuration, logger: logger.subsystem(.upstream))
        var added: [(name: String, bound: BoundListener)] = []
        do {
            for listener in configuration.listeners where kept[listener.name] == nil {
                added.append(
                    (
                        listener.name,
                        try await bind(
                            listener, tls: tls[listener.name], group: state.group, loops: state.loopsByEventLoop)
                    ))
            }
            // Last of the steps that can fail, so a rejected reload leaves the log where it was.
            try accessLog.configure(configuration.logging.accessLog)
        } catch {
            for (_, bound) in added {
                try? await bound.channel.close()
            }
            throw error
        }

        let previousResilience = resilience.withLockedValue { $0 }
        let newResilience = try await ResilienceRuntime.build(
            configuration, previous: previousResilience, resolved: resolved, eventLoops: state.loops.map(\.eventLoop),
            logger: logger.subsystem(.upstream))
        do {
            for loop in state.loops {
                try await loop.eventLoop.submit {
                    loop.value.apply(
                        newSnapshot, resolvedEndpoints: resolved, auth: newAuth, resilience: newResilience,
                        upstreamTLS: upstreamTLS)
                }.get()
            }
        } catch {
            newResilience.retire(keeping: previousResilience)
            throw error
        }
        current.withLockedValue { $0 = newSnapshot }
        auth.withLockedValue { $0 = newAuth }
        resilience.withLockedValue { $0 = newResilience }
        previousAuth?.retire(keeping: newAuth)
        previousResilience.retire(keeping: newResilience)

        var listeners: [(name: String, bound: BoundListener)] = []
        for listener in configuration.listeners {
            if let bound = kept[listener.name] {
                bound.binding.update(listener, tls: tls[listener.name])
                listeners.append((listener.name, bound))
            } else if let bound = added.first(where: { $0.name == listener.name })?.bound {
                listeners.append((listener.name, bound))
            }
        }
        let keptIDs = Set(listeners.map(\.bound.binding.id))
        let removed = state.listeners.filter { !keptIDs.contains($0.bound.binding.id) }
        running.withLockedValue { $0?.listeners = listeners }
        for (name, bound) in removed {
            try? await bound.channel.close()
            logger.info("listener closed", metadata: ["listener": "\(name)"])
        }
        let removedIDs = Set(removed.map(\.bound.binding.id))
        if !removedIDs.isEmpty {
            for loop in state.loops {
                try? await loop.eventLoop.submit { loop.value.drainConnections(ofBindings: removedIDs) }.get()
            }
        }
        logger.info(
            "configuration applied",
            metadata: [
                "generation": "\(newSnapshot.generation)", "routes": "\(newSnapshot.routes.count)",
                "upstreams": "\(newSnapshot.upstreams.count)", "listeners": "\(listeners.count)",
            ])
    }

    /// Hands every loop's pending access log lines to the writer and writes them out now.
    public func flushAccessLog() async {
        for loop in running.withLockedValue({ $0?.loops ?? [] }) {
            try? await loop.eventLoop.submit { loop.value.flushAccessLog() }.get()
        }
        accessLog.flush()
    }

    /// The data plane's counters merged over the event loops, as Prometheus text, followed by the
    /// process-wide metrics.
    public func metricsText() async -> String {
        guard let state = running.withLockedValue({ $0 }) else { return processMetrics.render() }
        let sample = await dataPlaneSample()
        var text = DataPlaneExposition.render(sample)
        text += ResilienceExposition.render(
            upstreams: sample.upstreams, states: await endpointStates(), configuration: snapshot.configuration,
            resilience: resilienceRuntime)
        var refused = PrometheusText()
        refused.family(
            "gateway_downstream_connections_refused_total", type: "counter",
            help: "Client connections refused because the listener was at max_connections, by listener.")
        for (name, bound) in state.listeners {
            refused.sample(
                "gateway_downstream_connections_refused_total", [("listener", name)], bound.binding.limiter.rejected)
        }
        text += refused.text
        text += CacheStoreExposition.render(cache.store.stats())
        return text + processMetrics.render()
    }

    /// One of the event loops, chosen by `slot` (round robin for work spread over them).
    func loop(_ slot: Int) -> NIOLoopBound<LoopContext>? {
        running.withLockedValue { running in
            guard let loops = running?.loops, !loops.isEmpty else { return nil }
            return loops[slot % loops.count]
        }
    }

    /// The event loops' contexts, for admin work that needs a loop's Redis client or counters.
    func loopContexts() -> [NIOLoopBound<LoopContext>] {
        running.withLockedValue { $0?.loops ?? [] }
    }

    /// The event loops' counters, merged.
    func dataPlaneSample() async -> MetricsSample {
        var sample = MetricsSample()
        for loop in running.withLockedValue({ $0?.loops ?? [] }) {
            if let loopSample = try? await loop.eventLoop.submit({ loop.value.metricsSample() }).get() {
                sample.merge(loopSample)
            }
        }
        return sample
    }

    /// Counts a purge made through the admin API (process-wide: purges are rare).
    func recordPurge(targets: Int, durationNanoseconds: Int64) {
        processMetrics.cachePurges.increment(by: Int64(targets))
        processMetrics.events.withLockedValue { $0.purgeTargets += targets }
        processMetrics.cachePurgeDuration.recordNanoseconds(durationNanoseconds)
    }

    /// The current bulkheads and active health, for the admin view and metrics.
    var resilienceRuntime: ResilienceRuntime { resilience.withLockedValue { $0 } }

    /// Every upstream's endpoints as the worst loop sees them (circuit open on any loop shows open).
    func endpointStates() async -> [String: [EndpointStateSample]] {
        var merged: [String: [EndpointStateSample]] = [:]
        for loop in loopContexts() {
            guard let states = try? await loop.eventLoop.submit({ loop.value.endpointStates() }).get() else {
                continue
            }
            for (upstream, endpoints) in states {
                if let existing = merged[upstream], existing.count == endpoints.count {
                    merged[upstream] = zip(existing, endpoints).map { $0.merged(with: $1) }
                } else {
                    merged[upstream] = endpoints
                }
            }
        }
        return merged
    }

    /// Open upstream connections by endpoint, summed over the event loops.
    public func upstreamConnectionCounts() async -> [String: Int] {
        await poolCounts().mapValues(\.open)
    }

    /// Open connections and requests in flight by endpoint, summed over the event loops.
    func poolCounts() async -> [String: MetricsSample.PoolSample] {
        guard let loops = running.withLockedValue({ $0?.loops }) else { return [:] }
        var total = MetricsSample()
        for loop in loops {
            if let counts = try? await loop.eventLoop.submit({ loop.value.poolSample() }).get() {
                total.merge(MetricsSample(pools: counts))
            }
        }
        return total.pools
    }

    /// Binds every listener; throws (and leaves nothing running) if any cannot be bound.
    @discardableResult
    public func start() async throws -> [String: SocketAddress] {
        let configuration = snapshot.configuration
        let resolved = try Self.resolveEndpoints(configuration.upstreams)
        let threads = configuration.runtime.eventLoops > 0 ? configuration.runtime.eventLoops : System.coreCount
        do {
            try accessLog.configure(configuration.logging.accessLog)
        } catch {
            throw StartupError(description: "\(error)")
        }
        let redis = try RedisEndpoint.resolve(configuration.redis)
        let tls: [String: ServerTLS]
        let upstreamTLS: [String: UpstreamTLS]
        do {
            tls = try Self.buildTLS(configuration)
            upstreamTLS = try Self.buildUpstreamTLS(configuration, logger: logger.subsystem(.upstream))
        } catch {
            throw StartupError(description: "\(error)")
        }
        let authRuntime: AuthRuntime
        do {
            authRuntime = try await buildAuth(configuration, previous: nil)
        } catch {
            await shutDownHTTPClient()
            throw StartupError(description: "\(error)")
        }
        auth.withLockedValue { $0 = authRuntime }
        let tracer = configuration.tracing.map {
            RequestTracer($0, node: configuration.node, metrics: processMetrics, logger: logger.subsystem(.tracing))
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let resilienceRuntime: ResilienceRuntime
        do {
            resilienceRuntime = try await ResilienceRuntime.build(
                configuration, previous: nil, resolved: resolved, eventLoops: Array(group.makeIterator()),
                logger: logger.subsystem(.upstream))
        } catch {
            try? await group.shutdownGracefully()
            authRuntime.retire(keeping: nil)
            await shutDownHTTPClient()
            // Its HTTP client must be shut down before it goes (AsyncHTTPClient traps otherwise).
            await tracer?.shutdown()
            throw StartupError(description: "\(error)")
        }
        resilience.withLockedValue { $0 = resilienceRuntime }
        var loops: [NIOLoopBound<LoopContext>] = []
        for eventLoop in group.makeIterator() {
            let snapshot = self.snapshot
            let logger = self.logger
            let sink = accessLog
            let cache = self.cache
            let rateLimiter = self.rateLimiter
            let loop = try await eventLoop.submit {
                NIOLoopBound(
                    LoopContext(
                        eventLoop: eventLoop, snapshot: snapshot, resolvedEndpoints: resolved, logger: logger,
                        accessLogSink: sink, cache: cache, rateLimiter: rateLimiter, redis: redis, auth: authRuntime,
                        resilience: resilienceRuntime, upstreamTLS: upstreamTLS, tracer: tracer),
                    eventLoop: eventLoop)
            }.get()
            loops.append(loop)
        }
        if redis != nil {
            // Connected before the first request, so it is decided by Redis rather than by the
            // failure policy; if Redis is down now the gateway starts anyway and keeps trying.
            for loop in loops {
                do {
                    try await loop.eventLoop.flatSubmit {
                        loop.value.redis?.connect() ?? loop.eventLoop.makeSucceededVoidFuture()
                    }.get()
                } catch {
                    logger.warning(
                        "redis not reachable at start; on_redis_error applies", metadata: ["error": "\(error)"])
                    break
                }
            }
        }
        var loopsByEventLoop: [ObjectIdentifier: NIOLoopBound<LoopContext>] = [:]
        for loop in loops {
            loopsByEventLoop[ObjectIdentifier(loop.eventLoop)] = loop
        }
        var listeners: [(name: String, bound: BoundListener)] = []
        do {
            for listener in configuration.listeners {
                listeners.append(
                    (
                        listener.name,
                        try await bind(listener, tls: tls[listener.name], group: group, loops: loopsByEventLoop)
                    ))
            }
        } catch {
            for (_, bound) in listeners {
                try? await bound.channel.close()
            }
            resilienceRuntime.retire(keeping: nil)
            try? await group.shutdownGracefully()
            auth.withLockedValue { $0 }?.retire(keeping: nil)
            await shutDownHTTPClient()
            await tracer?.shutdown()
            throw error
        }
        if let tracer {
            tracer.start()
            requestTracer.withLockedValue { $0 = tracer }
        }
        if let redis, redis.mode == .standalone, let address = redis.addresses.first {
            let server = self
            let fleet = FleetCommands(
                node: FleetCommands.Node(id: configuration.node.id, region: configuration.node.region),
                address: address,
                options: redis.options, eventLoop: group.next(), logger: logger.subsystem(.fleet),
                apply: { [weak server] order in
                    guard let server else { return }
                    _ = CacheAdmin(server: server).applyLocally(order)
                },
                warm: { [weak server] order, report in
                    let node = FleetCommands.Node(id: configuration.node.id, region: configuration.node.region)
                    var final = FleetWarmProgress.NodeProgress(node: node, total: order.urls.count)
                    final.finished = true
                    guard let server else { return final }
                    let results = await CacheWarmer(server: server).warm(order.urls, concurrency: order.concurrency) {
                        tally in
                        var progress = FleetWarmProgress.NodeProgress(node: node, total: order.urls.count)
                        progress.done = tally.done
                        progress.stored = tally.stored
                        progress.failed = tally.failed
                        await report(progress)
                    }
                    final.done = results.count
                    for result in results {
                        switch result.outcome {
                        case .stored: final.stored += 1
                        case .failed: final.failed += 1
                        case .notStored: break
                        }
                    }
                    return final
                },
                analytics: { [weak server] in
                    await server?.dataPlaneSample().cacheAnalytics ?? CacheAnalytics()
                }, metrics: processMetrics)
            fleetPurge.withLockedValue { $0 = fleet }
            await fleet.start()
        } else if redis != nil {
            logger.warning("fleet purge needs a standalone redis; purges with a fleet scope will be refused")
        }
        let state = Running(group: group, loops: loops, listeners: listeners, loopsByEventLoop: loopsByEventLoop)
        running.withLockedValue { $0 = state }
        processMetrics.configGeneration.set(Int64(snapshot.generation))
        var bound: [String: SocketAddress] = [:]
        for (name, listener) in listeners {
            bound[name] = listener.channel.localAddress
        }
        logger.info(
            "gateway started",
            metadata: [
                "node": "\(configuration.node.id)", "event_loops": "\(threads)",
                "routes": "\(configuration.routes.count)", "upstreams": "\(configuration.upstreams.count)",
            ])
        return bound
    }

    /// Stops accepting, lets in-flight requests finish for up to `drainTimeout`, then closes what
    /// is left and stops the event loops.
    public func shutdown(drainTimeout: Duration) async {
        guard
            let state = running.withLockedValue({ value -> Running? in
                defer { value = nil }
                return value
            })
        else { return }
        draining.withLockedValue { $0 = true }
        logger.info("draining", metadata: ["drain_timeout": "\(drainTimeout)"])
        if let fleet = fleetPurge.withLockedValue({ value -> FleetCommands? in
            defer { value = nil }
            return value
        }) {
            await fleet.stop()
        }
        for (_, bound) in state.listeners {
            try? await bound.channel.close()
        }
        for loop in state.loops {
            try? await loop.eventLoop.submit { loop.value.beginDrain() }.get()
        }
        let deadline = NIODeadline.now() + TimeAmount(drainTimeout)
        var remaining = await Self.openConnections(state.loops)
        while remaining > 0, NIODeadline.now() < deadline {
            try? await Task.sleep(for: .milliseconds(20))
            remaining = await Self.openConnections(state.loops)
        }
        if remaining > 0 {
            logger.warning("drain timeout reached, closing connections", metadata: ["connections": "\(remaining)"])
        }
        resilience.withLockedValue { $0 }.retire(keeping: nil)
        for loop in state.loops {
            try? await loop.eventLoop.submit { loop.value.closeAll() }.get()
        }
        try? await state.group.shutdownGracefully()
        // After the loops: the last requests' spans are queued by now and go out in one flush.
        if let tracer = requestTracer.withLockedValue({ value -> RequestTracer? in
            defer { value = nil }
            return value
        }) {
            await tracer.shutdown()
        }
        auth.withLockedValue { $0 }?.retire(keeping: nil)
        await shutDownHTTPClient()
        await accessLog.close()
        logger.info("gateway stopped")
    }

    static func format(_ address: SocketAddress?) -> String {
        guard let address, let ip = address.ipAddress, let port = address.port else { return "unknown" }
        return ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }

    private static func openConnections(_ loops: [NIOLoopBound<LoopContext>]) async -> Int {
        var total = 0
        for loop in loops {
            total += (try? await loop.eventLoop.submit { loop.value.connectionCount }.get()) ?? 0
        }
        return total
    }

    /// Every TLS listener's context, by listener name, with its certificates read from disk now.
    /// `gateway validate` calls this too, so a missing or mismatched file is found before a start.
    public static func validateTLS(_ configuration: GatewayConfiguration) throws {
        _ = try buildTLS(configuration)
        _ = try buildUpstreamTLS(configuration, logger: nil)
    }

    /// Client contexts of the upstreams with `tls`, with their CA and client certificate files read now.
    static func buildUpstreamTLS(_ configuration: GatewayConfiguration, logger: Logger?) throws -> [String: UpstreamTLS]
    {
        var contexts: [String: UpstreamTLS] = [:]
        for upstream in configuration.upstreams {
            guard let tls = upstream.tls else { continue }
            if !tls.verify {
                logger?.warning(
                    "TLS to this upstream does not verify its certificate (tls.verify: false): anyone in the path can impersonate it",
                    metadata: ["upstream": "\(upstream.name)"])
            }
            contexts[upstream.name] = try UpstreamTLS.build(
                tls, upstream: upstream.name, http2: upstream.protocolVersion == .h2)
        }
        return contexts
    }

    static func buildTLS(_ configuration: GatewayConfiguration) throws -> [String: ServerTLS] {
        var contexts: [String: ServerTLS] = [:]
        for listener in configuration.listeners {
            guard let tls = listener.tls else { continue }
            contexts[listener.name] = try ServerTLS.build(
                tls, listener: listener.name, applicationProtocols: ProtocolSetup.alpn(for: listener.protocols))
        }
        return contexts
    }

    private func bind(
        _ listener: ListenerConfig, tls: ServerTLS?, group: MultiThreadedEventLoopGroup,
        loops: [ObjectIdentifier: NIOLoopBound<LoopContext>]
    ) async throws -> BoundListener {
        let id = nextBindingID.withLockedValue { id in
            id += 1
            return id
        }
        let binding = ListenerBinding(id: id, config: listener, tls: tls)
        do {
            let channel = try await Self.bind(listener, binding: binding, group: group, loops: loops)
            logger.info(
                "listening",
                metadata: ["listener": "\(listener.name)", "address": "\(Self.format(channel.localAddress))"])
            return BoundListener(binding: binding, channel: channel)
        } catch {
            throw StartupError(description: "cannot bind listener '\(listener.name)' to \(listener.address): \(error)")
        }
    }

    private static func bind(
        _ listener: ListenerConfig, binding: ListenerBinding, group: MultiThreadedEventLoopGroup,
        loops: [ObjectIdentifier: NIOLoopBound<LoopContext>]
    ) async throws -> Channel {
        let limiter = binding.limiter
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard let loop = loops[ObjectIdentifier(channel.eventLoop)] else {
                        throw StartupError(description: "connection on an event loop the gateway does not own")
                    }
                    let sync = channel.pipeline.syncOperations
                    guard limiter.tryAcquire() else {
                        try sync.addHandler(ConnectionRefusalHandler())
                        return
                    }
                    channel.closeFuture.whenComplete { _ in limiter.release() }
                    try ProtocolSetup.configure(channel, loop: loop, listener: binding.runtime, tls: binding.tls)
                }
            }
            .bind(host: listener.address.host, port: listener.address.port)
            .get()
    }

    /// The JWKS/introspection client must be shut down before it goes away (AsyncHTTPClient
    /// traps otherwise in debug builds).
    private func shutDownHTTPClient() async {
        let client = httpClient.withLockedValue { client in
            defer { client = nil }
            return client
        }
        try? await client?.shutdown()
    }

    private func buildAuth(_ configuration: GatewayConfiguration, previous: AuthRuntime?) async throws -> AuthRuntime {
        let httpClient = self.httpClient
        return try await AuthRuntime.build(
            configuration, previous: previous,
            httpClient: {
                httpClient.withLockedValue { client in
                    if let client { return client }
                    let made = HTTPClient(eventLoopGroupProvider: .singleton)
                    client = made
                    return made
                }
            }, environment: ProcessInfo.processInfo.environment, logger: logger.subsystem(.auth))
    }

    /// Names are resolved once at start, as nginx does for `server` lines in an upstream block.
    private static func resolveEndpoints(_ upstreams: [UpstreamConfig]) throws -> [HostPort: SocketAddress] {
        var resolved: [HostPort: SocketAddress] = [:]
        for upstream in upstreams {
            for endpoint in upstream.endpoints where resolved[endpoint.address] == nil {
                do {
                    resolved[endpoint.address] = try SocketAddress.makeAddressResolvingHost(
                        endpoint.address.host, port: endpoint.address.port)
                } catch {
                    throw StartupError(
                        description: "upstream '\(upstream.name)': cannot resolve \(endpoint.address): \(error)")
                }
            }
        }
        return resolved
    }
}
