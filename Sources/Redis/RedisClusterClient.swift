import Logging
import NIOCore

/// The Redis Cluster client of one event loop: scripts run on the master that owns their keys'
/// slot, through one `RedisClient` per master (which reconnects and reloads scripts by itself).
///
/// The slot map comes from `CLUSTER SLOTS`, asked of a connected master or else of any seed or
/// known node that answers. `MOVED` updates the slot, retries there and schedules a refresh;
/// `ASK` sends `ASKING` and the script to the named node once, leaving the map alone. Refreshes
/// are coalesced (one in flight) and rate-limited, and also follow a node's connection failing.
/// While the map is unknown or the slot's master is unreachable, calls fail at once with
/// `RedisError.unavailable`, so callers apply their failure policy instead of waiting.
///
/// `isConnected` is true when the map is known and every master's connection is up: only then
/// would a call for any key be written instead of failing at once.
/// Used only on its event loop.
public final class RedisClusterClient: RedisScriptRunner {
    public let eventLoop: EventLoop
    private let seeds: [SocketAddress]
    private let options: RedisConnection.Options
    private let backoff: RedisClient.Backoff
    private let logger: Logger
    private var map: ClusterSlotMap?
    private var clients: [ClusterNode: RedisClient] = [:]
    private var closed = false

    private var refreshInFlight: EventLoopFuture<Void>?
    /// A refresh was asked for while one was in flight, whose answer may predate the change.
    private var refreshAgain = false
    private var refreshTimer: Scheduled<Void>?
    private var lastRefreshStart: NIODeadline = .uptimeNanoseconds(0)
    private var lastRefreshFailed = false
    /// For tests: how many refreshes started, to see that bursts of redirects coalesce.
    private(set) var refreshesStarted = 0

    /// A burst of MOVED replies (every in-flight call to a migrated slot) costs one refresh.
    static let minimumRefreshInterval = TimeAmount.milliseconds(100)
    /// Beyond this many MOVED/ASK hops the cluster is reconfiguring faster than we can follow.
    static let maximumRedirections = 5

    public init(
        seeds: [SocketAddress], on eventLoop: EventLoop, options: RedisConnection.Options = .init(),
        backoff: RedisClient.Backoff = .init(), logger: Logger = Logger(label: "redis-cluster")
    ) {
        self.seeds = seeds
        self.eventLoop = eventLoop
        self.options = options
        self.backoff = backoff
        self.logger = logger
    }

    public var isConnected: Bool {
        guard let map else { return false }
        return map.nodes.allSatisfy { clients[$0]?.isConnected == true }
    }

    /// Discovers the slot map now (unless connected) and connects to every master; fails if the
    /// map cannot be had or a master cannot be reached (which then keeps reconnecting).
    public func connect() -> EventLoopFuture<Void> {
        eventLoop.preconditionInEventLoop()
        guard !closed else { return eventLoop.makeFailedFuture(RedisError.unavailable("cluster client closed")) }
        if isConnected { return eventLoop.makeSucceededVoidFuture() }
        return refresh().assumeIsolated().flatMap { () -> EventLoopFuture<Void> in
            let connects = self.clients.map { node, client in
                client.connect().flatMapErrorThrowing { error in
                    throw RedisError.unavailable("cannot connect to cluster master \(node): \(error)")
                }
            }
            return EventLoopFuture.andAllSucceed(connects, on: self.eventLoop)
        }.nonisolated()
    }

    public func evaluate(_ script: RedisScript, keys: [[UInt8]], arguments: [[UInt8]]) -> EventLoopFuture<RESPValue> {
        eventLoop.preconditionInEventLoop()
        let slot: Int?
        do {
            slot = try HashSlot.commonSlot(of: keys)
        } catch {
            return eventLoop.makeFailedFuture(error)
        }
        guard !closed else { return eventLoop.makeFailedFuture(RedisError.unavailable("cluster client closed")) }
        guard let map else {
            requestRefresh()
            return eventLoop.makeFailedFuture(RedisError.unavailable("cluster slot map not known yet"))
        }
        let node: ClusterNode
        if let slot {
            guard let owner = map.owner(ofSlot: slot) else {
                requestRefresh()
                return eventLoop.makeFailedFuture(RedisError.unavailable("no reachable master serves slot \(slot)"))
            }
            node = owner
        } else {
            // No keys: any master can run it; prefer one that is connected.
            guard let master = map.nodes.first(where: { clients[$0]?.isConnected == true }) ?? map.nodes.first else {
                return eventLoop.makeFailedFuture(RedisError.unavailable("no cluster master known"))
            }
            node = master
        }
        let call = Call(script: script, keys: keys, arguments: arguments)
        return run(call, on: node, asking: false, redirections: 0)
    }

    /// The text form, for tests and tools.
    public func evaluate(_ script: RedisScript, keys: [String], arguments: [String]) -> EventLoopFuture<RESPValue> {
        evaluate(script, keys: keys.map { Array($0.utf8) }, arguments: arguments.map { Array($0.utf8) })
    }

