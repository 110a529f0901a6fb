import NIOCore

/// The only handler of a Redis connection: encodes commands, decodes replies and matches them to
/// commands in order, so any number can be in flight (pipelining). Lives on one event loop.
/// Commands written in one event-loop tick go out in one flush, and one timer watches the oldest
/// outstanding command (replies come in order, so it is always the next one due).
final class RESPHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = Command
    typealias OutboundOut = ByteBuffer

    struct Command {
        let encoded: [UInt8]
        let promise: EventLoopPromise<RESPValue>
    }

    private struct Pending {
        let promise: EventLoopPromise<RESPValue>
        let deadline: NIODeadline
    }

    private let decoder = RESPDecoder()
    private let commandTimeout: TimeAmount
    private var pending = CircularBuffer<Pending>()
    private var closedError: RedisError?
    private var flushScheduled = false
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?

    init(commandTimeout: TimeAmount) {
        self.commandTimeout = commandTimeout
    }

    var outstanding: Int { pending.count }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let command = unwrapOutboundIn(data)
        if let closedError {
            command.promise.fail(closedError)
            promise?.fail(closedError)
            return
        }
        let deadline = NIODeadline.now() + commandTimeout
        pending.append(Pending(promise: command.promise, deadline: deadline))
        var buffer = context.channel.allocator.buffer(capacity: command.encoded.count)
        buffer.writeBytes(command.encoded)
        context.write(wrapOutboundOut(buffer), promise: promise)
        if timerDeadline == nil { armTimer(for: deadline, context: context) }
        if !flushScheduled {
            flushScheduled = true
            context.eventLoop.assumeIsolated().execute {
                self.flushScheduled = false
                context.flush()
            }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        do {
            try buffer.withUnsafeReadableBytes { try decoder.feed($0) }
            while let value = try decoder.next() {
                guard let next = pending.popFirst() else {
                    throw RESPDecoder.ProtocolError(description: "a reply arrived that no command asked for")
                }
                next.promise.succeed(value)
            }
        } catch {
            failAll(.protocolError("\(error)"))
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(.connectionClosed)
        timer?.cancel()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        failAll(.connectionClosed)
        context.close(promise: nil)
    }

    /// Everything outstanding fails with `error`, and so does everything written afterwards.
    func failAll(_ error: RedisError) {
        closedError = closedError ?? error
        while let next = pending.popFirst() {
            next.promise.fail(error)
        }
    }

    private func armTimer(for deadline: NIODeadline, context: ChannelHandlerContext) {
        timerDeadline = deadline
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            self.timerFired(context: context)
        }
    }

    /// The oldest command is overdue: replies after it could never be matched, so the
    /// connection is done. Otherwise wait for the one that is now the oldest.
    private func timerFired(context: ChannelHandlerContext) {
        timerDeadline = nil
        timer = nil
        guard let oldest = pending.first else { return }
        if oldest.deadline <= .now() {
            failAll(.timeout)
            context.close(promise: nil)
        } else {
            armTimer(for: oldest.deadline, context: context)
        }
    }
}
