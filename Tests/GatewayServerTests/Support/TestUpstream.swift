import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// A real HTTP/1.1 server on 127.0.0.1 with behaviours chosen by path, standing in for the
/// services behind the gateway:
/// - `/echo...`: 200 with a text body listing the method, target, body length and every header.
/// - `/bytes/N`: N bytes of body, streamed in 64 KiB chunks with backpressure.
/// - `/upload`: reads the whole body, answers with its length (as text).
/// - `/slow/MS`: waits MS milliseconds before answering.
/// - `/close`: closes the connection without answering.
/// - `/status/N`: answers with status N and no body.
/// - `/chunked`: a chunked body of three parts.
/// - `/idle-close`: answers, then closes the connection 50 ms later without telling.
final class TestUpstream: Sendable {
    let group: MultiThreadedEventLoopGroup
    let channel: Channel
    private let stats = NIOLockedValueBox(Stats())

    struct Stats {
        var connectionsAccepted = 0
        var requests = 0
        /// Requests whose body ended (what the upstream answers), as opposed to heads seen.
        var completedRequests = 0
        var lastHeaders: [(String, String)] = []
        var streamedBytes = 0
        var requestWaiters: [(count: Int, promise: EventLoopPromise<Void>)] = []
    }

    var port: Int { channel.localAddress?.port ?? 0 }
    var connectionsAccepted: Int { stats.withLockedValue { $0.connectionsAccepted } }
    var requests: Int { stats.withLockedValue { $0.requests } }
    var completedRequests: Int { stats.withLockedValue { $0.completedRequests } }
    /// Body bytes `/bytes/N` handed to the socket so far.
    var streamedBytes: Int { stats.withLockedValue { $0.streamedBytes } }

    init(name: String = "upstream") async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.group = group
        let stats = self.stats
        self.channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                stats.withLockedValue { $0.connectionsAccepted += 1 }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(TestUpstreamHandler(name: name, stats: stats))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
    }

    /// Completes once this server has received `count` requests in total.
    func requestsReceived(_ count: Int) -> EventLoopFuture<Void> {
        let promise = group.next().makePromise(of: Void.self)
        let already = stats.withLockedValue { stats -> Bool in
            if stats.requests >= count { return true }
            stats.requestWaiters.append((count, promise))
            return false
        }
        if already { promise.succeed() }
        return promise.futureResult
    }

    func stop() async {
        try? await channel.close()
        try? await group.shutdownGracefully()
    }
}

private final class TestUpstreamHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let name: String
    private let stats: NIOLockedValueBox<TestUpstream.Stats>
    private var head: HTTPRequestHead?
    private var bodyBytes = 0
    private var pendingStream: (remaining: Int, chunk: ByteBuffer)?

    init(name: String, stats: NIOLockedValueBox<TestUpstream.Stats>) {
        self.name = name
        self.stats = stats
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            bodyBytes = 0
            let ready = stats.withLockedValue { stats -> [EventLoopPromise<Void>] in
                stats.requests += 1
                stats.lastHeaders = head.headers.map { ($0.name, $0.value) }
                let count = stats.requests
                let ready = stats.requestWaiters.filter { $0.count <= count }.map(\.promise)
                stats.requestWaiters.removeAll { $0.count <= count }
                return ready
            }
            for promise in ready { promise.succeed() }
            if head.uri == "/close" {
                context.close(promise: nil)
            }
        case .body(let buffer):
            bodyBytes += buffer.readableBytes
        case .end:
            guard let head else { return }
            stats.withLockedValue { $0.completedRequests += 1 }
            respond(to: head, context: context)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            continueStreaming(context: context)
        }
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = head.uri
        if path.hasPrefix("/bytes/"), let count = Int(path.dropFirst("/bytes/".count)) {
            var headers = HTTPHeaders([("content-length", String(count)), ("x-upstream", name)])
            headers.add(name: "content-type", value: "application/octet-stream")
            context.write(
                wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil
            )
            var chunk = context.channel.allocator.buffer(capacity: 65536)
            chunk.writeRepeatingByte(UInt8(ascii: "x"), count: 65536)
            pendingStream = (count, chunk)
            continueStreaming(context: context)
        } else if path == "/upload" {
            send(status: .ok, body: String(bodyBytes), context: context)
        } else if path.hasPrefix("/slow/"), let millis = Int64(path.dropFirst("/slow/".count)) {
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: .milliseconds(millis)) {
                let (handler, context) = loopBound.value
                handler.send(status: .ok, body: "slow", context: context)
            }
        } else if path.hasPrefix("/status/"), let code = Int(path.dropFirst("/status/".count)) {
            let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: code))
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        } else if path == "/chunked" {
            let head = HTTPResponseHead(version: .http1_1, status: .ok, headers: ["transfer-encoding": "chunked"])
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            for part in ["one,", "two,", "three"] {
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: part)))), promise: nil)
            }
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        } else if path == "/idle-close" {
            send(status: .ok, body: "bye soon", context: context)
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: .milliseconds(50)) { loopBound.value.close(promise: nil) }
        } else {
            var lines = ["upstream=\(name)", "method=\(head.method.rawValue)", "uri=\(head.uri)", "body=\(bodyBytes)"]
            for (headerName, value) in head.headers {
                lines.append("h:\(headerName.lowercased())=\(value)")
            }
            send(
                status: .ok, body: lines.joined(separator: "\n") + "\n", context: context, isHead: head.method == .HEAD)
        }
    }

    private func continueStreaming(context: ChannelHandlerContext) {
        guard var stream = pendingStream else { return }
        while stream.remaining > 0, context.channel.isWritable {
            let size = min(stream.remaining, stream.chunk.readableBytes)
            context.write(
                wrapOutboundOut(.body(.byteBuffer(stream.chunk.getSlice(at: 0, length: size) ?? stream.chunk))),
                promise: nil)
            stream.remaining -= size
            stats.withLockedValue { $0.streamedBytes += size }
        }
        if stream.remaining == 0 {
            pendingStream = nil
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        } else {
            pendingStream = stream
            context.flush()
        }
    }

    private func send(status: HTTPResponseStatus, body: String, context: ChannelHandlerContext, isHead: Bool = false) {
        let bytes = ByteBuffer(string: body)
        let headers = HTTPHeaders([
            ("content-length", String(bytes.readableBytes)), ("content-type", "text/plain"), ("x-upstream", name),
            ("server", "test-upstream"),
        ])
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        if !isHead {
            context.write(wrapOutboundOut(.body(.byteBuffer(bytes))), promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}