    public func close() {
        eventLoop.preconditionInEventLoop()
        closed = true
        refreshTimer?.cancel()
        refreshTimer = nil
        for client in clients.values { client.close() }
        clients = [:]
    }

    /// The master the map names for `slot` now; for tests.
    func owner(ofSlot slot: Int) -> ClusterNode? {
        map?.owner(ofSlot: slot)
    }

    // MARK: - Calls

    private struct Call {
        let script: RedisScript
        let keys: [[UInt8]]
        let arguments: [[UInt8]]
    }

    private func run(_ call: Call, on node: ClusterNode, asking: Bool, redirections: Int) -> EventLoopFuture<RESPValue>
    {
        let client = client(for: node)
        let reply: EventLoopFuture<RESPValue>
        if asking {
            reply = askingEvaluate(call, on: client)
        } else {
            reply = client.evaluate(call.script, keys: call.keys, arguments: call.arguments)
        }
        return reply.assumeIsolated().flatMapError { error -> EventLoopFuture<RESPValue> in
            // The node is unreachable: if a replica took over, another node's map says so.
            self.requestRefresh()
            return self.eventLoop.makeFailedFuture(error)
        }.flatMap { reply -> EventLoopFuture<RESPValue> in
            self.follow(reply, of: call, from: node, redirections: redirections)
        }.nonisolated()
    }

    /// Redirections are followed; errors that mean "not now" fail the call, so the caller's
    /// failure policy applies; any other reply is the caller's.
    private func follow(
        _ reply: RESPValue, of call: Call, from node: ClusterNode, redirections: Int
    ) -> EventLoopFuture<RESPValue> {
        guard case .error(let message) = reply else { return eventLoop.makeSucceededFuture(reply) }
        if message.hasPrefix("TRYAGAIN") {
            return eventLoop.makeFailedFuture(RedisError.unavailable(message))
        }
        if message.hasPrefix("CLUSTERDOWN") {
            requestRefresh()
            return eventLoop.makeFailedFuture(RedisError.unavailable(message))
        }
        let redirection: ClusterRedirection
        do {
            guard let parsed = try ClusterRedirection(error: message, replier: node) else {
                return eventLoop.makeSucceededFuture(reply)
            }
            redirection = parsed
        } catch {
            return eventLoop.makeFailedFuture(error)
        }
        guard redirections < Self.maximumRedirections else {
            return eventLoop.makeFailedFuture(
                RedisError.unavailable("more than \(Self.maximumRedirections) cluster redirections, last: \(message)"))
        }
        guard !closed else { return eventLoop.makeFailedFuture(RedisError.unavailable("cluster client closed")) }
        let target: ClusterNode
        let asking: Bool
        switch redirection {
        case .moved(let slot, let owner):
            map?.assign(slot: slot, to: owner)
            requestRefresh()
            (target, asking) = (owner, false)
        case .ask(_, let migrationTarget):
            (target, asking) = (migrationTarget, true)
        }
        let client = client(for: target)
        if client.isConnected {
            return run(call, on: target, asking: asking, redirections: redirections + 1)
        }
        // A node we have not talked to yet: worth one connect attempt (bounded by the connect
        // timeout) rather than failing a call the cluster told us how to complete.
        return client.connect().assumeIsolated().flatMap {
            self.run(call, on: target, asking: asking, redirections: redirections + 1)
        }.nonisolated()
    }

    private static let askingCommand = [Array("ASKING".utf8)]
    private static let evalName = Array("EVAL".utf8)

    /// ASKING only lasts for the next command on the connection, so the script goes as EVAL
    /// (source included) right behind it: EVALSHA could be answered NOSCRIPT, and the SCRIPT
    /// LOAD it takes would use up the ASKING. Both go out in the same flush.
    private func askingEvaluate(_ call: Call, on client: RedisClient) -> EventLoopFuture<RESPValue> {
        var command: [[UInt8]] = []
        command.reserveCapacity(3 + call.keys.count + call.arguments.count)
        command.append(Self.evalName)
        command.append(Array(call.script.source.utf8))
        command.append(Array(String(call.keys.count).utf8))
        command.append(contentsOf: call.keys)
        command.append(contentsOf: call.arguments)
        let asking = client.send(Self.askingCommand)
        let evaluation = client.send(command)
        return asking.assumeIsolated().flatMap { reply -> EventLoopFuture<RESPValue> in
            if case .error(let message) = reply {
                return self.eventLoop.makeFailedFuture(RedisError.protocolError("ASKING: \(message)"))
            }
            return evaluation
        }.nonisolated()
    }

    private func client(for node: ClusterNode) -> RedisClient {
        if let client = clients[node] { return client }
        let client = RedisClient(
            address: node.address, on: eventLoop, options: options, backoff: backoff,
            logger: logger)
        clients[node] = client
        return client
    }

    // MARK: - Slot map

