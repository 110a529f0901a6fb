import GatewayConfig
import NIOCore
import NIOHTTP1
import NIOPosix
import XCTest

final class ProxyBasicsTests: XCTestCase {
    private var upstream: TestUpstream!
    private var gateway: TestGateway!
    private let clientGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    override func setUp() async throws {
        upstream = try await TestUpstream(name: "users")
        let headers = HeaderRules(
            request: HeaderOperations(
                set: [HeaderField(name: "X-Gateway", value: "edge")], add: [HeaderField(name: "X-Added", value: "1")],
                remove: ["x-debug"]),
            response: HeaderOperations(set: [HeaderField(name: "X-Served-By", value: "gw")], remove: ["server"]))
        gateway = try await TestGateway.start(
            upstreams: [UpstreamConfig(name: "users", endpoints: [endpoint(upstream)])],
            routes: [
                prefixRoute("users", "/v1/users", upstream: "users", rewrite: .stripPrefix("/v1"), headers: headers),
                prefixRoute("plain", "/plain", upstream: "users"),
            ])
    }

    override func tearDown() async throws {
        await gateway.stop()
        await upstream.stop()
        try await clientGroup.shutdownGracefully()
    }

    private func connect() async throws -> TestClient {
        try await TestClient.connect(port: gateway.port, group: clientGroup)
    }

    func testProxiesAndRewritesPathKeepingQuery() async throws {
        let client = try await connect()
        let response = try await client.request(.GET, "/v1/users/7?x=1&y=2")
        XCTAssertEqual(response.status, .ok)
        XCTAssertTrue(response.bodyText.contains("uri=/users/7?x=1&y=2\n"), response.bodyText)
        XCTAssertTrue(response.bodyText.contains("method=GET\n"))
        await client.close()
    }

    func testNoRouteIsJSON404WithRequestID() async throws {
        let client = try await connect()
        let response = try await client.request(.GET, "/nowhere")
        XCTAssertEqual(response.status, .notFound)
        XCTAssertEqual(response.header("content-type"), "application/json")
        let requestID = try XCTUnwrap(response.header("x-request-id"))
        XCTAssertEqual(requestID.count, 32)
        XCTAssertEqual(
            response.bodyText,
            "{\"error\":\"no_route\",\"message\":\"No route matches this request.\",\"request_id\":\"\(requestID)\"}\n")
        // The connection stays usable after a gateway-made error.
        let next = try await client.request(.GET, "/plain/after-404")
        XCTAssertEqual(next.status, .ok)
        await client.close()
    }

    func testRequestAndResponseHeaderRules() async throws {
        let client = try await connect()
        let response = try await client.request(
            .GET, "/v1/users", headers: [("Host", "api.test"), ("X-Debug", "1"), ("X-Gateway", "client-value")])
        let body = response.bodyText
        XCTAssertTrue(body.contains("h:x-gateway=edge\n"), body)
        XCTAssertFalse(body.contains("client-value"), body)
        XCTAssertTrue(body.contains("h:x-added=1\n"), body)
        XCTAssertFalse(body.contains("x-debug"), body)
        XCTAssertEqual(response.header("x-served-by"), "gw")
        XCTAssertNil(response.header("server"))
        XCTAssertEqual(response.header("x-upstream"), "users")
        await client.close()
    }

    func testForwardedHeadersFromUntrustedClientAreReplaced() async throws {
        let client = try await connect()
        let response = try await client.request(
            .GET, "/plain",
            headers: [
                ("Host", "api.test"), ("X-Forwarded-For", "6.6.6.6"), ("X-Forwarded-Proto", "https"),
                ("Via", "1.0 somewhere"),
            ])
        let body = response.bodyText
        XCTAssertTrue(body.contains("h:x-forwarded-for=127.0.0.1\n"), body)
        XCTAssertTrue(body.contains("h:x-forwarded-proto=http\n"), body)
        XCTAssertTrue(body.contains("h:x-forwarded-host=api.test\n"), body)
        XCTAssertTrue(body.contains("h:via=1.0 somewhere, 1.1 test-node\n"), body)
        XCTAssertTrue(body.contains("h:host=api.test\n"), body)
        await client.close()
    }

