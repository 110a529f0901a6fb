import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// A real WebSocket server (NIO's upgrader and frame codec) on 127.0.0.1: it greets each new
/// tunnel with a text message, echoes text and binary messages, answers a close with a close,
/// and closes the connection itself after echoing the text `bye`. A plain (non-upgrade) request,
/// or an upgrade to a path other than `/ws`, gets an ordinary 200 with the path in the body.
final class WebSocketUpstream: Sendable {
    static let greeting = "hello from upstream"

    let group: MultiThreadedEventLoopGroup
    let channel: Channel
    private let state = NIOLockedValueBox(
        (upgradeHeads: [HTTPRequestHead](), plainHeads: [HTTPRequestHead](), openTunnels: 0, closedTunnels: 0))

    var port: Int { channel.localAddress?.port ?? 0 }
    var upgradeHeads: [HTTPRequestHead] { state.withLockedValue { $0.upgradeHeads } }
    var plainHeads: [HTTPRequestHead] { state.withLockedValue { $0.plainHeads } }
    var openTunnels: Int { state.withLockedValue { $0.openTunnels } }
    var closedTunnels: Int { state.withLockedValue { $0.closedTunnels } }

    init() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.group = group
        let state = self.state
        self.channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                let upgrader = NIOWebSocketServerUpgrader(
                    maxFrameSize: 4 << 20,
                    shouldUpgrade: { channel, head in
                        guard head.uri == "/ws" else { return channel.eventLoop.makeSucceededFuture(nil) }
                        state.withLockedValue { $0.upgradeHeads.append(head) }
                        return channel.eventLoop.makeSucceededFuture(["x-upstream": "websocket"])
                    },
                    upgradePipelineHandler: { channel, _ in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(EchoFrames(state: state))
                        }
                    })
                return channel.eventLoop.makeCompletedFuture {
                    let plain = PlainAnswer(state: state)
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                        withServerUpgrade: (
                            upgraders: [upgrader],
                            completionHandler: { context in
                                context.pipeline.syncOperations.removeHandler(plain, promise: nil)
                            }
                        ))
                    try channel.pipeline.syncOperations.addHandler(plain)
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
    }

    func stop() async {
        try? await channel.close()
        try? await group.shutdownGracefully()
    }

    fileprivate typealias State = NIOLockedValueBox<
        (upgradeHeads: [HTTPRequestHead], plainHeads: [HTTPRequestHead], openTunnels: Int, closedTunnels: Int)
    >
}

private final class PlainAnswer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    private let state: WebSocketUpstream.State

    init(state: WebSocketUpstream.State) {
        self.state = state
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            state.withLockedValue { $0.plainHeads.append(head) }
        case .body:
            break
        case .end:
            let request = state.withLockedValue { $0.plainHeads.last }
            let body = ByteBuffer(string: "plain \(request?.uri ?? "")")
            var head = HTTPResponseHead(
                version: .http1_1, status: .ok, headers: ["content-length": String(body.readableBytes)])
            if request?.headers.contains(name: "upgrade") == true {
                // NIO's server stops reading a connection after it declined an upgrade: say so.
                head.headers.add(name: "connection", value: "close")
            }
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}

private final class EchoFrames: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame
    private let state: WebSocketUpstream.State
    private var sentClose = false

    init(state: WebSocketUpstream.State) {
        self.state = state
    }

    func handlerAdded(context: ChannelHandlerContext) {
        state.withLockedValue { $0.openTunnels += 1 }
        let greeting = ByteBuffer(string: WebSocketUpstream.greeting)
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .text, data: greeting)), promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        state.withLockedValue { $0.closedTunnels += 1 }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .binary:
            let data = frame.unmaskedData
            context.writeAndFlush(
                wrapOutboundOut(WebSocketFrame(fin: true, opcode: frame.opcode, data: data)), promise: nil)
            if frame.opcode == .text, String(buffer: data) == "bye" {
                sendClose(context: context)
                context.close(promise: nil)
            }
        case .connectionClose:
            sendClose(context: context)
            context.close(promise: nil)
        case .ping:
            context.writeAndFlush(
                wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)), promise: nil)
        default:
            break
        }
    }

    private func sendClose(context: ChannelHandlerContext) {
        guard !sentClose else { return }
        sentClose = true
        var code = context.channel.allocator.buffer(capacity: 2)
        code.write(webSocketErrorCode: .normalClosure)
        context.writeAndFlush(
            wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: code)), promise: nil)
    }
}

