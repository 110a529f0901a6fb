import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// A response as the test client saw it.
struct TestResponse: Sendable {
    var head: HTTPResponseHead
    var body: ByteBuffer
    var bodyText: String { String(buffer: body) }
    var status: HTTPResponseStatus { head.status }
    func header(_ name: String) -> String? { head.headers.first(name: name) }
}

/// A real HTTP/1.1 client over a TCP socket, written with NIO so tests control exactly what goes on
/// the wire: several requests can be written before any response is read (pipelining), raw bytes
/// can be sent, and bodies can be counted instead of stored (for gigabyte transfers).
final class TestClient: Sendable {
    let channel: Channel
    private let collector: ResponseCollector.Box

    static func connect(port: Int, group: EventLoopGroup, countOnly: Bool = false) async throws -> TestClient {
        let box = ResponseCollector.Box()
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ResponseCollector(box: box, countOnly: countOnly))
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
        return TestClient(channel: channel, collector: box)
    }

    private init(channel: Channel, collector: ResponseCollector.Box) {
        self.channel = channel
        self.collector = collector
    }

    /// Sends one request (head, optional body, end) without waiting for anything.
    func send(
        _ method: HTTPMethod = .GET, _ uri: String, headers: [(String, String)] = [("host", "test")],
        body: ByteBuffer? = nil
    ) {
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: uri)
        head.headers = HTTPHeaders(headers)
        if let body, !head.headers.contains(name: "content-length"), !head.headers.contains(name: "transfer-encoding") {
            head.headers.add(name: "content-length", value: String(body.readableBytes))
        }
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        if let body {
            channel.write(HTTPClientRequestPart.body(.byteBuffer(body)), promise: nil)
        }
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
    }

    /// Sends a request and waits for its response.
    func request(
        _ method: HTTPMethod = .GET, _ uri: String, headers: [(String, String)] = [("host", "test")],
        body: ByteBuffer? = nil
    ) async throws -> TestResponse {
        let next = collector.expectResponse(on: channel.eventLoop)
        send(method, uri, headers: headers, body: body)
        return try await bounded(next, "response to \(method) \(uri)").get()
    }

    /// A future for the next response, registered before anything is sent.
    func expectResponse() -> EventLoopFuture<TestResponse> {
        bounded(collector.expectResponse(on: channel.eventLoop), "expected response")
    }

    /// The next response in arrival order (for pipelined requests sent with `send`).
    func nextResponse() async throws -> TestResponse {
        try await bounded(collector.expectResponse(on: channel.eventLoop), "next response").get()
    }

    /// Bytes of body received so far when created with `countOnly`.
    var bodyBytesCounted: Int { collector.countedBytes }

    /// Completes when the server closes the connection (fails after 30 s).
    var closeFuture: EventLoopFuture<Void> { bounded(channel.closeFuture, "the server to close") }

    func close() async {
        try? await channel.close()
    }
}