    /// The topology may have changed: refresh soon, with at most one refresh in flight and not
    /// more often than `minimumRefreshInterval`.
    private func requestRefresh() {
        guard !closed else { return }
        if refreshInFlight != nil {
            refreshAgain = true
            return
        }
        guard refreshTimer == nil else { return }
        let due = lastRefreshStart + Self.minimumRefreshInterval
        if due <= .now() {
            _ = refresh()
        } else {
            refreshTimer = eventLoop.assumeIsolated().scheduleTask(deadline: due) {
                self.refreshTimer = nil
                if !self.closed { _ = self.refresh() }
            }
        }
    }

    /// Starts a refresh now, or joins the one in flight.
    private func refresh() -> EventLoopFuture<Void> {
        if let refreshInFlight { return refreshInFlight }
        refreshTimer?.cancel()
        refreshTimer = nil
        refreshAgain = false
        lastRefreshStart = .now()
        refreshesStarted += 1
        let refresh = fetchMap(from: ArraySlice(sources()), failures: []).assumeIsolated().map { map in
            self.install(map)
        }.nonisolated()
        // Set before the callback is added: a refresh with no source to ask is already done.
        refreshInFlight = refresh
        refresh.assumeIsolated().whenComplete { result in
            self.refreshInFlight = nil
            switch result {
            case .success:
                self.lastRefreshFailed = false
            case .failure(let error):
                if !self.lastRefreshFailed {
                    self.logger.warning("redis cluster slot map refresh failed", metadata: ["error": "\(error)"])
                }
                self.lastRefreshFailed = true
            }
            if self.refreshAgain {
                self.refreshAgain = false
                self.requestRefresh()
            }
        }
        return refresh
    }

    private enum Source {
        /// A master we are connected to: asked on its pipelined connection.
        case client(ClusterNode, RedisClient)
        /// A seed or a node whose connection is down: asked on a connection of its own.
        case address(SocketAddress)
    }

    /// Connected masters first (no connection to make), then the seeds, then the other known
    /// masters, so a dead node or a dead seed only costs one failed attempt.
    private func sources() -> [Source] {
        var sources: [Source] = []
        var addresses: [SocketAddress] = []
        for node in map?.nodes ?? [] {
            if let client = clients[node], client.isConnected {
                sources.append(.client(node, client))
            }
        }
        for seed in seeds where !addresses.contains(seed) {
            addresses.append(seed)
        }
        for node in map?.nodes ?? [] where clients[node]?.isConnected != true && !addresses.contains(node.address) {
            addresses.append(node.address)
        }
        sources.append(contentsOf: addresses.map(Source.address))
        return sources
    }

    private func fetchMap(from sources: ArraySlice<Source>, failures: [String]) -> EventLoopFuture<ClusterSlotMap> {
        guard !closed else { return eventLoop.makeFailedFuture(RedisError.unavailable("cluster client closed")) }
        guard let source = sources.first else {
            let why = failures.isEmpty ? "no seed addresses" : failures.joined(separator: "; ")
            return eventLoop.makeFailedFuture(RedisError.unavailable("no cluster node gave a slot map: \(why)"))
        }
        return fetchMap(from: source).assumeIsolated().flatMapError { error in
            self.fetchMap(from: sources.dropFirst(), failures: failures + ["\(Self.name(source)): \(error)"])
        }.nonisolated()
    }

    private static let clusterSlots = [Array("CLUSTER".utf8), Array("SLOTS".utf8)]

    private func fetchMap(from source: Source) -> EventLoopFuture<ClusterSlotMap> {
        switch source {
        case .client(let node, let client):
            return client.send(Self.clusterSlots).flatMapThrowing { reply in
                try ClusterSlotMap(slotsReply: reply, askedHost: node.host)
            }
        case .address(let address):
            let options = options
            return RedisConnection.connect(to: address, on: eventLoop, options: options).flatMap { connection in
                let reply = connection.send(Self.clusterSlots)
                reply.whenComplete { _ in connection.close() }
                return reply.flatMapThrowing { reply in
                    try ClusterSlotMap(slotsReply: reply, askedHost: address.ipAddress ?? "")
                }
            }
        }
    }

    private static func name(_ source: Source) -> String {
        switch source {
        case .client(let node, _): "\(node)"
        case .address(let address): "\(address)"
        }
    }

    /// Masters that left the map lose their connection; new ones are connected now, so the
    /// first call for their slots does not fail for want of a connection.
    private func install(_ newMap: ClusterSlotMap) {
        guard !closed else { return }
        if newMap != map {
            logger.info(
                "redis cluster slot map",
                metadata: ["masters": "\(newMap.nodes.map(\.description).joined(separator: ","))"])
        }
        map = newMap
        let masters = Set(newMap.nodes)
        for (node, client) in clients where !masters.contains(node) {
            client.close()
            clients[node] = nil
        }
        // Known masters whose connection is down reconnect on their own, with their backoff.
        for node in newMap.nodes where clients[node] == nil {
            _ = client(for: node).connect()
        }
    }
}
