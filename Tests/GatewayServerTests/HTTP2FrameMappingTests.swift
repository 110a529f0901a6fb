import GatewayConfig
import NIOCore
import NIOHPACK
import NIOHTTP2
import XCTest

@testable import GatewayServer

/// How an HTTP/2 stream's frames become the HTTP/1.1 request the proxy forwards, and how the
/// response comes back as frames, seen frame by frame (curl hides framing).
final class HTTP2FrameMappingTests: XCTestCase {
    private var upstream: TestUpstream?

    override func tearDown() async throws {
        await upstream?.stop()
    }

    private func startGateway() async throws -> TestGateway {
        let upstream = try await TestUpstream(name: "app")
        self.upstream = upstream
        return try await TestGateway.start(
            upstreams: [UpstreamConfig(name: "u", endpoints: [endpoint(upstream)])],
            routes: [prefixRoute("all", "/api/", upstream: "u", rewrite: .stripPrefix("/api"))],
            listener: ListenerConfig(
                name: "clear", address: HostPort(host: "127.0.0.1", port: 0), protocols: [.h2c]))
    }

    private func request(_ method: String, _ path: String, _ fields: [(String, String)] = []) -> HPACKHeaders {
        HPACKHeaders([(":method", method), (":path", path), (":scheme", "http"), (":authority", "edge.test")] + fields)
    }

    private func body(of frames: [HTTP2Frame.FramePayload]) -> String {
        frames.reduce(into: "") { text, frame in
            if case .data(let data) = frame, case .byteBuffer(let bytes) = data.data {
                text += String(buffer: bytes)
            }
        }
    }

    func testRequestFieldsAreMappedToHTTP1() async throws {
        let gateway = try await startGateway()
        let client = try await RawHTTP2Client(port: gateway.port)
        // Two cookie fields (HTTP/2 lets clients split them), a GET ended by an empty DATA frame.
        client.send(1, .headers(.init(headers: request("GET", "/api/echo", [("cookie", "a=1"), ("cookie", "b=2")]))))
        client.send(1, .data(.init(data: .byteBuffer(ByteBuffer()), endStream: true)))
        let echoed = body(of: try await client.response(1))
        XCTAssertTrue(echoed.contains("h:cookie=a=1; b=2\n"), "cookies joined into one field: \(echoed)")
        XCTAssertEqual(echoed.components(separatedBy: "h:cookie=").count, 2, echoed)
        XCTAssertTrue(echoed.contains("h:host=edge.test\n"), ":authority becomes Host: \(echoed)")
        XCTAssertFalse(echoed.contains("transfer-encoding"), "an empty DATA end is no chunked body: \(echoed)")
        XCTAssertTrue(echoed.contains("body=0\n"), echoed)

        // A body without content-length reaches the upstream chunked, whole.
        client.send(3, .headers(.init(headers: request("POST", "/api/upload"))))
        client.send(3, .data(.init(data: .byteBuffer(ByteBuffer(string: "hello ")))))
        client.send(3, .data(.init(data: .byteBuffer(ByteBuffer(string: "world")), endStream: true)))
        let uploaded = try await client.response(3)
        XCTAssertEqual(body(of: uploaded), "11")

        // Malformed by RFC 9113 8.3.1, though NIOHTTP2 lets them through: an absolute URI as
        // :path (it would override :authority in routing) and a host naming another authority.
        client.send(5, .headers(.init(headers: request("GET", "http://other.test/api/echo"), endStream: true)))
        let absolute = try await client.response(5)
        guard case .rstStream(.protocolError) = absolute.last else { return XCTFail("not reset: \(absolute)") }
        client.send(7, .headers(.init(headers: request("GET", "/api/echo", [("host", "other.test")]), endStream: true)))
        let otherHost = try await client.response(7)
        guard case .rstStream(.protocolError) = otherHost.last else { return XCTFail("not reset: \(otherHost)") }
        client.send(9, .headers(.init(headers: request("GET", "/api/echo", [("host", "EDGE.test")]), endStream: true)))
        let sameHost = try await client.response(9)
        XCTAssertTrue(body(of: sameHost).contains("h:host=edge.test\n"), "the same authority is fine")
        XCTAssertEqual(upstream?.requests, 3, "neither malformed request reached the upstream")
        try await client.close()
        await gateway.stop()
    }

    func testResponsesAreHeadersAndDataWithEndStreamOnTheLastFrame() async throws {
        let gateway = try await startGateway()
        let client = try await RawHTTP2Client(port: gateway.port)
        client.send(1, .headers(.init(headers: request("GET", "/api/echo"), endStream: true)))
        let frames = try await client.response(1)
        guard case .headers(let head) = frames.first else { return XCTFail("no HEADERS first: \(frames)") }
        XCTAssertEqual(head.headers.first(name: ":status"), "200")
        XCTAssertEqual(head.headers.first(name: "x-upstream"), "app")
        XCTAssertEqual(head.headers.first(name: "x-request-id")?.count, 32)
        XCTAssertFalse(head.headers.contains(name: "connection"))
        XCTAssertFalse(head.endStream)
        // The body's last DATA frame carries END_STREAM: no empty frame after it.
        guard case .data(let last) = frames.last else { return XCTFail("no DATA last: \(frames)") }
        XCTAssertTrue(last.endStream)
        XCTAssertGreaterThan(last.data.readableBytes, 0)
        XCTAssertEqual(frames.count, 2, "\(frames)")

        // HEAD: the head alone, ending the stream.
        client.send(3, .headers(.init(headers: request("HEAD", "/api/echo"), endStream: true)))
        let headOnly = try await client.response(3)
        XCTAssertEqual(headOnly.count, 1, "\(headOnly)")
        guard case .headers(let headResponse) = headOnly.first else { return XCTFail("\(headOnly)") }
        XCTAssertTrue(headResponse.endStream)
        XCTAssertNotNil(headResponse.headers.first(name: "content-length"))

        // A chunked upstream body: DATA per chunk and an empty END_STREAM DATA after the last.
        client.send(5, .headers(.init(headers: request("GET", "/api/chunked"), endStream: true)))
        let chunked = try await client.response(5)
        XCTAssertEqual(body(of: chunked), "one,two,three")
        guard case .headers(let chunkedHead) = chunked.first else { return XCTFail("\(chunked)") }
        XCTAssertFalse(chunkedHead.headers.contains(name: "transfer-encoding"))

        // 204: the head alone, and never a content-length (NIOHTTP2 would refuse to send one).
        client.send(7, .headers(.init(headers: request("GET", "/api/status/204"), endStream: true)))
        let noContent = try await client.response(7)
        guard case .headers(let noContentHead) = noContent.first, noContent.count == 1 else {
            return XCTFail("\(noContent)")
        }
        XCTAssertEqual(noContentHead.headers.first(name: ":status"), "204")
        XCTAssertTrue(noContentHead.endStream)
        XCTAssertFalse(noContentHead.headers.contains(name: "content-length"))
        try await client.close()
        await gateway.stop()
    }
}
