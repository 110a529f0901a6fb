import GatewayConfig
import HTTPCaching
import NIOCore
import NIOHTTP1
import XCTest

@testable import GatewayServer

final class HeaderHandlingTests: XCTestCase {
    private func upstreamHead(
        _ headers: [(String, String)], operations: HeaderOperations = HeaderOperations(), trusted: Bool = false,
        framing: UpstreamRequestWriter.Framing = .none
    ) throws -> String {
        let loopback = try XCTUnwrap(UnitParser.parseCIDR("127.0.0.1/32"))
        let client = ClientAddress(
            try SocketAddress(ipAddress: "127.0.0.1", port: 5000), trustedProxies: trusted ? [loopback] : [])
        let text = "GET /t?q=1 HTTP/1.1\r\n" + headers.map { "\($0.0): \($0.1)\r\n" }.joined() + "\r\n"
        let request = try RequestParser.parseHead(ByteBuffer(string: text), maxFields: 100)
        var bytes = ByteBuffer()
        UpstreamRequestWriter.write(
            request, target: "/t?q=1", operations: operations,
            forwarding: .init(client: client, scheme: "http", via: "1.1 n"), requestID: RequestID(passedOn: "rid"),
            framing: framing, into: &bytes)
        return String(buffer: bytes)
    }

    func testHopByHopFieldsAndThoseNamedByConnectionAreNotForwarded() throws {
        let head = try upstreamHead([
            ("Host", "a"), ("Connection", "close, X-Hop , x-other, host"), ("X-Hop", "1"), ("X-OTHER", "2"),
            ("Keep-Alive", "timeout=5"), ("TE", "trailers"), ("Trailer", "x"), ("Upgrade", "h2c"),
            ("Proxy-Connection", "keep-alive"), ("Transfer-Encoding", "chunked"), ("Content-Length", "5"),
            ("Expect", "100-continue"), ("X-End", "kept"),
        ])
        XCTAssertEqual(
            head,
            "GET /t?q=1 HTTP/1.1\r\nHost: a\r\nX-End: kept\r\nx-forwarded-for: 127.0.0.1\r\n"
                + "x-forwarded-proto: http\r\nx-forwarded-host: a\r\nvia: 1.1 n\r\nx-request-id: rid\r\n\r\n")
    }

    func testAbsoluteFormAuthorityReplacesHostUpstream() throws {
        let client = ClientAddress(try SocketAddress(ipAddress: "127.0.0.1", port: 5000), trustedProxies: [])
        let request = try RequestParser.parseHead(
            ByteBuffer(string: "GET http://other.example/x?y HTTP/1.1\r\nHost: public\r\nX-A: 1\r\n\r\n"), maxFields: 10
        )
        var bytes = ByteBuffer()
        UpstreamRequestWriter.write(
            request, target: request.target, operations: HeaderOperations(),
            forwarding: .init(client: client, scheme: "http", via: "1.1 n"), requestID: RequestID(passedOn: "r"),
            framing: .none, into: &bytes)
        let head = String(buffer: bytes)
        XCTAssertTrue(head.hasPrefix("GET /x?y HTTP/1.1\r\nX-A: 1\r\n"), head)
        XCTAssertTrue(head.contains("\r\nhost: other.example\r\nx-forwarded-host: other.example\r\n"), head)
        XCTAssertFalse(head.contains("public"), head)
    }

    func testFramingIsTheGatewaysOwn() throws {
        let chunked = try upstreamHead([("Host", "a"), ("Transfer-Encoding", "Chunked")], framing: .chunked)
        XCTAssertTrue(chunked.hasSuffix("transfer-encoding: chunked\r\n\r\n"), chunked)
        XCTAssertFalse(chunked.contains("Chunked"))
        let sized = try upstreamHead(
            [("Host", "a"), ("content-length", "7"), ("Connection", "content-length")], framing: .contentLength(7))
        XCTAssertTrue(sized.hasSuffix("content-length: 7\r\n\r\n"), sized)
    }

    func testRouteRulesRemoveSetAndAdd() throws {
        let operations = HeaderOperations(
            set: [HeaderField(name: "X-A", value: "new")], add: [HeaderField(name: "X-C", value: "second")],
            remove: ["x-b"])
        let head = try upstreamHead(
            [("Host", "a"), ("x-a", "old"), ("X-B", "1"), ("X-C", "keep")], operations: operations)
        XCTAssertTrue(head.contains("X-C: keep\r\nX-A: new\r\nX-C: second\r\n"), head)
        XCTAssertFalse(head.contains("old"))
        XCTAssertFalse(head.contains("X-B"))
    }

    func testForwardedHeadersTrustOnlyTrustedProxies() throws {
        let incoming = [
            ("Host", "api.test"), ("X-Forwarded-For", "203.0.113.9"), ("X-Forwarded-For", "198.51.100.1"),
            ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "public.test"), ("Via", "1.0 cdn"),
            ("X-Request-Id", "client-id"),
        ]
        let fromProxy = try upstreamHead(incoming, trusted: true)
        XCTAssertTrue(fromProxy.contains("x-forwarded-for: 203.0.113.9, 198.51.100.1, 127.0.0.1\r\n"), fromProxy)
        XCTAssertTrue(fromProxy.contains("x-forwarded-proto: https\r\n"))
        XCTAssertTrue(fromProxy.contains("x-forwarded-host: public.test\r\n"))
        XCTAssertTrue(fromProxy.contains("via: 1.0 cdn, 1.1 n\r\n"))
        XCTAssertTrue(fromProxy.contains("x-request-id: rid\r\n"))
        XCTAssertFalse(fromProxy.contains("client-id"))