/// A WebSocket client written byte by byte (RFC 6455 5.2), so the test sees exactly what crossed
/// the gateway: the 101 head as text, then frames, masked as a client must.
final class WebSocketTestClient: Sendable {
    struct Message: Equatable, Sendable {
        var opcode: UInt8
        var payload: [UInt8]
        var text: String { String(decoding: payload, as: UTF8.self) }
    }

    let channel: Channel
    private let reader: FrameReader.Box

    static let key = "dGhlIHNhbXBsZSBub25jZQ=="
    /// RFC 6455 1.3's worked example: the accept value for `key`.
    static let expectedAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

    static func connect(port: Int, group: EventLoopGroup) async throws -> WebSocketTestClient {
        let box = FrameReader.Box()
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(FrameReader(box: box))
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
        return WebSocketTestClient(channel: channel, reader: box)
    }

    private init(channel: Channel, reader: FrameReader.Box) {
        self.channel = channel
        self.reader = reader
    }

    /// Sends the opening handshake (plus `extra` bytes in the same write, e.g. a first frame) and
    /// returns the response head the gateway sent.
    func handshake(path: String = "/ws", extraFields: String = "", extra: [UInt8] = []) async throws -> String {
        var request = ByteBuffer(
            string: "GET \(path) HTTP/1.1\r\nhost: test\r\nupgrade: websocket\r\nconnection: Upgrade\r\n"
                + "sec-websocket-key: \(Self.key)\r\nsec-websocket-version: 13\r\n\(extraFields)\r\n")
        request.writeBytes(extra)
        try await channel.writeAndFlush(request)
        return try await bounded(reader.head(on: channel.eventLoop), "the handshake's response head").get()
    }

    func send(text: String) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: Self.frame(opcode: 0x1, payload: Array(text.utf8))))
    }

    func send(binary: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: Self.frame(opcode: 0x2, payload: binary)))
    }

    func sendClose() async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: Self.frame(opcode: 0x8, payload: [0x03, 0xE8])))
    }

    func nextMessage() async throws -> Message {
        try await bounded(reader.next(on: channel.eventLoop), "a WebSocket message").get()
    }

    func waitUntilClosed() async throws {
        try await bounded(channel.closeFuture, "the connection to close").get()
    }

    /// A final client frame: FIN, opcode, masked payload with a length in 7, 16 or 64 bits.
    static func frame(opcode: UInt8, payload: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = [0x80 | opcode]
        if payload.count < 126 {
            bytes.append(0x80 | UInt8(payload.count))
        } else if payload.count <= 0xFFFF {
            bytes.append(0x80 | 126)
            bytes.append(UInt8(payload.count >> 8))
            bytes.append(UInt8(payload.count & 0xFF))
        } else {
            bytes.append(0x80 | 127)
            for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8((payload.count >> shift) & 0xFF)) }
        }
        let mask: [UInt8] = [0x37, 0xFA, 0x21, 0x3D]
        bytes.append(contentsOf: mask)
        for (index, byte) in payload.enumerated() { bytes.append(byte ^ mask[index % 4]) }
        return bytes
    }
}

