import NIOCore
import NIOPosix

/// One connection to one Redis server: commands are pipelined and their replies matched in order.
/// Made by `RedisConnection.connect`, which also authenticates and selects the database.
public final class RedisConnection: Sendable {
    public struct Options: Sendable, Equatable {
        public var username: String?
        public var password: String?
        public var database: Int
        public var connectTimeout: TimeAmount
        /// No reply within this closes the connection (replies after it could not be matched).
        public var commandTimeout: TimeAmount

        public init(
            username: String? = nil, password: String? = nil, database: Int = 0,
            connectTimeout: TimeAmount = .milliseconds(500), commandTimeout: TimeAmount = .milliseconds(250)
        ) {
            self.username = username
            self.password = password
            self.database = database
            self.connectTimeout = connectTimeout
            self.commandTimeout = commandTimeout
        }
    }

    public let channel: Channel
    public let options: Options
    private let handler: NIOLoopBound<RESPHandler>

    private init(channel: Channel, handler: RESPHandler, options: Options) {
        self.channel = channel
        self.options = options
        self.handler = NIOLoopBound(handler, eventLoop: channel.eventLoop)
    }

    public var eventLoop: EventLoop { channel.eventLoop }
    public var isActive: Bool { channel.isActive }
    public var closeFuture: EventLoopFuture<Void> { channel.closeFuture }

    public static func connect(
        to address: SocketAddress, on eventLoop: EventLoop, options: Options = Options()
    ) -> EventLoopFuture<RedisConnection> {
        ClientBootstrap(group: eventLoop)
            .connectTimeout(options.connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RESPHandler(commandTimeout: options.commandTimeout))
                }
            }
            .connect(to: address)
            .flatMapThrowing { channel -> RedisConnection in
                let handler = try channel.pipeline.syncOperations.handler(type: RESPHandler.self)
                return RedisConnection(channel: channel, handler: handler, options: options)
            }
            .flatMap { connection in
                connection.handshake().map { connection }.flatMapError { error in
                    connection.close()
                    return eventLoop.makeFailedFuture(error)
                }
            }
    }

    /// AUTH and SELECT, pipelined; a refusal fails the connect with the server's words.
    private func handshake() -> EventLoopFuture<Void> {
        var steps: [EventLoopFuture<RESPValue>] = []
        if let password = options.password {
            steps.append(send(options.username.map { ["AUTH", $0, password] } ?? ["AUTH", password]))
        }
        if options.database != 0 {
            steps.append(send(["SELECT", String(options.database)]))
        }
        return EventLoopFuture.whenAllSucceed(steps, on: eventLoop).flatMapThrowing { replies in
            for reply in replies {
                if case .error(let message) = reply { throw RedisError.handshakeFailed(message) }
            }
        }
    }

    /// Sends one command. The future fails with a `RedisError` if no reply comes; a `-ERR` reply
    /// succeeds as `.error`.
    public func send(_ arguments: [String]) -> EventLoopFuture<RESPValue> {
        send(arguments.map { Array($0.utf8) })
    }

    public func send(_ arguments: [[UInt8]]) -> EventLoopFuture<RESPValue> {
        let promise = eventLoop.makePromise(of: RESPValue.self)
        let encoded: [UInt8]
        do {
            encoded = try RESPEncoder.encode(arguments)
        } catch {
            promise.fail(RedisError.protocolError("cannot encode the command"))
            return promise.futureResult
        }
        if eventLoop.inEventLoop {
            write(encoded, promise: promise)
        } else {
            let connection = self
            eventLoop.execute { connection.write(encoded, promise: promise) }
        }
        return promise.futureResult
    }

    private func write(_ encoded: [UInt8], promise: EventLoopPromise<RESPValue>) {
        // Not flushed here: the handler flushes once per event-loop tick.
        channel.write(RESPHandler.Command(encoded: encoded, promise: promise), promise: nil)
    }

    public func close() {
        channel.close(promise: nil)
    }
}
