import GatewayConfig
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// The admin API's own listener, on its own event loop: an overloaded data plane does not slow
/// `/metrics` or `/admin/ready` down, and the admin plane stays up while the data plane drains
/// (it is stopped last). Plain NIOHTTP1: nothing here is hot.
public final class AdminServer: Service, Sendable {
    private let config: AdminConfig
    private let api: AdminAPI
    private let logger: Logger
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let channel = NIOLockedValueBox<Channel?>(nil)

    public init(config: AdminConfig, api: AdminAPI, logger: Logger) {
        self.config = config
        self.api = api
        self.logger = logger
    }

    public var boundAddress: SocketAddress? { channel.withLockedValue { $0?.localAddress } }

    @discardableResult
    public func start() async throws -> SocketAddress? {
        let api = self.api
        do {
            let bound = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let sync = channel.pipeline.syncOperations
                        try sync.configureHTTPServerPipeline(withErrorHandling: true)
                        try sync.addHandler(AdminHTTPHandler(api: api))
                    }
                }
                .bind(host: config.address.host, port: config.address.port)
                .get()
            channel.withLockedValue { $0 = bound }
            logger.info("admin listening", metadata: ["address": "\(GatewayServer.format(bound.localAddress))"])
            return bound.localAddress
        } catch {
            try? await group.shutdownGracefully()
            throw GatewayServer.StartupError(description: "cannot bind admin listener to \(config.address): \(error)")
        }
    }

    public func run() async throws {
        if boundAddress == nil {
            try await start()
        }
        try? await gracefulShutdown()
        await stop()
    }

    public func stop() async {
        let bound = channel.withLockedValue { channel -> Channel? in
            defer { channel = nil }
            return channel
        }
        try? await bound?.close()
        try? await group.shutdownGracefully()
    }
}

/// Collects one request (head and a small body), asks the API, writes the answer.
private final class AdminHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let api: AdminAPI
    private var head: HTTPRequestHead?
    private var bodyBytes = 0
    private var body: [UInt8] = []
    private static let maxBody = 64 * 1024

    init(api: AdminAPI) {
        self.api = api
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            bodyBytes = 0
            body = []
        case .body(let buffer):
            bodyBytes += buffer.readableBytes
            if bodyBytes <= Self.maxBody {
                body += buffer.readableBytesView
            }
        case .end:
            guard let head else { return }
            self.head = nil
            let keepAlive = head.isKeepAlive
            let isHead = head.method == .HEAD
            guard bodyBytes <= Self.maxBody else {
                let response = AdminAPI.Response.error(413, "payload_too_large", "Admin requests carry at most 64 KiB.")
                Self.write(response, keepAlive: false, isHead: isHead, context: context)
                return
            }
            let path = String(head.uri.prefix { $0 != "?" })
            let query = head.uri.firstIndex(of: "?").map { String(head.uri[head.uri.index(after: $0)...]) } ?? ""
            let request = AdminAPI.Request(
                method: head.method == .HEAD ? "HEAD" : head.method.rawValue, path: path,
                authorization: head.headers.first(name: "authorization"), query: query, body: body)
            body = []
            let api = self.api
            let answer = context.eventLoop.makePromise(of: AdminAPI.Response.self)
            answer.completeWithTask { await api.handle(request) }
            answer.futureResult.assumeIsolated().whenSuccess { response in
                Self.write(response, keepAlive: keepAlive, isHead: isHead, context: context)
            }
        }
    }

    private static func write(
        _ response: AdminAPI.Response, keepAlive: Bool, isHead: Bool, context: ChannelHandlerContext
    ) {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: response.contentType)
        headers.add(name: "content-length", value: String(response.body.utf8.count))
        headers.add(name: "cache-control", value: "no-store")
        for (name, value) in response.headers {
            headers.add(name: name, value: value)
        }
        if !keepAlive {
            headers.add(name: "connection", value: "close")
        }
        let head = HTTPResponseHead(
            version: .http1_1, status: HTTPResponseStatus(statusCode: response.status), headers: headers)
        context.write(NIOAny(HTTPServerResponsePart.head(head)), promise: nil)
        if !isHead {
            context.write(
                NIOAny(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(string: response.body)))), promise: nil)
        }
        let done = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)), promise: done)
        if !keepAlive {
            done.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }
}
