import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Redis

/// This node's part in fleet-wide purges and warms, through one standalone Redis:
///
/// - Publishing: a purge with scope `global` or `region:NAME` is appended to the purge log (a
///   Redis Stream) with the next sequence number; the caller may wait until every edge that was
///   alive (heartbeat in the last few seconds) and in scope has acknowledged it.
/// - Receiving: every node reads the log with a blocking XREAD on a connection of its own,
///   applies the purges in its scope (its own included: one path for all) and acknowledges each.
/// - Missing some: the log outlives a disconnection, so an edge that was cut off catches up when it
///   is back. If it cannot tell what it missed (the log was trimmed past its position, or Redis
///   restarted and lost it: the sequence went back), it soft-purges everything it holds, so
///   nothing purged is served again without revalidation.
/// - Warming: a warm goes through the same log; each edge in scope (and in its `nodes` list, if
///   it has one) fetches the URLs into its own store in the background and records its progress
///   in a Redis hash any node's admin API can read.
actor FleetCommands {
    /// Fetches a warm's URLs into this node's store, reporting progress after each one; returns
    /// the final progress.
    typealias Warmer =
        @Sendable (
            WarmOrder, _ progress: @escaping @Sendable (FleetWarmProgress.NodeProgress) async -> Void
        ) async -> FleetWarmProgress.NodeProgress

    struct Node: Sendable {
        let id: String
        let region: String?
    }

    /// A node whose last heartbeat is older than this is not waited for.
    static let heartbeatInterval = TimeAmount.seconds(1)
    static let aliveWithin: Int64 = 5_000

    let node: Node
    private let address: SocketAddress
    private let options: RedisConnection.Options
    private let eventLoop: EventLoop
    private let apply: @Sendable (PurgeOrder) -> Void
    private let warm: Warmer
    private let analytics: @Sendable () async -> CacheAnalytics
    private let metrics: ProcessMetrics
    private let logger: Logger
    private var control: RedisConnection?
    /// The control connection being made: callers that arrive meanwhile wait for it instead of
    /// each opening one.
    private var connectingControl: Task<RedisConnection, Error>?
    private var reader: RedisConnection?
    private var readTask: Task<Void, Never>?
    private var heartbeatTask: Task<Void, Never>?
    private var warmTasks: [Int64: Task<Void, Never>] = [:]
    private var isStopped = false
    /// The log's epoch (`{gw}:purge:epoch`): a Redis that restarted without its data has another
    /// one, and then this node's place in the log means nothing.
    private var epoch: String?
    /// Position in the log: the last entry read and the last sequence number applied.
    private var lastID = "0-0"
    private var lastSequence: Int64 = 0
    private var positioned = false
    /// Counted for the tests and the note: conservative purge-everything events.
    private(set) var gapsHandled = 0
    private(set) var applied = 0

    init(
        node: Node, address: SocketAddress, options: RedisConnection.Options, eventLoop: EventLoop,
        logger: Logger, apply: @escaping @Sendable (PurgeOrder) -> Void, warm: @escaping Warmer,
        analytics: @escaping @Sendable () async -> CacheAnalytics, metrics: ProcessMetrics
    ) {
        self.metrics = metrics
        self.analytics = analytics
        self.warm = warm
        self.node = node
        self.address = address
        self.options = options
        self.eventLoop = eventLoop
        self.logger = logger
        self.apply = apply
    }

    /// The heartbeat starts once the reader has its position in the log: a node that says it is
    /// alive is reading, so a purge published after that reaches it.
    func start() {
        readTask = Task { await self.readLoop() }
    }

    /// Ends the reader, the heartbeat and running warms first, so none of them writes to Redis
    /// (a heartbeat after the HDEL would make publishers wait for a node that is gone).
    func stop() async {
        isStopped = true
        let running = [readTask, heartbeatTask].compactMap { $0 } + Array(warmTasks.values)
        for task in running { task.cancel() }
        reader?.close()
        // Bounded: a shutdown must not hang on Redis (one hung once in a test, with Redis being
        // killed at the same moment; the cause was not found).
        // Unstructured on purpose: a task group would wait for a hung child at its end.
        let ended = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let pending = NIOLockedValueBox<CheckedContinuation<Bool, Never>?>(continuation)
            let finish: @Sendable (Bool) -> Void = { result in
                pending.withLockedValue { waiting in
                    waiting?.resume(returning: result)
                    waiting = nil
                }
            }
            Task {
                for task in running { await task.value }
                finish(true)
            }
            Task {
                try? await Task.sleep(for: .seconds(2))
                finish(false)
            }
        }
        if !ended {
            logger.warning("fleet tasks did not end within 2 s of shutdown; going on without them")
        }
        readTask = nil
        heartbeatTask = nil
        warmTasks = [:]
        if let control, control.isActive {
            _ = try? await control.checked(["HDEL", FleetKeys.nodes, node.id])
            _ = try? await control.checked(["HDEL", FleetKeys.stats, node.id])
        }
        control?.close()
        reader = nil
        control = nil
    }

    // MARK: Publishing

    func publish(_ order: PurgeOrder, scope: FleetScope, waitFor timeout: TimeAmount?) async throws -> FleetPurgeOutcome
    {
        let connection = try await controlConnection()
        let expected = try await aliveNodes(in: scope, on: connection)
        let started = NIODeadline.now()
        let sequence = try await append(.purge(order), scope: scope, on: connection)
        var outcome = FleetPurgeOutcome(sequence: sequence, scope: scope, expected: expected, waited: timeout != nil)
        guard let timeout, !expected.isEmpty else { return outcome }
        do {
            outcome.acknowledged = try await acknowledgements(
                of: sequence, expecting: Set(expected.map(\.id)), since: started, until: started + timeout)
        } catch {
            outcome.waitError = "\(error)"
        }
        if outcome.missing.isEmpty, let last = outcome.acknowledged.map(\.afterMilliseconds).max() {
            metrics.fleetPurgePropagation.recordNanoseconds(Int64(last * 1e6))
        } else if !outcome.missing.isEmpty {
            metrics.fleetPurgesIncomplete.increment()
        }
        return outcome
    }

    /// Publishes a warm; its progress is read with `warmProgress`.
    func publish(_ order: WarmOrder, scope: FleetScope) async throws -> (sequence: Int64, expected: [Node]) {
        let connection = try await controlConnection()
        let expected = try await aliveNodes(in: scope, on: connection).filter { order.includes(node: $0.id) }
        let sequence = try await append(.warm(order), scope: scope, on: connection)
        let key = FleetKeys.warmProgress(sequence)
        _ = try await connection.checked(["HSET", key, "_expected", expected.map(\.id).joined(separator: ",")])
        _ = try await connection.checked(["EXPIRE", key, String(FleetKeys.warmProgressSeconds)])
        return (sequence, expected)
    }

    /// nil when no warm has that number (or its progress has expired).
    func warmProgress(_ sequence: Int64) async throws -> FleetWarmProgress? {
        let connection = try await controlConnection()
        let reply = try await connection.checked(["HGETALL", FleetKeys.warmProgress(sequence)])
        return FleetWarmProgress(sequence: sequence, hash: reply)
    }

    private func append(_ command: FleetLogEntry.Command, scope: FleetScope, on connection: RedisConnection)
        async throws -> Int64
    {
        let reply = try await connection.checked([
            "EVAL", FleetLogEntry.publishScript, "2", FleetKeys.purgeSequence, FleetKeys.purgeLog,
            String(FleetKeys.logLength), scope.description, node.id, command.kind, command.json.rendered,
        ])
        guard let parts = reply.array, parts.count == 2, let sequence = parts[0].integer else {
            throw RedisError.protocolError("publishing to the fleet log answered \(reply)")
        }
        return sequence
    }

    /// The cache analytics every node in scope published with its last heartbeat (nodes silent for
    /// longer than `aliveWithin` are left out: they are down or cut off).
    func fleetStats(in scope: FleetScope) async throws -> [CacheStatsDocument.NodeStats] {
        let connection = try await controlConnection()
        let reply = try await connection.checked(["HGETALL", FleetKeys.stats])
        let now = try await connection.serverMilliseconds()
        var result: [CacheStatsDocument.NodeStats] = []
        for (_, text) in reply.stringPairs {
            guard let document = try? JSONParser.parse(Array(text.utf8)),
                let stats = CacheStatsDocument.node(fromWire: document), now - stats.at <= Self.aliveWithin,
                scope.includes(region: stats.node.region)
            else { continue }
            result.append(stats)
        }
        return result.sorted { $0.node.id < $1.node.id }
    }

    /// The nodes with a recent heartbeat, in the purge's scope.
    private func aliveNodes(in scope: FleetScope, on connection: RedisConnection) async throws -> [Node] {
        let reply = try await connection.checked(["HGETALL", FleetKeys.nodes])
        let now = try await connection.serverMilliseconds()
        var nodes: [Node] = []
        for (id, value) in reply.stringPairs {
            let parts = value.split(separator: "\t", omittingEmptySubsequences: false)
            guard parts.count == 2, let seen = Int64(parts[1]), now - seen <= Self.aliveWithin else { continue }
            let region = parts[0].isEmpty ? nil : String(parts[0])
            if scope.includes(region: region) { nodes.append(Node(id: id, region: region)) }
        }
        return nodes.sorted { $0.id < $1.id }
    }

    /// Blocking pops on a connection of their own (a blocked connection can do nothing else)
    /// until every expected node answered or the time is up.
    private func acknowledgements(
        of sequence: Int64, expecting expected: Set<String>, since started: NIODeadline, until deadline: NIODeadline
    ) async throws -> [(node: Node, afterMilliseconds: Double)] {
        var waitOptions = options
        waitOptions.commandTimeout = (deadline - NIODeadline.now()) + .seconds(2)
        let connection = try await RedisConnection.connect(to: address, on: eventLoop, options: waitOptions).get()
        defer { connection.close() }
        var acknowledged: [(node: Node, afterMilliseconds: Double)] = []
        var pending = expected
        let key = FleetKeys.acknowledgements(sequence)
        while !pending.isEmpty {
            let remaining = deadline - NIODeadline.now()
            guard remaining > .zero else { break }
            let seconds = String(format: "%.3f", max(0.001, Double(remaining.nanoseconds) / 1e9))
            let reply = try await connection.checked(["BLPOP", key, seconds])
            guard let pair = reply.array, pair.count == 2, let value = pair[1].string else { continue }
            let parts = value.split(separator: "\t", omittingEmptySubsequences: false)
            guard let id = parts.first.map(String.init) else { continue }
            let region = parts.count > 1 && !parts[1].isEmpty ? String(parts[1]) : nil
            let after = Double((NIODeadline.now() - started).nanoseconds) / 1e6
            acknowledged.append((Node(id: id, region: region), after))
            pending.remove(id)
        }
        return acknowledged
    }

    // MARK: Receiving

    private func readLoop() async {
        var delay = TimeAmount.milliseconds(50)
        while !Task.isCancelled, !isStopped {
            do {
                var readOptions = options
                // XREAD BLOCK holds the reply for up to a second; the connection must wait longer.
                readOptions.commandTimeout = .seconds(5)
                let connection = try await RedisConnection.connect(to: address, on: eventLoop, options: readOptions)
                    .get()
                reader = connection
                _ = try await connection.checked(["CLIENT", "SETNAME", "gw-fleet-reader-\(node.id)"])
                try await position(on: connection)
                if heartbeatTask == nil, !isStopped { heartbeatTask = Task { await self.heartbeatLoop() } }
                delay = .milliseconds(50)
                try await consume(on: connection)
            } catch {
                if Task.isCancelled { return }
                logger.warning(
                    "fleet purge log unreachable; purges from other nodes wait until it is back",
                    metadata: ["error": "\(error)"])
            }
            reader?.close()
            reader = nil
            try? await Task.sleep(nanoseconds: UInt64(Int64.random(in: 1...max(1, delay.nanoseconds))))
            delay = min(.seconds(2), delay * 2)
        }
    }

    /// Where to read from: on the first connection, the end of the log (the store starts empty,
    /// there is nothing older to apply); after a reconnection, where it stopped — unless this is
    /// not the Redis it was reading (another epoch: it restarted without its data, and sequence
    /// numbers may repeat), in which case everything is suspect.
    private func position(on connection: RedisConnection) async throws {
        // The first node to connect after a (re)start names the epoch; the others read it.
        _ = try await connection.checked(["SET", FleetKeys.epoch, UUID().uuidString, "NX"])
        let current = try await connection.checked(["GET", FleetKeys.epoch]).string
        if positioned {
            guard current != epoch else { return }
            handleGap("Redis restarted without the fleet log (epoch \(epoch ?? "none") → \(current ?? "none"))")
        }
        epoch = current
        // The newest entry gives both the place and its number, in one read (a GET of the
        // sequence first could miss an entry appended in between and see it as a gap).
        let last = try await connection.checked(["XREVRANGE", FleetKeys.purgeLog, "+", "-", "COUNT", "1"])
        if let entry = last.array?.first, case .success(let newest) = FleetLogEntry.parse(entry) {
            lastID = newest.id
            lastSequence = newest.sequence
        } else {
            // An empty log: the next entry is whatever follows the current sequence number.
            lastID = "0-0"
            lastSequence =
                try await connection.checked(["GET", FleetKeys.purgeSequence]).string.flatMap { Int64($0) } ?? 0
        }
        positioned = true
    }

    private func consume(on connection: RedisConnection) async throws {
        while !Task.isCancelled {
            let reply = try await connection.checked([
                "XREAD", "COUNT", "100", "BLOCK", "1000", "STREAMS", FleetKeys.purgeLog, lastID,
            ])
            for parsed in FleetLogEntry.entries(ofXREAD: reply) {
                switch parsed {
                case .success(let entry):
                    await receive(entry)
                case .failure(let problem):
                    skip(problem)
                }
            }
        }
    }

    /// An entry this node cannot carry out. Harmless if it was for other nodes or of a kind this
    /// version does not know (logged); otherwise as unsafe as a missed purge.
    private func skip(_ problem: FleetLogError) {
        if let id = problem.id { lastID = id }
        if let sequence = problem.sequence {
            if sequence > lastSequence + 1 {
                handleGap(
                    "purges \(lastSequence + 1)..<\(sequence) were trimmed from the log before this node read them")
            }
            lastSequence = max(lastSequence, sequence)
        }
        if let scope = problem.scope, !scope.includes(region: node.region) { return }
        if problem.isUnknownCommand {
            logger.warning(
                "skipping a fleet command this version cannot carry out", metadata: ["reason": "\(problem.reason)"])
            return
        }
        handleGap("fleet log entry \(problem.id ?? "?") unreadable: \(problem.reason)")
    }

    private func receive(_ entry: FleetLogEntry) async {
        lastID = entry.id
        guard entry.sequence > lastSequence else { return }
        if entry.sequence > lastSequence + 1 {
            handleGap(
                "purges \(lastSequence + 1)..<\(entry.sequence) were trimmed from the log before this node read them")
        }
        lastSequence = entry.sequence
        guard entry.scope.includes(region: node.region) else { return }
        let order: PurgeOrder
        switch entry.command {
        case .warm(let warmOrder):
            if warmOrder.includes(node: node.id) {
                metrics.fleetCommandsApplied.increment()
                startWarm(warmOrder, sequence: entry.sequence)
            }
            return
        case .purge(let purgeOrder):
            order = purgeOrder
        }
        apply(order)
        applied += 1
        metrics.fleetCommandsApplied.increment()
        // A failed acknowledgement is only that: the purge is applied, and the reader goes on.
        do {
            let connection = try await controlConnection()
            let key = FleetKeys.acknowledgements(entry.sequence)
            _ = try await connection.checked(["RPUSH", key, "\(node.id)\t\(node.region ?? "")"])
            _ = try await connection.checked(["EXPIRE", key, "300"])
        } catch {
            logger.warning(
                "fleet purge applied but not acknowledged",
                metadata: ["purge": "\(entry.sequence)", "error": "\(error)"])
        }
    }

    /// In the background: the reader goes on with the log meanwhile. Progress goes to Redis after
    /// every URL, so a caller watching it sees the fetches advance.
    private func startWarm(_ order: WarmOrder, sequence: Int64) {
        let node = self.node
        warmTasks[sequence] = Task {
            await self.recordWarm(FleetWarmProgress.NodeProgress(node: node, total: order.urls.count), sequence)
            let final = await self.warm(order) { progress in
                await self.recordWarm(progress, sequence)
            }
            await self.recordWarm(final, sequence)
            await self.warmEnded(sequence)
        }
    }

    private func warmEnded(_ sequence: Int64) {
        warmTasks[sequence] = nil
    }

    private func recordWarm(_ progress: FleetWarmProgress.NodeProgress, _ sequence: Int64) async {
        do {
            let connection = try await controlConnection()
            _ = try await connection.checked([
                "HSET", FleetKeys.warmProgress(sequence), node.id, progress.json.rendered,
            ])
        } catch {
            logger.warning("cannot record warm progress in redis", metadata: ["error": "\(error)"])
        }
    }

    private func handleGap(_ reason: String) {
        gapsHandled += 1
        metrics.fleetLogGaps.increment()
        logger.warning(
            "fleet purges may have been missed; soft-purging the whole cache so nothing purged is served unchecked",
            metadata: ["reason": "\(reason)"])
        apply(PurgeOrder(all: true, soft: true))
    }

    // MARK: Heartbeat and the control connection

    private func heartbeatLoop() async {
        while !Task.isCancelled, !isStopped {
            do {
                let connection = try await controlConnection()
                let now = try await connection.serverMilliseconds()
                _ = try await connection.checked(["HSET", FleetKeys.nodes, node.id, "\(node.region ?? "")\t\(now)"])
                let wire = CacheStatsDocument.wire(await analytics(), node: node, at: now)
                _ = try await connection.checked(["HSET", FleetKeys.stats, node.id, wire.rendered])
            } catch {
                // The reader logs Redis being away; a missed heartbeat only means callers do not wait for us.
            }
            try? await Task.sleep(nanoseconds: UInt64(Self.heartbeatInterval.nanoseconds))
        }
    }

    private func controlConnection() async throws -> RedisConnection {
        if isStopped { throw RedisError.unavailable("the fleet member is stopping") }
        if let control, control.isActive { return control }
        if let connectingControl { return try await connectingControl.value }
        let (address, options, eventLoop, name) = (address, options, eventLoop, "gw-fleet-control-\(node.id)")
        let attempt = Task {
            let connection = try await RedisConnection.connect(to: address, on: eventLoop, options: options).get()
            _ = try await connection.checked(["CLIENT", "SETNAME", name])
            return connection
        }
        connectingControl = attempt
        defer { connectingControl = nil }
        let connection = try await attempt.value
        if isStopped {
            connection.close()
            throw RedisError.unavailable("the fleet member is stopping")
        }
        control = connection
        return connection
    }
}
