import GatewayConfig
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The data plane as a lifecycle service: binds the listeners, owns the event loops and drains
/// gracefully when the service group asks it to stop.
public final class GatewayServer: Service, Sendable {
    public struct StartupError: Error, CustomStringConvertible {
        public let description: String
    }

    private struct Running {
        let group: MultiThreadedEventLoopGroup
        let loops: [NIOLoopBound<LoopContext>]
        let serverChannels: [Channel]
        let boundAddresses: [String: SocketAddress]
    }

    private let current: NIOLockedValueBox<Snapshot>
    private let logger: Logger
    private let running = NIOLockedValueBox<Running?>(nil)

    public init(snapshot: Snapshot, logger: Logger) {
        self.current = NIOLockedValueBox(snapshot)
        self.logger = logger
    }

    /// Listener name → the address it is bound to (port 0 in the config is resolved here).
    public var boundAddresses: [String: SocketAddress] {
        running.withLockedValue { $0?.boundAddresses ?? [:] }
    }

    public func run() async throws {
        if running.withLockedValue({ $0 == nil }) {
            _ = try await start()
        }
        try? await gracefulShutdown()
        await shutdown(drainTimeout: snapshot.configuration.runtime.drainTimeout)
    }

    /// The snapshot new requests are routed with.
    public var snapshot: Snapshot { current.withLockedValue { $0 } }

    /// Publishes `newSnapshot` to every event loop. Names are resolved first, off the loops; each
    /// loop then switches in one step, so requests in flight finish on the snapshot they started
    /// with and the next request on any connection uses the new one. Pools of endpoints that stay
    /// are kept; the others are retired and close once their last exchange ends. Listener changes
    /// are not applied here.
    public func reload(to newSnapshot: Snapshot) async throws {
        guard let loops = running.withLockedValue({ $0?.loops }) else {
            current.withLockedValue { $0 = newSnapshot }
            return
        }
        let resolved = try Self.resolveEndpoints(newSnapshot.configuration.upstreams)
        for loop in loops {
            try await loop.eventLoop.submit { loop.value.apply(newSnapshot, resolvedEndpoints: resolved) }.get()
        }
        current.withLockedValue { $0 = newSnapshot }
        logger.info(
            "configuration applied",
            metadata: [
                "generation": "\(newSnapshot.generation)", "routes": "\(newSnapshot.routes.count)",
                "upstreams": "\(newSnapshot.upstreams.count)",
            ])
    }

    /// Open upstream connections by endpoint, summed over the event loops.
    public func upstreamConnectionCounts() async -> [String: Int] {
        guard let loops = running.withLockedValue({ $0?.loops }) else { return [:] }
        var total: [String: Int] = [:]
        for loop in loops {
            let counts = (try? await loop.eventLoop.submit { loop.value.upstreamConnectionCounts }.get()) ?? [:]
            total.merge(counts, uniquingKeysWith: +)
        }
        return total
    }

    /// Binds every listener; throws (and leaves nothing running) if any cannot be bound.
    @discardableResult
    public func start() async throws -> [String: SocketAddress] {
        let configuration = snapshot.configuration
        let resolved = try Self.resolveEndpoints(configuration.upstreams)
        let threads = configuration.runtime.eventLoops > 0 ? configuration.runtime.eventLoops : System.coreCount
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        var loops: [NIOLoopBound<LoopContext>] = []
        for eventLoop in group.makeIterator() {
            let snapshot = self.snapshot
            let logger = self.logger
            let loop = try await eventLoop.submit {
                NIOLoopBound(
                    LoopContext(eventLoop: eventLoop, snapshot: snapshot, resolvedEndpoints: resolved, logger: logger),
                    eventLoop: eventLoop)
            }.get()
            loops.append(loop)
        }
        var loopsByEventLoop: [ObjectIdentifier: NIOLoopBound<LoopContext>] = [:]
        for loop in loops {
            loopsByEventLoop[ObjectIdentifier(loop.eventLoop)] = loop
        }
        var channels: [Channel] = []
        var bound: [String: SocketAddress] = [:]
        do {
            for listener in configuration.listeners {
                let channel = try await Self.bind(
                    listener: listener, group: group, loops: loopsByEventLoop)
                channels.append(channel)
                if let address = channel.localAddress {
                    bound[listener.name] = address
                }
                logger.info(
                    "listening",
                    metadata: ["listener": "\(listener.name)", "address": "\(Self.format(channel.localAddress))"])
            }
        } catch {
            for channel in channels {
                try? await channel.close()
            }
            try? await group.shutdownGracefully()
            throw StartupError(description: "cannot bind listener: \(error)")
        }
        let state = Running(group: group, loops: loops, serverChannels: channels, boundAddresses: bound)
        running.withLockedValue { $0 = state }
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
        logger.info("draining", metadata: ["drain_timeout": "\(drainTimeout)"])
        for channel in state.serverChannels {
            try? await channel.close()
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
        for loop in state.loops {
            try? await loop.eventLoop.submit { loop.value.closeAll() }.get()
        }
        try? await state.group.shutdownGracefully()
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

    private static func bind(
        listener: ListenerConfig, group: MultiThreadedEventLoopGroup,
        loops: [ObjectIdentifier: NIOLoopBound<LoopContext>]
    ) async throws -> Channel {
        let runtime = ListenerRuntime(listener)
        let limiter = ConnectionLimiter(limit: listener.maxConnections)
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
                    // One handler: it parses requests from the bytes itself (RequestParser), orders
                    // pipelined ones, and writes responses as bytes (DownstreamHeadWriter).
                    try sync.addHandler(ProxyHandler(loop: loop.value, listener: runtime))
                }
            }
            .bind(host: listener.address.host, port: listener.address.port)
            .get()
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
