import NIOCore
import NIOPosix
import NIOSSL

/// Keep-alive connections to one endpoint, owned by one event loop: no locks, because only this
/// loop touches it (DESIGN.md, share nothing). Caps connections per endpoint and queues exchanges
/// that wait for one.
///
/// For an HTTP/2 upstream the "connections" it hands out are streams of one shared HTTP/2
/// connection (`UpstreamHTTP2Session`), one per exchange and never reused; the cap then counts
/// streams.
final class EndpointPool {
    /// nil when the name did not resolve: every connect then fails fast as a 502, never a crash.
    let address: SocketAddress?
    let label: String
    let eventLoop: EventLoop
    private let bootstrap: ClientBootstrap
    private let maxConnections: Int
    private let maxWaiters: Int
    private let idleTimeout: TimeAmount
    private var idle: [UpstreamConnection] = []
    /// Connecting + leased + idle.
    private(set) var openConnections = 0
    /// Leased to an exchange; the load that least-request compares.
    private(set) var activeRequests = 0
    /// Exchanges waiting for a connection, with the exchange number each waits for: a handler
    /// whose exchange ended meanwhile ignores a connection meant for the old one.
    private var waiters = CircularBuffer<(handler: ProxyHandler, exchange: UInt64)>()
    /// No longer in the current snapshot (a reload removed or changed its endpoint): exchanges that
    /// already hold it finish, but nothing is parked in it any more.
    private(set) var isRetired = false
    /// `protocol: h2c | h2`: exchanges get streams of `session` instead of connections.
    private let isHTTP2: Bool
    /// Streams say `https` in `:scheme` (the connection has TLS).
    private let isHTTPS: Bool
    private var session: UpstreamHTTP2Session?
    private var sessionConnecting = false
    private var sessionWaiters: [(handler: ProxyHandler, exchange: UInt64)] = []

    /// Nothing open and nobody waiting: a retired pool in this state can be let go (its
    /// connections hold it `unowned`, so it must outlive them).
    var isUnused: Bool { openConnections == 0 && waiters.isEmpty }

