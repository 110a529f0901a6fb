import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// An OTLP/HTTP collector on 127.0.0.1: takes `POST /v1/traces` with binary protobuf, decodes the
/// spans and answers as a collector does (200, an empty `ExportTraceServiceResponse`).
final class OTLPReceiver: Sendable {
    struct State {
        var spans: [DecodedSpan] = []
        var posts = 0
        /// Requests that were not a protobuf POST to /v1/traces, or did not decode.
        var rejected: [String] = []
        var waiters: [(predicate: @Sendable ([DecodedSpan]) -> Bool, promise: EventLoopPromise<Void>)] = []
    }

    let group: MultiThreadedEventLoopGroup
    private let channel: Channel
    private let state: NIOLockedValueBox<State>

    var port: Int { channel.localAddress?.port ?? 0 }
    var endpoint: String { "http://127.0.0.1:\(port)/v1/traces" }
    var spans: [DecodedSpan] { state.withLockedValue { $0.spans } }
    var posts: Int { state.withLockedValue { $0.posts } }
    var rejected: [String] { state.withLockedValue { $0.rejected } }

    init() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let state = NIOLockedValueBox(State())
        self.group = group
        self.state = state
        channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(OTLPReceiverHandler(state: state))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    /// Succeeds once the spans received so far satisfy `predicate` (bounded).
    func spans(where predicate: @escaping @Sendable ([DecodedSpan]) -> Bool, _ what: String) async throws
        -> [DecodedSpan]
    {
        let promise = group.next().makePromise(of: Void.self)
        let ready = state.withLockedValue { state in
            if predicate(state.spans) { return true }
            state.waiters.append((predicate, promise))
            return false
        }
        if ready { promise.succeed() }
        try await bounded(promise.futureResult, what).get()
        return spans
    }

    fileprivate static func received(
        _ body: [UInt8], path: String, contentType: String?, state: NIOLockedValueBox<State>
    ) {
        let decoded: [DecodedSpan]?
        if path == "/v1/traces", contentType == "application/x-protobuf" {
            decoded = try? OTLPTraceDecoding.spans(body)
        } else {
            decoded = nil
        }
        let ready = state.withLockedValue { state -> [EventLoopPromise<Void>] in
            state.posts += 1
            guard let decoded else {
                state.rejected.append("\(path) \(contentType ?? "-") \(body.count) bytes")
                return []
            }
            state.spans += decoded
            let spans = state.spans
            let ready = state.waiters.filter { $0.predicate(spans) }.map(\.promise)
            state.waiters.removeAll { $0.predicate(spans) }
            return ready
        }
        for promise in ready { promise.succeed() }
    }

    func stop() async {
        try? await channel.close()
        try? await group.shutdownGracefully()
    }
}

private final class OTLPReceiverHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let state: NIOLockedValueBox<OTLPReceiver.State>
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []

    init(state: NIOLockedValueBox<OTLPReceiver.State>) {
        self.state = state
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = []
        case .body(var buffer):
            body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            guard let head else { return }
            OTLPReceiver.received(
                body, path: head.uri, contentType: head.headers.first(name: "content-type"), state: state)
            let headers = HTTPHeaders([("content-type", "application/x-protobuf"), ("content-length", "0")])
            context.write(
                wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil
            )
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}
