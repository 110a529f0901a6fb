import NIOCore

/// Answers a connection over the listener's limit with a 503 and closes it, so the client learns
/// why instead of seeing a bare reset (nginx only logs "worker_connections are not enough").
final class ConnectionRefusalHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private static let body =
        "{\"error\":\"too_many_connections\",\"message\":\"The listener is at its connection limit.\"}\n"
    private static let response =
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: \(body.utf8.count)\r\n"
        + "connection: close\r\nretry-after: 1\r\n\r\n\(body)"

    func channelActive(context: ChannelHandlerContext) {
        let promise = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: Self.response)), promise: promise)
        promise.futureResult.assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // The request is not read: the answer is the same whatever it is.
    }
}
