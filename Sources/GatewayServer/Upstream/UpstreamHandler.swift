import NIOCore
import NIOHTTP1

/// The last handler of an upstream connection's pipeline. It hands response parts to the exchange
/// that currently leases the connection and holds reads while the downstream cannot take more
/// (backpressure from the client all the way to the upstream socket).
final class UpstreamHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    /// The downstream exchange using this connection; nil while the connection is idle in its pool.
    var exchange: ProxyHandler?
    weak var connection: UpstreamConnection?
    private(set) var context: ChannelHandlerContext?
    private var readsAllowed = true
    private var readPending = false

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        guard let exchange else {
            // Bytes on an idle connection mean the upstream is confused or closing: never reuse it.
            connection?.markUnusable()
            context.close(promise: nil)
            return
        }
        exchange.upstreamRead(part)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        exchange?.upstreamReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        connection?.closed()
        let exchange = self.exchange
        self.exchange = nil
        exchange?.upstreamFailed(UpstreamConnectionError.closed)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        connection?.markUnusable()
        let exchange = self.exchange
        self.exchange = nil
        exchange?.upstreamFailed(error)
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        exchange?.upstreamWritabilityChanged(isWritable: context.channel.isWritable)
    }

    func read(context: ChannelHandlerContext) {
        if readsAllowed {
            context.read()
        } else {
            readPending = true
        }
    }

    func setReadsAllowed(_ allowed: Bool) {
        readsAllowed = allowed
        if allowed, readPending, let context {
            readPending = false
            context.read()
        }
    }

    private var needsFlush = false

    func write(_ part: HTTPClientRequestPart) {
        context?.write(wrapOutboundOut(part), promise: nil)
        needsFlush = true
    }

    /// A flush with nothing written still walks the pipeline, so it is skipped.
    func flush() {
        guard needsFlush else { return }
        needsFlush = false
        context?.flush()
    }
}

enum UpstreamConnectionError: Error {
    case closed
    case unresolved
}