private final class ResponseCollector: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    /// Shared between the test task and the channel's loop.
    final class Box: Sendable {
        private let state = NIOLockedValueBox(State())

        struct State {
            var ready: [Result<TestResponse, Error>] = []
            var waiting: [EventLoopPromise<TestResponse>] = []
            var countedBytes = 0
        }

        var countedBytes: Int { state.withLockedValue { $0.countedBytes } }

        func expectResponse(on eventLoop: EventLoop) -> EventLoopFuture<TestResponse> {
            let promise = eventLoop.makePromise(of: TestResponse.self)
            let ready: Result<TestResponse, Error>? = state.withLockedValue { state in
                if !state.ready.isEmpty { return state.ready.removeFirst() }
                state.waiting.append(promise)
                return nil
            }
            if let ready { promise.completeWith(ready) }
            return promise.futureResult
        }

        func deliver(_ result: Result<TestResponse, Error>) {
            let promise: EventLoopPromise<TestResponse>? = state.withLockedValue { state in
                if !state.waiting.isEmpty { return state.waiting.removeFirst() }
                state.ready.append(result)
                return nil
            }
            promise?.completeWith(result)
        }

        func failAll(_ error: Error) {
            let waiting = state.withLockedValue { state in
                defer { state.waiting.removeAll() }
                return state.waiting
            }
            for promise in waiting { promise.fail(error) }
        }

        func count(_ bytes: Int) {
            state.withLockedValue { $0.countedBytes += bytes }
        }
    }

    struct ConnectionClosed: Error {}

    private let box: Box
    private let countOnly: Bool
    private var head: HTTPResponseHead?
    private var body = ByteBuffer()

    init(box: Box, countOnly: Bool) {
        self.box = box
        self.countOnly = countOnly
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            if head.status.code >= 100 && head.status.code < 200 { return }
            self.head = head
            body.clear()
        case .body(var buffer):
            if countOnly {
                box.count(buffer.readableBytes)
            } else {
                body.writeBuffer(&buffer)
            }
        case .end:
            if let head {
                box.deliver(.success(TestResponse(head: head, body: body)))
            }
            head = nil
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        box.failAll(ConnectionClosed())
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        box.failAll(error)
        context.close(promise: nil)
    }
}

/// Raw bytes in, raw bytes out: for requests a well-behaved client would never send.
final class RawClient: Sendable {
    let channel: Channel
    private let received: RawReceived

    static func connect(port: Int, group: EventLoopGroup, autoRead: Bool = true) async throws -> RawClient {
        let received = RawReceived()
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.autoRead, value: autoRead)
            .channelOption(.socketOption(.so_rcvbuf), value: 64 * 1024)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RawCollector(received: received))
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
        return RawClient(channel: channel, received: received)
    }

    private init(channel: Channel, received: RawReceived) {
        self.channel = channel
        self.received = received
    }

    func send(_ text: String) async throws {
        try await channel.writeAndFlush(ByteBuffer(string: text))
    }

    /// Exact bytes (NUL, obs-text and lone CRs included), as an attacker sends them.
    func send(bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes))
    }

    /// Waits (an event, not a poll) until the bytes received so far contain `text`.
    func waitFor(_ text: String) async throws {
        try await bounded(received.waitFor(text, on: channel.eventLoop), "'\(text)'").get()
    }

    /// Everything the server sent until it closed the connection.
    func readUntilClosed() async throws -> String {
        try await bounded(channel.closeFuture, "the server to close").get()
        return received.text
    }

    var receivedText: String { received.text }
}

final class RawReceived: Sendable {
    private let state = NIOLockedValueBox((text: "", waiters: [(String, EventLoopPromise<Void>)]()))

    var text: String { state.withLockedValue { $0.text } }

    func append(_ more: String) {
        let ready = state.withLockedValue { state -> [EventLoopPromise<Void>] in
            state.text += more
            let text = state.text
            let ready = state.waiters.filter { text.contains($0.0) }.map(\.1)
            state.waiters.removeAll { text.contains($0.0) }
            return ready
        }
        for promise in ready { promise.succeed() }
    }

    func waitFor(_ pattern: String, on eventLoop: EventLoop) -> EventLoopFuture<Void> {
        let promise = eventLoop.makePromise(of: Void.self)
        let already = state.withLockedValue { state -> Bool in
            if state.text.contains(pattern) { return true }
            state.waiters.append((pattern, promise))
            return false
        }
        if already { promise.succeed() }
        return promise.futureResult
    }

    func closed() {
        let waiters = state.withLockedValue { state in
            defer { state.waiters.removeAll() }
            return state.waiters.map(\.1)
        }
        for promise in waiters { promise.fail(ChannelError.eof) }
    }
}

private final class RawCollector: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private let received: RawReceived

    init(received: RawReceived) {
        self.received = received
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received.append(String(buffer: unwrapInboundIn(data)))
    }

    func channelInactive(context: ChannelHandlerContext) {
        received.closed()
        context.fireChannelInactive()
    }
}
