import GatewayConfig
import NIOCore
import NIOHTTP1
import NIOPosix
import XCTest

/// Request framing is the gateway's own: whatever the client writes in its framing headers, the
/// upstream sees exactly one request per client request. Found in review; kept as regressions.
final class FramingRegressionTests: XCTestCase {
    private var upstream: TestUpstream!
    private var gateway: TestGateway!
    private let clientGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    override func setUp() async throws {
        upstream = try await TestUpstream()
        gateway = try await TestGateway.start(
            upstreams: [UpstreamConfig(name: "u", endpoints: [endpoint(upstream)])],
            routes: [prefixRoute("up", "/up", upstream: "u", rewrite: .stripPrefix("/up"))])
    }

    override func tearDown() async throws {
        await gateway.stop()
        await upstream.stop()
        try await clientGroup.shutdownGracefully()
    }

    func testConnectionHeaderCannotStripContentLength() async throws {
        let smuggled = "GET /admin HTTP/1.1\r\nHost: internal\r\n\r\n"
        let raw = try await RawClient.connect(port: gateway.port, group: clientGroup)
        try await raw.send(
            "GET /up/echo HTTP/1.1\r\nHost: a\r\nContent-Length: \(smuggled.utf8.count)\r\n"
                + "Connection: content-length\r\n\r\n\(smuggled)"
                + "GET /up/second HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        let text = try await raw.readUntilClosed()
        XCTAssertTrue(text.contains("body=\(smuggled.utf8.count)\n"), text)
        XCTAssertTrue(text.contains("uri=/second\n"), text)
        XCTAssertFalse(text.contains("uri=/admin"), text)
        XCTAssertEqual(upstream.requests, 2)
    }

    func testUnsupportedTransferCodingIs501() async throws {
        let raw = try await RawClient.connect(port: gateway.port, group: clientGroup)
        try await raw.send(
            "POST /up/upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
        let text = try await raw.readUntilClosed()
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 501 Not Implemented\r\n"), text)
        XCTAssertEqual(upstream.requests, 0)
    }

    func testChunkedInAnyCaseIsReframedAsChunked() async throws {
        let raw = try await RawClient.connect(port: gateway.port, group: clientGroup)
        try await raw.send(
            "POST /up/echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\nConnection: close\r\n\r\n"
                + "5\r\nhello\r\n0\r\n\r\n")
        let text = try await raw.readUntilClosed()
        XCTAssertTrue(text.contains("h:transfer-encoding=chunked\n"), text)
        XCTAssertTrue(text.contains("body=5\n"), text)
        XCTAssertEqual(upstream.requests, 1)
    }

    func testConflictingContentLengthsAre400() async throws {
        let raw = try await RawClient.connect(port: gateway.port, group: clientGroup)
        try await raw.send("POST /up/upload HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd")
        let text = try await raw.readUntilClosed()
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 400 Bad Request\r\n"), text)
        XCTAssertEqual(upstream.requests, 0)
    }

    func testConnectionHostCannotStripHost() async throws {
        let client = try await TestClient.connect(port: gateway.port, group: clientGroup)
        let response = try await client.request(
            .GET, "/up/echo", headers: [("host", "api.test"), ("connection", "host")])
        XCTAssertTrue(response.bodyText.contains("h:host=api.test\n"), response.bodyText)
        await client.close()
    }

    /// A local answer to a pipelined request must come after the chunked response before it has
    /// been terminated, not inside it.
    func testLocalAnswerPipelinedBehindChunkedResponseStaysOutside() async throws {
        let raw = try await RawClient.connect(port: gateway.port, group: clientGroup)
        try await raw.send(
            "GET /up/chunked HTTP/1.1\r\nHost: a\r\n\r\n"
                + "GET /no-route HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        let text = try await raw.readUntilClosed()
        let terminator = try XCTUnwrap(text.range(of: "\r\n0\r\n\r\n"), text)
        let notFound = try XCTUnwrap(text.range(of: "HTTP/1.1 404 Not Found"), text)
        XCTAssertLessThan(terminator.lowerBound, notFound.lowerBound, text)
        XCTAssertTrue(text.contains("one,two,three") || text.contains("three"), text)
    }

    func testNoContentAndNotModifiedHaveNoBodyAndKeepTheConnection() async throws {
        let client = try await TestClient.connect(port: gateway.port, group: clientGroup)
        let noContent = try await client.request(.GET, "/up/status/204")
        XCTAssertEqual(noContent.status, .noContent)
        XCTAssertEqual(noContent.body.readableBytes, 0)
        let notModified = try await client.request(.GET, "/up/status/304")
        XCTAssertEqual(notModified.status, .notModified)
        XCTAssertEqual(notModified.body.readableBytes, 0)
        // The same client connection and the same upstream connection carry on.
        let after = try await client.request(.GET, "/up/echo")
        XCTAssertTrue(after.bodyText.contains("uri=/echo\n"), after.bodyText)
        XCTAssertEqual(upstream.connectionsAccepted, 1)
        await client.close()
    }
}
