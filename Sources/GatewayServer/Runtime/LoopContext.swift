import GatewayConfig
import Logging
import NIOCore

/// Everything one event loop owns: pools, balancers, the date cache, request-id generator and its
/// downstream connections. Touched only on its loop, so nothing in it needs a lock.
final class LoopContext {
    let eventLoop: EventLoop
    let dateCache: DateCache
    var requestIDs = RequestIDGenerator()
    private(set) var snapshot: Snapshot
    private(set) var upstreams: [UpstreamRuntime] = []
    /// `snapshot.routes[i].requestTimeout` as NIO time, converted once per snapshot.
    private(set) var requestTimeouts: [TimeAmount] = []
    /// Pools by endpoint address, kept across snapshots so a reload keeps warm connections.
    private var poolsByEndpoint: [HostPort: EndpointPool] = [:]
    private let resolvedEndpoints: [HostPort: SocketAddress]
    private var connections: [ObjectIdentifier: ProxyHandler] = [:]
    private var sweepTask: RepeatedTask?
    private(set) var isDraining = false

    /// For errors only: nothing is logged per successful request (that is the access log's job).
    let logger: Logger

    init(eventLoop: EventLoop, snapshot: Snapshot, resolvedEndpoints: [HostPort: SocketAddress], logger: Logger) {
        self.eventLoop = eventLoop
        self.logger = logger
        self.dateCache = DateCache(eventLoop: eventLoop)
        self.snapshot = snapshot
        self.resolvedEndpoints = resolvedEndpoints
        self.upstreams = buildUpstreams(for: snapshot)
        self.requestTimeouts = snapshot.routes.map { TimeAmount($0.requestTimeout) }
        let loopBound = NIOLoopBound(self, eventLoop: eventLoop)
        self.sweepTask = eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in
            loopBound.value.sweep()
        }
    }

    var connectionCount: Int { connections.count }

    func register(_ handler: ProxyHandler) {
        connections[ObjectIdentifier(handler)] = handler
    }

    func unregister(_ handler: ProxyHandler) {
        connections.removeValue(forKey: ObjectIdentifier(handler))
    }

    /// Graceful shutdown: idle connections close now, busy ones after their current response.
    func beginDrain() {
        isDraining = true
        for handler in connections.values {
            handler.drain()
        }
    }

    func closeAll() {
        for handler in connections.values {
            handler.closeNow()
        }
        for pool in poolsByEndpoint.values {
            pool.closeAll()
        }
        sweepTask?.cancel()
        dateCache.stop()
    }

    private func sweep() {
        let now = NIODeadline.now()
        for pool in poolsByEndpoint.values {
            pool.closeExpiredIdle(now: now)
        }
        for handler in connections.values {
            handler.checkTimeouts(now: now)
        }
    }

    private func buildUpstreams(for snapshot: Snapshot) -> [UpstreamRuntime] {
        snapshot.upstreams.map { upstream in
            let pools = upstream.endpoints.map { endpoint -> EndpointPool in
                if let existing = poolsByEndpoint[endpoint.address] { return existing }
                let address = resolvedEndpoints[endpoint.address]
                let pool = EndpointPool(
                    address: address, label: endpoint.address.description, eventLoop: eventLoop,
                    maxConnections: upstream.pool.maxPerEndpoint,
                    idleTimeout: TimeAmount(upstream.pool.idleTimeout),
                    connectTimeout: TimeAmount(upstream.timeouts.connect))
                poolsByEndpoint[endpoint.address] = pool
                return pool
            }
            return UpstreamRuntime(config: upstream, pools: pools)
        }
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
