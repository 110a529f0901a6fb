import GatewayConfig
import NIOCore
import NIOHTTP1
import NIOPosix
import XCTest

/// Requests the gateway's own byte-level parser must refuse, or frame exactly, over real sockets.
final class MalformedRequestTests: XCTestCase {
    private var upstream: TestUpstream!
    private var bodyEcho: BodyEchoUpstream!
    private var gateway: TestGateway!
    private let clientGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    override func setUp() async throws {
        upstream = try await TestUpstream()
        bodyEcho = try await BodyEchoUpstream()
        gateway = try await TestGateway.start(
            upstreams: [
                UpstreamConfig(name: "u", endpoints: [endpoint(upstream)]),
                UpstreamConfig(
                    name: "body", endpoints: [EndpointConfig(address: HostPort(host: "127.0.0.1", port: bodyEcho.port))]
                ),
            ],
            routes: [
                prefixRoute("up", "/up", upstream: "u", rewrite: .stripPrefix("/up")),
                prefixRoute("body", "/body", upstream: "body"),
            ],
            // Short, so a head the gateway wrongly waits on fails the test quickly.
            listener: ListenerConfig(
                name: "t", address: HostPort(host: "127.0.0.1", port: 0),
                timeouts: ListenerTimeouts(headerRead: .seconds(2))))
    }

    override func tearDown() async throws {
        await gateway.stop()
        await upstream.stop()
        await bodyEcho.stop()
        try await clientGroup.shutdownGracefully()
    }

    /// Sends `text` in one write and returns everything the gateway answered before closing.
    private func exchange(_ text: String) async throws -> String {
        let raw = try await RawClient.connect(port: gateway.port, group: clientGroup)
        try await raw.send(text)
        return try await raw.readUntilClosed()
    }

    /// Fails unless every part occurs in `text`, each after the previous one.
    private func assertInOrder(_ text: String, _ parts: [String], file: StaticString = #filePath, line: UInt = #line) {
        var from = text.startIndex
        for part in parts {
            guard let range = text.range(of: part, range: from..<text.endIndex) else {
                return XCTFail(
                    "'\(part)' missing (or out of order) in \(text.debugDescription)", file: file, line: line)
            }
            from = range.upperBound
        }
    }

