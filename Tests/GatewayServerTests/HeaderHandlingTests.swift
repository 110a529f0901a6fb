import GatewayConfig
import NIOCore
import NIOHTTP1
import XCTest

@testable import GatewayServer

final class HeaderHandlingTests: XCTestCase {
    func testHopByHopRemovalIncludesFieldsNamedByConnection() {
        let headers = HTTPHeaders([
            ("Host", "a"), ("Connection", "close, X-Hop , x-other"), ("X-Hop", "1"), ("X-OTHER", "2"),
            ("Keep-Alive", "timeout=5"), ("TE", "trailers"), ("Trailer", "x"), ("Upgrade", "h2c"),
            ("Proxy-Connection", "keep-alive"), ("Transfer-Encoding", "chunked"), ("X-End", "kept"),
        ])
        let cleaned = HopByHopHeaders.removing(from: headers)
        XCTAssertEqual(cleaned.map(\.name), ["Host", "X-End"])
        let keepingTE = HopByHopHeaders.removing(from: headers, keepTransferEncoding: true)
        XCTAssertEqual(keepingTE.map(\.name), ["Host", "Transfer-Encoding", "X-End"])
    }

    func testHeadersWithoutHopByHopAreReturnedUnchanged() {
        let headers = HTTPHeaders([("Host", "a"), ("Accept", "*/*"), ("Content-Length", "3")])
        XCTAssertEqual(HopByHopHeaders.removing(from: headers), headers)
    }

    func testHeaderNameComparisonIsCaseInsensitive() {
        XCTAssertTrue(headerNameEquals("Content-Length", lowercase: "content-length"))
        XCTAssertTrue(headerNameEquals("HOST", lowercase: "host"))
        XCTAssertFalse(headerNameEquals("hosts", lowercase: "host"))
        XCTAssertFalse(headerNameEquals("hos", lowercase: "host"))
    }

    func testHeaderOperationsApplyInOrderRemoveSetAdd() {
        var headers = HTTPHeaders([("X-A", "old"), ("X-B", "1"), ("X-C", "keep")])
        let operations = HeaderOperations(
            set: [HeaderField(name: "X-A", value: "new"), HeaderField(name: "X-B", value: "set-after-remove")],
            add: [HeaderField(name: "X-C", value: "second")], remove: ["x-b"])
        operations.apply(to: &headers)
        XCTAssertEqual(headers["X-A"], ["new"])
        XCTAssertEqual(headers["X-B"], ["set-after-remove"])
        XCTAssertEqual(headers["X-C"], ["keep", "second"])
    }

    func testForwardedHeadersTrustOnlyTrustedProxies() throws {
        let loopback = try XCTUnwrap(UnitParser.parseCIDR("127.0.0.1/32"))
        let peer = try SocketAddress(ipAddress: "127.0.0.1", port: 5000)
        let trusted = ClientAddress(peer, trustedProxies: [loopback])
        let untrusted = ClientAddress(peer, trustedProxies: [])
        XCTAssertTrue(trusted.isTrustedProxy)
        XCTAssertFalse(untrusted.isTrustedProxy)

        var fromProxy = HTTPHeaders([("X-Forwarded-For", "203.0.113.9"), ("X-Forwarded-Proto", "https")])
        ForwardedHeaders.apply(to: &fromProxy, client: trusted, originalHost: "api.test", scheme: "http", via: "1.1 n")
        XCTAssertEqual(fromProxy["x-forwarded-for"], ["203.0.113.9, 127.0.0.1"])
        XCTAssertEqual(fromProxy["x-forwarded-proto"], ["https"])
        XCTAssertEqual(fromProxy["via"], ["1.1 n"])

        var spoofed = HTTPHeaders([("X-Forwarded-For", "203.0.113.9"), ("X-Forwarded-Proto", "https")])
        ForwardedHeaders.apply(to: &spoofed, client: untrusted, originalHost: "api.test", scheme: "http", via: "1.1 n")
        XCTAssertEqual(spoofed["x-forwarded-for"], ["127.0.0.1"])
        XCTAssertEqual(spoofed["x-forwarded-proto"], ["http"])
        XCTAssertEqual(spoofed["x-forwarded-host"], ["api.test"])
    }

    func testClientAddressBytesAndCIDRMatching() throws {
        let v4 = ClientAddress(try SocketAddress(ipAddress: "10.1.2.3", port: 1), trustedProxies: [])
        XCTAssertEqual(v4.bytes, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 10, 1, 2, 3])
        XCTAssertEqual(v4.ip, "10.1.2.3")
        let ten = try XCTUnwrap(UnitParser.parseCIDR("10.0.0.0/8"))
        let narrow = try XCTUnwrap(UnitParser.parseCIDR("10.1.2.0/31"))
        XCTAssertTrue(ClientAddress.cidr(ten, contains: v4.bytes))
        XCTAssertFalse(ClientAddress.cidr(narrow, contains: v4.bytes))
        let v6 = ClientAddress(try SocketAddress(ipAddress: "::1", port: 1), trustedProxies: [])
        XCTAssertEqual(v6.bytes, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])
        XCTAssertTrue(ClientAddress.cidr(try XCTUnwrap(UnitParser.parseCIDR("::1/128")), contains: v6.bytes))
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

    func testHTTPDateFormat() {
        XCTAssertEqual(HTTPDate.format(secondsSinceEpoch: 0), "Thu, 01 Jan 1970 00:00:00 GMT")
        XCTAssertEqual(HTTPDate.format(secondsSinceEpoch: 784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT")
        XCTAssertEqual(HTTPDate.format(secondsSinceEpoch: 1_795_307_129), "Sun, 22 Nov 2026 00:25:29 GMT")
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