        let spoofed = try upstreamHead(incoming, trusted: false)
        XCTAssertTrue(spoofed.contains("x-forwarded-for: 127.0.0.1\r\n"), spoofed)
        XCTAssertFalse(spoofed.contains("203.0.113.9"))
        XCTAssertTrue(spoofed.contains("x-forwarded-proto: http\r\n"))
        XCTAssertTrue(spoofed.contains("x-forwarded-host: api.test\r\n"))
    }

    func testHeaderNameComparisonIsCaseInsensitive() {
        func nameEquals(_ name: String, _ expected: String) -> Bool {
            ByteBuffer(string: name).withUnsafeReadableBytes {
                FieldBytes.equalsIgnoringCase($0, 0, $0.count, expected)
            }
        }
        XCTAssertTrue(nameEquals("Content-Length", "content-length"))
        XCTAssertTrue(nameEquals("HOST", "host"))
        XCTAssertFalse(nameEquals("hosts", "host"))
        XCTAssertFalse(nameEquals("hos", "host"))
    }

    func testClientAddressBytesAndCIDRMatching() throws {
        let v4 = ClientAddress(try SocketAddress(ipAddress: "10.1.2.3", port: 1), trustedProxies: [])
        XCTAssertEqual(v4.bytes, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 10, 1, 2, 3])
        XCTAssertEqual(v4.ip, "10.1.2.3")
        let ten = try XCTUnwrap(UnitParser.parseCIDR("10.0.0.0/8"))
        let narrow = try XCTUnwrap(UnitParser.parseCIDR("10.1.2.0/31"))
        XCTAssertTrue(ten.contains(v4.bytes))
        XCTAssertFalse(narrow.contains(v4.bytes))
        let v6 = ClientAddress(try SocketAddress(ipAddress: "::1", port: 1), trustedProxies: [])
        XCTAssertEqual(v6.bytes, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])
        XCTAssertTrue(try XCTUnwrap(UnitParser.parseCIDR("::1/128")).contains(v6.bytes))
    }

    func testCookieValueExtraction() {
        XCTAssertEqual(HashKey.cookieValue(named: "session", in: "a=1; session=abc; b=2"), "abc")
        XCTAssertEqual(HashKey.cookieValue(named: "session", in: "session=;x=1"), "")
        XCTAssertNil(HashKey.cookieValue(named: "session", in: "mysession=abc; sessionx=1"))
        XCTAssertNil(HashKey.cookieValue(named: "session", in: ""))
    }

    func testRequestIDsAreHexAndDistinct() {
        var generator = RequestIDGenerator()
        let ids = (0..<1000).map { _ in generator.nextID() }
        XCTAssertEqual(Set(ids).count, 1000)
        for id in ids.prefix(10) {
            XCTAssertEqual(id.count, 32)
            XCTAssertTrue(id.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        }
        XCTAssertTrue(RequestIDGenerator.isAcceptable("req-123_abc.def"))
        XCTAssertFalse(RequestIDGenerator.isAcceptable(""))
        XCTAssertFalse(RequestIDGenerator.isAcceptable("has space"))
        XCTAssertFalse(RequestIDGenerator.isAcceptable("quote\"inside"))
        XCTAssertFalse(RequestIDGenerator.isAcceptable(String(repeating: "a", count: 129)))
    }

    func testRequestIDIsWrittenAsTheSameHexItPrints() {
        let generated = RequestID(random: 0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210)
        XCTAssertEqual(generated.description, "0123456789abcdeffedcba9876543210")
        var buffer = ByteBuffer()
        buffer.writeHead(estimatedSize: 64) { generated.append(to: &$0) }
        XCTAssertEqual(String(buffer: buffer), generated.description)

        let passedOn = RequestID(passedOn: "client-7")
        buffer.clear()
        buffer.writeHead(estimatedSize: 64) { passedOn.append(to: &$0) }
        XCTAssertEqual(String(buffer: buffer), "client-7")
        XCTAssertEqual(passedOn.description, "client-7")
    }

    func testDateHeaderValueIsTheWallClockAsAnHTTPDate() {
        let before = WallClock.nowMilliseconds() / 1000
        let parsed = HTTPDate.parse(WallClock.dateHeaderValue())
        let after = WallClock.nowMilliseconds() / 1000
        XCTAssertNotNil(parsed)
        XCTAssertGreaterThanOrEqual(parsed ?? 0, before)
        XCTAssertLessThanOrEqual(parsed ?? .max, after)
    }

    func testErrorBodyEscapesClientSuppliedText() {
        let body = ErrorResponse.body(for: .noRoute, requestID: "a\"b\\c\u{1}", allocator: ByteBufferAllocator())
        XCTAssertEqual(
            String(buffer: body),
            "{\"error\":\"no_route\",\"message\":\"No route matches this request.\",\"request_id\":\"a\\\"b\\\\c\\u0001\"}\n"
        )
    }

    func testIdempotentMethods() {
        XCTAssertTrue(HTTPMethod.GET.isIdempotent)
        XCTAssertTrue(HTTPMethod.PUT.isIdempotent)
        XCTAssertTrue(HTTPMethod.DELETE.isIdempotent)
        XCTAssertFalse(HTTPMethod.POST.isIdempotent)
        XCTAssertFalse(HTTPMethod.PATCH.isIdempotent)
    }
}