    private func assertBadRequestAndClosed(_ request: String, file: StaticString = #filePath, line: UInt = #line)
        async throws
    {
        let text = try await exchange(request)  // returns only once the gateway has closed
        XCTAssertTrue(
            text.hasPrefix("HTTP/1.1 400 Bad Request\r\n"), "got \(text.debugDescription)", file: file, line: line)
        XCTAssertTrue(text.contains("\r\nconnection: close\r\n"), text, file: file, line: line)
        XCTAssertTrue(text.contains("\"error\":\"bad_request\""), text, file: file, line: line)
        XCTAssertEqual(text.components(separatedBy: "HTTP/1.1 ").count, 2, text, file: file, line: line)
        XCTAssertEqual(upstream.requests, 0, file: file, line: line)
    }

    func testObsFoldIs400AndClosed() async throws {
        try await assertBadRequestAndClosed(
            "GET /up/echo HTTP/1.1\r\nHost: a\r\nX-Folded: one\r\n two\r\n\r\nGET /up/echo HTTP/1.1\r\nHost: a\r\n\r\n")
    }

    func testSpaceBeforeColonIs400() async throws {
        try await assertBadRequestAndClosed("GET /up/echo HTTP/1.1\r\nHost : a\r\n\r\n")
    }

    func testBareLineFeedIs400() async throws {
        try await assertBadRequestAndClosed("GET /up/echo HTTP/1.1\nHost: a\r\nX-A: b\r\n\r\n")
    }

    /// Every line ended by a bare LF: there is never a CRLFCRLF, yet the request is complete and must
    /// be refused, not left waiting for the header timeout.
    func testOnlyBareLineFeedsIs400() async throws {
        try await assertBadRequestAndClosed("GET /up/echo HTTP/1.1\nHost: a\nX-A: b\n\n")
    }

    func testHTTP2RequestLineIs505() async throws {
        let text = try await exchange("GET /up/echo HTTP/2.0\r\nHost: a\r\n\r\n")
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 505 HTTP Version Not Supported\r\n"), text)
        XCTAssertTrue(text.contains("\"error\":\"http_version_not_supported\""), text)
        // The HTTP/2 connection preface gets the same answer.
        let preface = try await exchange("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        XCTAssertTrue(preface.hasPrefix("HTTP/1.1 505 HTTP Version Not Supported\r\n"), preface)
        XCTAssertEqual(upstream.requests, 0)
    }

    func testContentLengthBodyAndPipelinedGetInOneWrite() async throws {
        let text = try await exchange(
            "POST /up/echo/first HTTP/1.1\r\nHost: a\r\nContent-Length: 27\r\n\r\n"
                + "GET /up/smuggled HTTP/1.1\r\n"
                + "GET /up/echo/second HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        assertInOrder(
            text,
            [
                "HTTP/1.1 200 OK\r\n", "method=POST\n", "uri=/echo/first\n", "body=27\n", "HTTP/1.1 200 OK\r\n",
                "method=GET\n", "uri=/echo/second\n", "body=0\n",
            ])
        XCTAssertFalse(text.contains("smuggled"), text)
        XCTAssertEqual(upstream.requests, 2)
    }

    func testChunkedPostInSmallWritesArrivesIntact() async throws {
        let payload = (0..<40).map { "line \($0);" }.joined()
        var body = ""
        var rest = Substring(payload)
        for size in [1, 7, 16, 100, 31] where !rest.isEmpty {
            let part = rest.prefix(size)
            body += String(part.count, radix: 16) + (size == 7 ? ";ext=1" : "") + "\r\n" + String(part) + "\r\n"
            rest = rest.dropFirst(part.count)
        }
        body += String(rest.count, radix: 16) + "\r\n" + String(rest) + "\r\n0\r\nX-Trailer: t\r\n\r\n"
        for (path, expected) in [("/body/echo", [payload]), ("/up/echo", ["body=\(payload.utf8.count)\n"])] {
            let raw = try await RawClient.connect(port: gateway.port, group: clientGroup)
            let request =
                "POST \(path) HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + body
            let bytes = Array(request.utf8)
            for start in stride(from: 0, to: bytes.count, by: 3) {
                try await raw.send(String(decoding: bytes[start..<min(start + 3, bytes.count)], as: UTF8.self))
            }
            let text = try await raw.readUntilClosed()
            XCTAssertTrue(text.hasPrefix("HTTP/1.1 200 OK\r\n"), text)
            for part in expected {
                XCTAssertTrue(text.contains(part), "\(path): \(text)")
            }
        }
        XCTAssertEqual(upstream.requests, 1)
    }

    func testAbsoluteFormTargetIsSentAsOriginFormWithItsAuthorityAsHost() async throws {
        let text = try await exchange(
            "GET http://Other.example/up/echo?q=1 HTTP/1.1\r\nHost: public\r\nConnection: close\r\n\r\n")
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 200 OK\r\n"), text)
        assertInOrder(text, ["uri=/echo?q=1\n", "h:host=Other.example\n", "h:x-forwarded-host=Other.example\n"])
        XCTAssertFalse(text.contains("public"), text)
    }

    func testEarlyAnswerBeforeALargeBodyClosesInsteadOfReadingIt() async throws {
        // Only the head is sent: the gateway must answer and close without waiting for 100 KiB.
        let text = try await exchange("POST /nowhere HTTP/1.1\r\nHost: a\r\nContent-Length: 102400\r\n\r\n")
        assertInOrder(text, ["HTTP/1.1 404 Not Found\r\n", "connection: close\r\n", "\"error\":\"no_route\""])
        XCTAssertEqual(upstream.requests, 0)
    }

    func testNoRouteWithBodyThenValidGetOnTheSameConnection() async throws {
        let looksLikeARequest = "GET /up/admin HTTP/1.1\r\nHost: a\r\n\r\n"
        let bodies = [
            "Content-Length: \(looksLikeARequest.utf8.count)\r\n\r\n\(looksLikeARequest)",
            "Transfer-Encoding: chunked\r\n\r\n\(String(looksLikeARequest.utf8.count, radix: 16))\r\n"
                + "\(looksLikeARequest)\r\n0\r\n\r\n",
        ]
        for body in bodies {
            let text = try await exchange(
                "POST /nowhere HTTP/1.1\r\nHost: a\r\n\(body)"
                    + "GET /up/echo/after HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
            assertInOrder(
                text,
                ["HTTP/1.1 404 Not Found\r\n", "\"error\":\"no_route\"", "HTTP/1.1 200 OK\r\n", "uri=/echo/after\n"])
            XCTAssertFalse(text.contains("uri=/admin"), text)
        }
        XCTAssertEqual(upstream.requests, 2)
    }
}

/// An upstream that answers every request with the exact body bytes it received (after HTTP
/// de-framing), to check a body's content, not only its length, arrives intact.
private final class BodyEchoUpstream: Sendable {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let channel: Channel

    var port: Int { channel.localAddress?.port ?? 0 }

    init() async throws {
        channel = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(BodyEchoHandler())
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
    }

    func stop() async {
        try? await channel.close()
        try? await group.shutdownGracefully()
    }
}

private final class BodyEchoHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    private var body = ByteBuffer()

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            body.clear()
        case .body(var buffer):
            body.writeBuffer(&buffer)
        case .end:
            let headers = HTTPHeaders([("content-length", String(body.readableBytes))])
            context.write(
                wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil
            )
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}