/// Collects the response head, then unmasked server frames, handing them to waiters in order.
private final class FrameReader: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    final class Box: Sendable {
        private let state = NIOLockedValueBox(
            (
                head: String?.none, headWaiters: [EventLoopPromise<String>](),
                messages: [WebSocketTestClient.Message](), waiters: [EventLoopPromise<WebSocketTestClient.Message>](),
                closed: false
            ))

        func head(on loop: EventLoop) -> EventLoopFuture<String> {
            let promise = loop.makePromise(of: String.self)
            let (head, closed) = state.withLockedValue { state in
                if state.head == nil && !state.closed { state.headWaiters.append(promise) }
                return (state.head, state.closed)
            }
            if let head { promise.succeed(head) } else if closed { promise.fail(ChannelError.eof) }
            return promise.futureResult
        }

        func next(on loop: EventLoop) -> EventLoopFuture<WebSocketTestClient.Message> {
            let promise = loop.makePromise(of: WebSocketTestClient.Message.self)
            let (message, closed) = state.withLockedValue { state -> (WebSocketTestClient.Message?, Bool) in
                if !state.messages.isEmpty { return (state.messages.removeFirst(), false) }
                if !state.closed { state.waiters.append(promise) }
                return (nil, state.closed)
            }
            if let message { promise.succeed(message) } else if closed { promise.fail(ChannelError.eof) }
            return promise.futureResult
        }

        func deliver(head: String) {
            let waiters = state.withLockedValue { state in
                state.head = head
                defer { state.headWaiters.removeAll() }
                return state.headWaiters
            }
            for waiter in waiters { waiter.succeed(head) }
        }

        func deliver(_ message: WebSocketTestClient.Message) {
            let waiter = state.withLockedValue { state -> EventLoopPromise<WebSocketTestClient.Message>? in
                if state.waiters.isEmpty {
                    state.messages.append(message)
                    return nil
                }
                return state.waiters.removeFirst()
            }
            waiter?.succeed(message)
        }

        func closed() {
            let (heads, waiters) = state.withLockedValue { state in
                state.closed = true
                defer {
                    state.headWaiters.removeAll()
                    state.waiters.removeAll()
                }
                return (state.headWaiters, state.waiters)
            }
            for waiter in heads { waiter.fail(ChannelError.eof) }
            for waiter in waiters { waiter.fail(ChannelError.eof) }
        }
    }

    private let box: Box
    private var buffer = ByteBuffer()
    private var headDone = false

    init(box: Box) {
        self.box = box
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        buffer.writeBuffer(&incoming)
        if !headDone {
            guard let text = buffer.getString(at: buffer.readerIndex, length: buffer.readableBytes),
                let end = text.range(of: "\r\n\r\n")
            else { return }
            let head = String(text[..<end.upperBound])
            buffer.moveReaderIndex(forwardBy: head.utf8.count)
            headDone = true
            box.deliver(head: head)
        }
        while let message = takeFrame() { box.deliver(message) }
        buffer.discardReadBytes()
    }

    private func takeFrame() -> WebSocketTestClient.Message? {
        let start = buffer.readerIndex
        guard let first = buffer.getInteger(at: start, as: UInt8.self),
            let second = buffer.getInteger(at: start + 1, as: UInt8.self)
        else { return nil }
        var length = Int(second & 0x7F)
        var offset = 2
        if length == 126 {
            guard let extended = buffer.getInteger(at: start + 2, as: UInt16.self) else { return nil }
            length = Int(extended)
            offset = 4
        } else if length == 127 {
            guard let extended = buffer.getInteger(at: start + 2, as: UInt64.self) else { return nil }
            length = Int(extended)
            offset = 10
        }
        guard let payload = buffer.getBytes(at: start + offset, length: length) else { return nil }
        buffer.moveReaderIndex(forwardBy: offset + length)
        return WebSocketTestClient.Message(opcode: first & 0x0F, payload: payload)
    }

    func channelInactive(context: ChannelHandlerContext) {
        box.closed()
        context.fireChannelInactive()
    }
}
