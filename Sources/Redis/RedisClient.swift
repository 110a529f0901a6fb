import Logging
import NIOCore

/// The Redis client of one event loop: one pipelined connection, re-made in the background with
/// exponential backoff (with jitter) when it fails. While it is down, commands fail at once with
/// `RedisError.unavailable`, so callers apply their failure policy instead of waiting.
/// Used only on its event loop.
public final class RedisClient: RedisScriptRunner {
    public struct Backoff: Sendable, Equatable {
        public var initial: TimeAmount
        public var maximum: TimeAmount

        public init(initial: TimeAmount = .milliseconds(50), maximum: TimeAmount = .seconds(5)) {
            self.initial = initial
            self.maximum = maximum
        }
    }

    public let eventLoop: EventLoop
    private let address: SocketAddress
    private let options: RedisConnection.Options
    private let backoff: Backoff
    private let logger: Logger
    private var connection: RedisConnection?
    private var connecting: EventLoopFuture<RedisConnection>?
    private var nextAttempt: NIODeadline = .uptimeNanoseconds(0)
    private var currentDelay: TimeAmount
    private var lastError = "not connected yet"
    private var closed = false
    /// SHA1 of each script as Redis reported it (SCRIPT LOAD); forgotten on reconnect.
    private var scriptHashes: [ObjectIdentifier: [UInt8]] = [:]

    public init(
        address: SocketAddress, on eventLoop: EventLoop, options: RedisConnection.Options = .init(),
        backoff: Backoff = Backoff(), logger: Logger = Logger(label: "redis")
    ) {
        self.address = address
        self.eventLoop = eventLoop
        self.options = options
        self.backoff = backoff
        self.logger = logger
        self.currentDelay = backoff.initial
    }

    public var isConnected: Bool { connection?.isActive == true }

    /// Connects now if not connected (or waits for the attempt in progress).
    public func connect() -> EventLoopFuture<Void> {
        eventLoop.preconditionInEventLoop()
        if let connection, connection.isActive { return eventLoop.makeSucceededVoidFuture() }
        return startConnecting().map { _ in }
    }

    /// Sends a command, or fails at once if there is no connection (and starts one, unless the
    /// backoff says to wait).
    public func send(_ arguments: [String]) -> EventLoopFuture<RESPValue> {
        send(arguments.map { Array($0.utf8) })
    }

    public func send(_ arguments: [[UInt8]]) -> EventLoopFuture<RESPValue> {
        eventLoop.preconditionInEventLoop()
        if let connection, connection.isActive {
            return connection.send(arguments)
        }
        if NIODeadline.now() >= nextAttempt {
            _ = startConnecting()
        }
        return eventLoop.makeFailedFuture(RedisError.unavailable(lastError))
    }

    /// EVALSHA of `script`, loading it first (and again after a NOSCRIPT, e.g. when Redis
    /// restarted or SCRIPT FLUSH ran).
    public func evaluate(_ script: RedisScript, keys: [[UInt8]], arguments: [[UInt8]]) -> EventLoopFuture<RESPValue> {
        eventLoop.preconditionInEventLoop()
        guard let hash = scriptHashes[ObjectIdentifier(script)] else {
            return load(script).assumeIsolated().flatMap { hash in
                self.send(Self.evalsha(hash, keys: keys, arguments: arguments))
            }.nonisolated()
        }
        return send(Self.evalsha(hash, keys: keys, arguments: arguments)).assumeIsolated().flatMap { reply in
            guard case .error(let message) = reply, message.hasPrefix("NOSCRIPT") else {
                return self.eventLoop.makeSucceededFuture(reply)
            }
            self.scriptHashes[ObjectIdentifier(script)] = nil
            return self.load(script).assumeIsolated().flatMap { hash in
                self.send(Self.evalsha(hash, keys: keys, arguments: arguments))
            }.nonisolated()
        }.nonisolated()
    }

    /// The text form, for tests and tools.
    public func evaluate(_ script: RedisScript, keys: [String], arguments: [String]) -> EventLoopFuture<RESPValue> {
        evaluate(script, keys: keys.map { Array($0.utf8) }, arguments: arguments.map { Array($0.utf8) })
    }

    private static let evalshaName = Array("EVALSHA".utf8)

    static func evalsha(_ hash: [UInt8], keys: [[UInt8]], arguments: [[UInt8]]) -> [[UInt8]] {
        var command: [[UInt8]] = []
        command.reserveCapacity(3 + keys.count + arguments.count)
        command.append(evalshaName)
        command.append(hash)
        command.append(Array(String(keys.count).utf8))
        command.append(contentsOf: keys)
        command.append(contentsOf: arguments)
        return command
    }

    private func load(_ script: RedisScript) -> EventLoopFuture<[UInt8]> {
        send(["SCRIPT", "LOAD", script.source]).assumeIsolated().flatMapThrowing { reply in
            guard let hash = reply.string, reply.array == nil else {
                if case .error(let message) = reply { throw RedisError.protocolError("SCRIPT LOAD: \(message)") }
                throw RedisError.protocolError("SCRIPT LOAD answered \(reply)")
            }
            let bytes = Array(hash.utf8)
            self.scriptHashes[ObjectIdentifier(script)] = bytes
            return bytes
        }.nonisolated()
    }

    public func close() {
        closed = true
        connection?.close()
        connection = nil
    }

    private func startConnecting() -> EventLoopFuture<RedisConnection> {
        if let connecting { return connecting }
        let attempt = RedisConnection.connect(to: address, on: eventLoop, options: options)
        connecting = attempt
        attempt.assumeIsolated().whenComplete { result in
            self.connecting = nil
            switch result {
            case .success(let connection):
                guard !self.closed else {
                    connection.close()
                    return
                }
                self.connection = connection
                self.scriptHashes = [:]
                self.currentDelay = self.backoff.initial
                self.logger.info("connected to redis", metadata: ["address": "\(self.address)"])
                connection.closeFuture.assumeIsolated().whenComplete { _ in
                    if self.connection === connection {
                        self.connection = nil
                        self.lastError = "connection lost"
                        self.scheduleNextAttempt()
                    }
                }
            case .failure(let error):
                self.lastError = "\(error)"
                self.scheduleNextAttempt()
            }
        }
        return attempt
    }

    /// Full jitter: the next attempt waits a random time up to the current delay, which doubles
    /// up to the maximum, so a fleet does not reconnect in step.
    private func scheduleNextAttempt() {
        let jittered = TimeAmount.nanoseconds(Int64.random(in: 0...max(1, currentDelay.nanoseconds)))
        nextAttempt = .now() + jittered
        currentDelay = min(backoff.maximum, currentDelay * 2)
        guard !closed else { return }
        eventLoop.assumeIsolated().scheduleTask(deadline: nextAttempt) {
            if self.connection == nil, !self.closed { _ = self.startConnecting() }
        }
    }
}
