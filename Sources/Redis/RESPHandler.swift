import NIOCore

/// The only handler of a Redis connection: encodes commands, decodes replies and matches them to
/// commands in order, so any number can be in flight (pipelining). Lives on one event loop.
final class RESPHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = Command
    typealias OutboundOut = ByteBuffer

    struct Command {
        let encoded: [UInt8]
        let promise: EventLoopPromise<RESPValue>
    }

    private let decoder = RESPDecoder()
    private var pending = CircularBuffer<EventLoopPromise<RESPValue>>()
    private var closedError: RedisError?

    var outstanding: Int { pending.count }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let command = unwrapOutboundIn(data)
        if let closedError {
            command.promise.fail(closedError)
            promise?.fail(closedError)
            return
        }
        pending.append(command.promise)
        var buffer = context.channel.allocator.buffer(capacity: command.encoded.count)
        buffer.writeBytes(command.encoded)
        context.write(wrapOutboundOut(buffer), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        do {
            try buffer.withUnsafeReadableBytes { try decoder.feed($0) }
            while let value = try decoder.next() {
                guard let promise = pending.popFirst() else {
                    throw RESPDecoder.ProtocolError(description: "a reply arrived that no command asked for")
                }
                promise.succeed(value)
            }
        } catch {
            failAll(.protocolError("\(error)"))
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(.connectionClosed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        failAll(.connectionClosed)
        context.close(promise: nil)
    }

    /// Everything outstanding fails with `error`, and so does everything written afterwards.
    func failAll(_ error: RedisError) {
        closedError = closedError ?? error
        while let promise = pending.popFirst() {
            promise.fail(error)
        }
    }
}