    func testRequestIDIsPassedOnOrGenerated() async throws {
        let client = try await connect()
        let passed = try await client.request(.GET, "/plain", headers: [("Host", "a"), ("X-Request-Id", "abc-123")])
        XCTAssertTrue(passed.bodyText.contains("h:x-request-id=abc-123\n"))
        XCTAssertEqual(passed.header("x-request-id"), "abc-123")
        let generated = try await client.request(.GET, "/plain", headers: [("Host", "a")])
        let id = try XCTUnwrap(generated.header("x-request-id"))
        XCTAssertEqual(id.count, 32)
        XCTAssertTrue(generated.bodyText.contains("h:x-request-id=\(id)\n"))
        // A hostile id (quotes, too long) is not echoed.
        let hostile = try await client.request(
            .GET, "/plain", headers: [("Host", "a"), ("X-Request-Id", String(repeating: "a", count: 300))])
        XCTAssertEqual(hostile.header("x-request-id")?.count, 32)
        await client.close()
    }

    func testHopByHopHeadersAreNotForwarded() async throws {
        let client = try await connect()
        let response = try await client.request(
            .GET, "/plain",
            headers: [
                ("Host", "a"), ("Connection", "keep-alive, X-Secret-Hop"), ("X-Secret-Hop", "1"),
                ("Keep-Alive", "timeout=5"), ("Proxy-Connection", "keep-alive"), ("TE", "trailers"),
                ("Upgrade", "websocket"), ("X-Kept", "yes"),
            ])
        let body = response.bodyText.lowercased()
        for name in ["x-secret-hop", "keep-alive", "proxy-connection", "h:te=", "upgrade", "h:connection="] {
            XCTAssertFalse(body.contains(name), "\(name) was forwarded: \(body)")
        }
        XCTAssertTrue(body.contains("h:x-kept=yes\n"))
        await client.close()
    }

    func testMissingHostIs400() async throws {
        let client = try await connect()
        let response = try await client.request(.GET, "/plain", headers: [])
        XCTAssertEqual(response.status, .badRequest)
        await client.close()
    }

    func testHeadAnd204And304HaveNoBody() async throws {
        let client = try await connect()
        let head = try await client.request(.HEAD, "/plain/echo")
        XCTAssertEqual(head.status, .ok)
        XCTAssertEqual(head.body.readableBytes, 0)
        XCTAssertNotNil(head.header("content-length"))
        let noContent = try await client.request(
            .GET, "/plain/status/204".replacingOccurrences(of: "/plain", with: "/plain"))
        XCTAssertEqual(noContent.status, .ok)  // /plain/status/204 is echoed: path does not start with /status
        await client.close()
    }

    func testConnectionCloseFromClientIsHonoured() async throws {
        let client = try await connect()
        let response = try await client.request(.GET, "/plain", headers: [("Host", "a"), ("Connection", "close")])
        XCTAssertEqual(response.header("connection"), "close")
        try await client.closeFuture.get()
    }

    func testUpstreamConnectionsAreReused() async throws {
        let client = try await connect()
        for _ in 0..<20 {
            let response = try await client.request(.GET, "/plain")
            XCTAssertEqual(response.status, .ok)
        }
        XCTAssertEqual(upstream.connectionsAccepted, 1)
        await client.close()
    }

    func testPostBodyIsForwarded() async throws {
        let client = try await connect()
        let response = try await client.request(.POST, "/plain", body: ByteBuffer(string: "hello world"))
        XCTAssertTrue(response.bodyText.contains("body=11\n"), response.bodyText)
        XCTAssertTrue(response.bodyText.contains("h:content-length=11\n"), response.bodyText)
        await client.close()
    }

    func testChunkedRequestAndResponse() async throws {
        let client = try await connect()
        let response = try await client.request(
            .POST, "/plain", headers: [("Host", "a"), ("Transfer-Encoding", "chunked")],
            body: ByteBuffer(string: "chunky body"))
        XCTAssertTrue(response.bodyText.contains("body=11\n"), response.bodyText)
        XCTAssertTrue(response.bodyText.contains("h:transfer-encoding=chunked\n"), response.bodyText)
        await client.close()
    }

    func testExpectContinueIsAnsweredByTheGateway() async throws {
        let raw = try await RawClient.connect(port: gateway.port, group: clientGroup)
        try await raw.send(
            "POST /plain HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n")
        // The body is only sent after the interim response, as a real client would.
        try await raw.waitFor("100 Continue\r\n\r\n")
        try await raw.send("hello")
        let text = try await raw.readUntilClosed()
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"), text)
        XCTAssertTrue(text.contains("body=5\n"), text)
        XCTAssertFalse(text.lowercased().contains("h:expect"), text)
    }
}
