import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// A real HTTP/1.1 server on 127.0.0.1 whose behaviour a test switches while traffic flows:
/// healthy, failing with a status, resetting connections, slow, or cutting responses short.
/// `/health` answers from its own switch, so active checks can disagree with real traffic.
/// Every response carries `x-upstream: NAME`.
final class ControlledUpstream: Sendable {
    enum Mode: Sendable, Equatable {
        case ok
        case status(Int)
        /// Closes the connection as soon as a request head arrives.
        case reset
        /// Answers after this many milliseconds.
        case slow(Int64)
        /// Sends the head and half of the promised body, then closes.
        case resetMidBody
    }

    let name: String
    let group: MultiThreadedEventLoopGroup
    let channel: Channel
    private let state: NIOLockedValueBox<State>

    struct State {
        var mode = Mode.ok
        var healthy = true
        var requests = 0
        var healthChecks = 0
    }

    var port: Int { channel.localAddress?.port ?? 0 }
    /// Requests other than health checks.
    var requests: Int { state.withLockedValue { $0.requests } }
    var healthChecks: Int { state.withLockedValue { $0.healthChecks } }

    init(name: String, mode: Mode = .ok) async throws {
        self.name = name
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.group = group
        let state = NIOLockedValueBox(State(mode: mode))
        self.state = state
        self.channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(ControlledHandler(name: name, state: state))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
    }

    func set(_ mode: Mode) {
        state.withLockedValue { $0.mode = mode }
    }

    func setHealthy(_ healthy: Bool) {
        state.withLockedValue { $0.healthy = healthy }
    }

    func stop() async {
        try? await channel.close()
        try? await group.shutdownGracefully()
    }
}

private final class ControlledHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let name: String
    private let state: NIOLockedValueBox<ControlledUpstream.State>
    private var head: HTTPRequestHead?
    private var bodyBytes = 0

    init(name: String, state: NIOLockedValueBox<ControlledUpstream.State>) {
        self.name = name
        self.state = state
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            bodyBytes = 0
            if head.uri == "/health" {
                state.withLockedValue { $0.healthChecks += 1 }
                return
            }
            let mode = state.withLockedValue { state -> ControlledUpstream.Mode in
                state.requests += 1
                return state.mode
            }
            if mode == .reset {
                self.head = nil
                context.close(promise: nil)
            }
        case .body(let buffer):
            bodyBytes += buffer.readableBytes
        case .end:
            guard let head else { return }
            self.head = nil
            if head.uri == "/health" {
                let healthy = state.withLockedValue { $0.healthy }
                return send(healthy ? .ok : .serviceUnavailable, "health", context: context)
            }
            switch state.withLockedValue({ $0.mode }) {
            case .ok, .reset:
                send(.ok, "\(name) \(head.method.rawValue) body=\(bodyBytes)", context: context)
            case .status(let code):
                send(HTTPResponseStatus(statusCode: code), "\(name) failing", context: context)
            case .slow(let millis):
                let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                let name = self.name
                context.eventLoop.scheduleTask(in: .milliseconds(millis)) {
                    let (handler, context) = loopBound.value
                    handler.send(.ok, "\(name) slow", context: context)
                }
            case .resetMidBody:
                let headers = HTTPHeaders([("content-length", "1000"), ("x-upstream", name)])
                context.write(
                    wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))),
                    promise: nil)
                var part = context.channel.allocator.buffer(capacity: 500)
                part.writeRepeatingByte(UInt8(ascii: "x"), count: 500)
                context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(part))), promise: nil)
                context.close(promise: nil)
            }
        }
    }

    private func send(_ status: HTTPResponseStatus, _ body: String, context: ChannelHandlerContext) {
        let bytes = ByteBuffer(string: body)
        let headers = HTTPHeaders([("content-length", String(bytes.readableBytes)), ("x-upstream", name)])
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(bytes))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}
