import NIOCore
import NIOHTTP1
import NIOPosix

/// A request to an origin that no client waits on: a stale-while-revalidate refresh, or a warm.
/// Rare next to proxied requests, so it uses its own short-lived connection and NIO's HTTP/1.1
/// codec rather than the pools and byte-level parsers of the proxy path.
enum OriginFetch {
    struct Response: Sendable {
        var status: Int
        var fields: [(name: String, value: String)]
        var body: ByteBuffer
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Fetches `head` from `address` on `eventLoop`. Fails on connect errors, on a body over
    /// `maxBodyBytes`, and when the whole exchange takes longer than `timeout`.
    static func fetch(
        _ head: HTTPRequestHead, from address: SocketAddress, on eventLoop: EventLoop, connectTimeout: TimeAmount,
        timeout: TimeAmount, maxBodyBytes: Int
    ) -> EventLoopFuture<Response> {
        let promise = eventLoop.makePromise(of: Response.self)
        let deadline = eventLoop.scheduleTask(in: timeout) {
            promise.fail(Failure(description: "the origin did not answer within \(timeout.nanoseconds / 1_000_000) ms"))
        }
        promise.futureResult.whenComplete { _ in deadline.cancel() }
        let connected = ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(
                        ResponseCollector(promise: promise, maxBodyBytes: maxBodyBytes))
                }
            }
            .connect(to: address)
        connected.whenFailure { promise.fail($0) }
        connected.whenSuccess { channel in
            channel.write(HTTPClientRequestPart.head(head), promise: nil)
            channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
            // However the exchange ends, the connection is not reused.
            promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
        }
        return promise.futureResult
    }
}

private final class ResponseCollector: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    private let promise: EventLoopPromise<OriginFetch.Response>
    private let maxBodyBytes: Int
    private var head: HTTPResponseHead?
    private var body: ByteBuffer?

    init(promise: EventLoopPromise<OriginFetch.Response>, maxBodyBytes: Int) {
        self.promise = promise
        self.maxBodyBytes = maxBodyBytes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = context.channel.allocator.buffer(capacity: 0)
        case .body(var part):
            guard (body?.readableBytes ?? 0) + part.readableBytes <= maxBodyBytes else {
                promise.fail(OriginFetch.Failure(description: "the response is larger than cache.max_object"))
                context.close(promise: nil)
                return
            }
            body?.writeBuffer(&part)
        case .end:
            guard let head, let body else { return }
            promise.succeed(
                OriginFetch.Response(
                    status: Int(head.status.code), fields: head.headers.map { ($0.name, $0.value) }, body: body))
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        promise.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(OriginFetch.Failure(description: "the origin closed the connection before the response ended"))
        context.fireChannelInactive()
    }
}