    init(
        address: SocketAddress?, label: String, eventLoop: EventLoop, maxConnections: Int, idleTimeout: TimeAmount,
        connectTimeout: TimeAmount, maxWaiters: Int = 1024, tls: (context: NIOSSLContext, serverName: String?)? = nil,
        http2: Bool = false
    ) {
        self.address = address
        self.label = label
        self.eventLoop = eventLoop
        self.maxConnections = max(1, maxConnections)
        self.maxWaiters = maxWaiters
        self.idleTimeout = idleTimeout
        self.isHTTP2 = http2
        self.isHTTPS = tls != nil
        self.bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let tls {
                        // Requests written before the handshake ends wait in the TLS handler.
                        try sync.addHandler(NIOSSLClientHandler(context: tls.context, serverHostname: tls.serverName))
                    }
                    if http2 {
                        try UpstreamHTTP2Session.configure(channel)
                    } else {
                        // Bytes both ways: requests are written by UpstreamRequestWriter, responses
                        // parsed by UpstreamHandler just enough to forward them as they came.
                        try sync.addHandler(UpstreamHandler())
                    }
                }
            }
    }

    /// An idle connection, newest first (warmest, least likely closed by the upstream), or nil.
    /// `maxIdleAge` limits how long it may have sat idle: a non-idempotent request must not be sent on
    /// a connection the upstream may be closing, because it cannot be retried safely.
    func takeIdle(maxIdleAge: TimeAmount?, now: NIODeadline) -> UpstreamConnection? {
        while let connection = idle.popLast() {
            guard connection.isUsable, !connection.isClosed else {
                connection.close()
                continue
            }
            if let maxIdleAge, now - connection.idleSince > maxIdleAge {
                // Too old for this request but fine for others: keep it, open a fresh one instead.
                idle.append(connection)
                return nil
            }
            activeRequests += 1
            return connection
        }
        return nil
    }

    enum ConnectOutcome {
        case connecting
        case queued
        case overloaded
    }

    /// Opens a new connection for `waiter`, or queues it when the endpoint is at its cap.
    func connect(for waiter: ProxyHandler, exchange: UInt64) -> ConnectOutcome {
        if openConnections < maxConnections {
            openConnections += 1
            startConnect(for: waiter, exchange: exchange)
            return .connecting
        }
        guard waiters.count < maxWaiters else { return .overloaded }
        waiters.append((waiter, exchange))
        if let oldest = idle.first {
            // At the cap, but only because of idle connections this request may not use (too old
            // for a non-idempotent one): trade the oldest for a fresh one. Its close promotes the
            // waiter through connectionClosed, whether the close is synchronous or not.
            oldest.close()
        }
        return .queued
    }

    func cancelWait(_ waiter: ProxyHandler) {
        if let index = waiters.firstIndex(where: { $0.handler === waiter }) {
            waiters.remove(at: index)
        }
    }

    /// Gives a connection back after an exchange; `reusable` is false when the exchange did not end
    /// cleanly (the connection's framing state is unknown).
    func release(_ connection: UpstreamConnection, reusable: Bool, now: NIODeadline) {
        activeRequests -= 1
        connection.handler.exchange = nil
        guard reusable, connection.isUsable, !connection.isClosed else {
            connection.close()
            return
        }
        if let waiter = waiters.popFirst() {
            activeRequests += 1
            waiter.handler.connectionReady(connection, reused: true, exchange: waiter.exchange)
            return
        }
        if isRetired {
            connection.close()
            return
        }
        connection.idleSince = now
        // Parked connections must keep reading: that is how a close or stray bytes from the
        // upstream are noticed before the connection is handed out again.
        connection.handler.setReadsAllowed(true)
        idle.append(connection)
    }

    func connectionClosed(_ connection: UpstreamConnection) {
        openConnections -= 1
        if isRetired, openConnections == 0, let session {
            // The last stream of a retired pool's session ended.
            session.channel.close(promise: nil)
        }
        if let index = idle.firstIndex(where: { $0 === connection }) {
            idle.remove(at: index)
        }
        // A slot freed: a queued exchange can now open its own connection.
        if let waiter = waiters.popFirst() {
            openConnections += 1
            startConnect(for: waiter.handler, exchange: waiter.exchange)
        }
    }

    /// Closes connections idle longer than the idle timeout; run by the loop's sweep timer.
    func closeExpiredIdle(now: NIODeadline) {
        if let session {
            if openConnections > 0 || sessionConnecting {
                session.idleSince = nil
            } else if let since = session.idleSince {
                if now - since >= idleTimeout { session.channel.close(promise: nil) }
            } else {
                session.idleSince = now
            }
        }
        guard !idle.isEmpty else { return }
        let expired = idle.filter { now - $0.idleSince >= idleTimeout }
        for connection in expired {
            connection.close()
        }
    }

    func closeAll() {
        for connection in idle {
            connection.close()
        }
        if let session, openConnections == 0 {
            session.channel.close(promise: nil)
        }
    }

    func retire() {
        isRetired = true
        closeAll()
    }

    private func startConnect(for waiter: ProxyHandler, exchange: UInt64) {
        let pool = self
        guard let address else {
            eventLoop.assumeIsolated().execute {
                pool.openConnections -= 1
                waiter.connectionFailed(UpstreamConnectionError.unresolved, exchange: exchange)
            }
            return
        }
        if isHTTP2 {
            return startStream(for: waiter, exchange: exchange, address: address)
        }
        bootstrap.connect(to: address).assumeIsolated().whenComplete { result in
            pool.handOver(result, to: waiter, exchange: exchange, reused: false, reusable: true)
        }
    }

    /// A new connection (or HTTP/2 stream) goes to the exchange that asked for it; a failure
    /// gives its slot back and tells the exchange.
    private func handOver(
        _ result: Result<Channel, Error>, to waiter: ProxyHandler, exchange: UInt64, reused: Bool, reusable: Bool
    ) {
        switch result {
        case .success(let channel):
            guard let handler = try? channel.pipeline.syncOperations.handler(type: UpstreamHandler.self) else {
                openConnections -= 1
                channel.close(promise: nil)
                waiter.connectionFailed(UpstreamConnectionError.closed, exchange: exchange)
                return
            }
            let connection = UpstreamConnection(channel: channel, handler: handler, pool: self)
            if !reusable { connection.markUnusable() }
            handler.connection = connection
            activeRequests += 1
            waiter.connectionReady(connection, reused: reused, exchange: exchange)
        case .failure(let error):
            openConnections -= 1
            waiter.connectionFailed(error, exchange: exchange)
        }
    }

    // MARK: - HTTP/2 upstreams

    /// A stream on the shared session, connecting the session first if there is none usable.
    private func startStream(for waiter: ProxyHandler, exchange: UInt64, address: SocketAddress) {
        if let session, session.isUsable {
            return openStream(on: session, for: waiter, exchange: exchange)
        }
        sessionWaiters.append((waiter, exchange))
        guard !sessionConnecting else { return }
        sessionConnecting = true
        let pool = self
        bootstrap.connect(to: address).assumeIsolated().whenComplete { result in
            pool.sessionConnecting = false
            let waiting = pool.sessionWaiters
            pool.sessionWaiters.removeAll()
            let session: UpstreamHTTP2Session
            do {
                session = try UpstreamHTTP2Session.start(on: result.get()) { closed in
                    if pool.session === closed { pool.session = nil }
                }
            } catch {
                for waiter in waiting {
                    pool.openConnections -= 1
                    waiter.handler.connectionFailed(error, exchange: waiter.exchange)
                }
                return
            }
            pool.session = session
            for waiter in waiting {
                pool.openStream(on: session, for: waiter.handler, exchange: waiter.exchange)
            }
        }
    }

    private func openStream(on session: UpstreamHTTP2Session, for waiter: ProxyHandler, exchange: UInt64) {
        let reused = session.hasCarriedStreams
        session.hasCarriedStreams = true
        session.idleSince = nil
        let pool = self
        let https = isHTTPS
        session.multiplexer.createStreamChannel { stream in
            stream.eventLoop.makeCompletedFuture { try UpstreamHTTP2Session.configureStream(stream, https: https) }
        }.assumeIsolated().whenComplete { result in
            // One exchange per stream: released streams are closed, never parked.
            pool.handOver(result, to: waiter, exchange: exchange, reused: reused, reusable: false)
        }
    }
}
