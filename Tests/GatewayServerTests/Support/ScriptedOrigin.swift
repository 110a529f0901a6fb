import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// An origin whose answers the test decides per request, counting what reaches it. For cache
/// tests: whether a request reached the origin at all is what most of them assert.
final class ScriptedOrigin: Sendable {
    struct Request: Sendable {
        var method: HTTPMethod
        var uri: String
        var headers: HTTPHeaders
        var body = ""
    }

    struct Response: Sendable {
        var status: HTTPResponseStatus = .ok
        var headers: [(String, String)] = []
        var body: String = ""
        /// Send the body as chunks of this many bytes with chunked framing (0: Content-Length).
        var chunkSize = 0
        /// Send the head and this many body bytes, then hold the rest until `releaseHeld()`.
        var holdAfter: Int?
        /// Bytes that are not text (a gzip body); replaces `body`.
        var binaryBody: [UInt8]?

        init(
            status: HTTPResponseStatus = .ok, headers: [(String, String)] = [], body: String = "", chunkSize: Int = 0,
            holdAfter: Int? = nil
        ) {
            self.status = status
            self.headers = headers
            self.body = body
            self.chunkSize = chunkSize
            self.holdAfter = holdAfter
        }
    }

    typealias Script = @Sendable (Request) -> Response

    let group: MultiThreadedEventLoopGroup
    private let channel: Channel
    private let state: NIOLockedValueBox<State>

    struct State {
        var script: Script
        var requests: [Request] = []
        var stopped = false
        var held: [@Sendable () -> Void] = []
        var waiters: [(count: Int, promise: EventLoopPromise<Void>)] = []
    }

    /// Succeeds once `count` requests (in total) have reached the origin.
    func requestsReceived(_ count: Int) -> EventLoopFuture<Void> {
        let promise = group.next().makePromise(of: Void.self)
        let reached = state.withLockedValue { state -> Bool in
            if state.requests.count >= count { return true }
            state.waiters.append((count, promise))
            return false
        }
        if reached { promise.succeed() }
        return bounded(promise.futureResult, "\(count) requests at the origin")
    }

    /// Sends the rest of every held response.
    func releaseHeld() {
        let held = state.withLockedValue { state in
            defer { state.held = [] }
            return state.held
        }
        for resume in held { resume() }
    }

    var port: Int { channel.localAddress?.port ?? 0 }
    var requests: [Request] { state.withLockedValue { $0.requests } }
    var requestCount: Int { state.withLockedValue { $0.requests.count } }

    func requests(to path: String) -> [Request] {
        requests.filter { $0.uri == path || $0.uri.hasPrefix(path + "?") }
    }

    init(_ script: @escaping Script) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let state = NIOLockedValueBox(State(script: script))
        self.group = group
        self.state = state
        self.channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(ScriptedOriginHandler(state: state))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    func setScript(_ script: @escaping Script) {
        state.withLockedValue { $0.script = script }
    }

    /// Closes the listener (new connections are refused, as with a dead origin). Idempotent.
    func stop() async {
        let first = state.withLockedValue { state in
            defer { state.stopped = true }
            return !state.stopped
        }
        guard first else { return }
        try? await channel.close()
        try? await group.shutdownGracefully()
    }
}

private final class ScriptedOriginHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let state: NIOLockedValueBox<ScriptedOrigin.State>
    private var head: HTTPRequestHead?
    private var body = ""

    init(state: NIOLockedValueBox<ScriptedOrigin.State>) {
        self.state = state
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = ""
        case .body(let buffer):
            body += String(buffer: buffer)
        case .end:
            guard let head else { return }
            let request = ScriptedOrigin.Request(method: head.method, uri: head.uri, headers: head.headers, body: body)
            let (script, ready) = state.withLockedValue { state in
                state.requests.append(request)
                let count = state.requests.count
                let ready = state.waiters.filter { $0.count <= count }.map(\.promise)
                state.waiters.removeAll { $0.count <= count }
                return (state.script, ready)
            }
            respond(script(request), isHead: head.method == .HEAD, context: context)
            for promise in ready { promise.succeed() }
        }
    }

    private func respond(_ response: ScriptedOrigin.Response, isHead: Bool, context: ChannelHandlerContext) {
        var headers = HTTPHeaders(response.headers)
        let body =
            response.binaryBody.map { ByteBuffer(bytes: $0) } ?? context.channel.allocator.buffer(string: response.body)
        let noBody = response.status == .notModified || response.status == .noContent
        if response.chunkSize > 0 {
            headers.replaceOrAdd(name: "transfer-encoding", value: "chunked")
        } else if !noBody && !headers.contains(name: "content-length") {
            headers.replaceOrAdd(name: "content-length", value: String(body.readableBytes))
        }
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: response.status, headers: headers))),
            promise: nil)
        if !isHead && !noBody, let holdAfter = response.holdAfter {
            var rest = body
            if let first = rest.readSlice(length: min(holdAfter, rest.readableBytes)), first.readableBytes > 0 {
                context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(first))), promise: nil)
            }
            let remaining = rest
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let eventLoop = context.eventLoop
            state.withLockedValue { state in
                state.held.append {
                    eventLoop.execute {
                        let (handler, context) = loopBound.value
                        if remaining.readableBytes > 0 {
                            context.write(handler.wrapOutboundOut(.body(.byteBuffer(remaining))), promise: nil)
                        }
                        context.writeAndFlush(handler.wrapOutboundOut(.end(nil)), promise: nil)
                    }
                }
            }
            return
        }
        if !isHead && !noBody {
            if response.chunkSize > 0 {
                var rest = body
                while rest.readableBytes > 0,
                    let chunk = rest.readSlice(length: min(response.chunkSize, rest.readableBytes))
                {
                    context.write(wrapOutboundOut(.body(.byteBuffer(chunk))), promise: nil)
                }
            } else if body.readableBytes > 0 {
                context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
            }
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}
