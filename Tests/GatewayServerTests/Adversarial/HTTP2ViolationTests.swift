import GatewayConfig
import NIOCore
import NIOHPACK
import NIOHTTP2
import XCTest

@testable import GatewayServer

/// Malformed HTTP/2 requests (RFC 9113 8.2 and 8.3), sent frame by frame with the client's own
/// validation off. Each must end its stream without reaching the upstream, and the connection must
/// stay usable for the next stream: one bad request must not cost the other streams theirs.
final class HTTP2ViolationTests: XCTestCase {
    private var upstream: TestUpstream?
    private var gateway: TestGateway?
    private var client: RawHTTP2Client?
    private var nextStream = 1

    override func setUp() async throws {
        let upstream = try await TestUpstream(name: "app")
        self.upstream = upstream
        let gateway = try await TestGateway.start(
            upstreams: [UpstreamConfig(name: "u", endpoints: [endpoint(upstream)])],
            routes: [prefixRoute("all", "/api/", upstream: "u", rewrite: .stripPrefix("/api"))],
            listener: ListenerConfig(name: "clear", address: HostPort(host: "127.0.0.1", port: 0), protocols: [.h2c]))
        self.gateway = gateway
        client = try await RawHTTP2Client(port: gateway.port, validatesHeaders: false)
    }

    override func tearDown() async throws {
        try await client?.close()
        await gateway?.stop()
        await upstream?.stop()
    }

    private static let valid: [(String, String)] = [
        (":method", "GET"), (":scheme", "http"), (":authority", "edge.test"), (":path", "/api/echo"),
    ]

    /// How the stream ended: `reset PROTOCOL_ERROR`, or `status N` and the body.
    private func send(_ fields: [(String, String)], body: String? = nil, endStream: Bool = true) async throws -> String
    {
        guard let client else { throw CancellationError() }
        let stream = nextStream
        nextStream += 2
        let headers = HPACKHeaders(fields)
        if let body {
            client.send(stream, .headers(.init(headers: headers)))
            client.send(stream, .data(.init(data: .byteBuffer(ByteBuffer(string: body)), endStream: true)))
        } else {
            client.send(stream, .headers(.init(headers: headers, endStream: endStream)))
        }
        let frames = try await client.response(stream)
        if case .rstStream(let code) = frames.last { return "reset \(Self.name(of: code))" }
        if case .goAway(_, let code, _) = frames.last { return "goaway \(Self.name(of: code))" }
        guard case .headers(let head) = frames.first, let status = head.headers.first(name: ":status") else {
            return "unexpected frames \(frames)"
        }
        let text = frames.reduce(into: "") { text, frame in
            if case .data(let data) = frame, case .byteBuffer(let bytes) = data.data { text += String(buffer: bytes) }
        }
        return "status \(status) \(text)"
    }

    /// Sends each case, asserts it was refused (a reset, or the status given), then asserts that a
    /// valid request on the same connection is still served and that no refused one reached the upstream.
    private func assertRefused(
        _ cases: [(label: String, fields: [(String, String)])], with expected: String = "reset protocolError",
        file: StaticString = #filePath, line: UInt = #line
    ) async throws {
        let before = upstream?.requests ?? 0
        for (label, fields) in cases {
            let outcome = try await send(fields)
            XCTAssertTrue(outcome.hasPrefix(expected), "\(label): \(outcome)", file: file, line: line)
        }
        XCTAssertEqual(
            upstream?.requests ?? 0, before, "a refused request reached the upstream", file: file, line: line)
        let probe = try await send(Self.valid)
        XCTAssertTrue(probe.hasPrefix("status 200"), "the connection is still usable: \(probe)", file: file, line: line)
    }

    private static func name(of code: HTTP2ErrorCode) -> String {
        switch code {
        case .protocolError: "protocolError"
        case .cancel: "cancel"
        case .noError: "noError"
        default: "\(code)"
        }
    }

    private static func without(_ name: String) -> [(String, String)] { valid.filter { $0.0 != name } }

    func testMissingDuplicateEmptyOrUnknownPseudoHeadersAreMalformed() async throws {
        try await assertRefused([
            ("no :method", Self.without(":method")),
            ("no :scheme", Self.without(":scheme")),
            ("no :path", Self.without(":path")),
            ("empty :path", Self.without(":path") + [(":path", "")]),
            ("two :path", Self.valid + [(":path", "/api/other")]),
            ("two :method", Self.valid + [(":method", "POST")]),
            ("unknown pseudo-header", Self.valid + [(":protocol-x", "1")]),
            ("a response pseudo-header", Self.valid + [(":status", "200")]),
            ("a pseudo-header after a regular field", [(":method", "GET"), ("x-a", "1")] + Self.without(":method")),
        ])
    }

    func testConnectionSpecificFieldsAreMalformed() async throws {
        try await assertRefused([
            ("connection", Self.valid + [("connection", "keep-alive")]),
            ("keep-alive", Self.valid + [("keep-alive", "timeout=5")]),
            ("proxy-connection", Self.valid + [("proxy-connection", "keep-alive")]),
            ("transfer-encoding", Self.valid + [("transfer-encoding", "chunked")]),
            ("upgrade", Self.valid + [("upgrade", "h2c")]),
            ("te other than trailers", Self.valid + [("te", "gzip")]),
        ])
        // `te: trailers` is the one allowed value (gRPC sends it).
        let trailers = try await send(Self.valid + [("te", "trailers")])
        XCTAssertTrue(trailers.hasPrefix("status 200"), trailers)
    }

    func testFieldNamesAndValuesThatCouldSplitAnHTTP1RequestAreMalformed() async throws {
        try await assertRefused([
            ("uppercase name", Self.valid + [("X-Upper", "1")]),
            ("space in a name", Self.valid + [("x a", "1")]),
            ("colon in a name", Self.valid + [("x:a", "1")]),
            ("CRLF in a value", Self.valid + [("x-a", "1\r\nx-injected: yes")]),
            ("LF in a value", Self.valid + [("x-a", "1\nx-injected: yes")]),
            ("NUL in a value", Self.valid + [("x-a", "1\u{0}2")]),
            ("CRLF in :path", Self.without(":path") + [(":path", "/api/echo HTTP/1.1\r\nx-injected: yes")]),
            ("space in :path", Self.without(":path") + [(":path", "/api/echo x")]),
            ("CRLF in :method", Self.without(":method") + [(":method", "GET\r\nx-injected: yes")]),
            ("CRLF in :authority", Self.without(":authority") + [(":authority", "edge.test\r\nx-injected: yes")]),
        ])
    }

    func testAContentLengthTheDataDoesNotMatchIsMalformed() async throws {
        let before = upstream?.completedRequests ?? 0
        let longer = try await send(
            [(":method", "POST")] + Self.without(":method") + [("content-length", "10")], body: "short")
        XCTAssertEqual(longer, "reset protocolError")
        let shorter = try await send(
            [(":method", "POST")] + Self.without(":method") + [("content-length", "2")], body: "longer")
        XCTAssertEqual(shorter, "reset protocolError")
        // The head goes upstream before the body's length is known to be wrong; the upstream sees
        // that request break off (the exchange is abandoned), never a whole one to answer.
        XCTAssertEqual(upstream?.completedRequests ?? 0, before)
        let probe = try await send(Self.valid)
        XCTAssertTrue(probe.hasPrefix("status 200"), probe)
    }

    /// The path is normalised as for HTTP/1.1 before routing, and the same tricks are refused.
    func testPathsAreNormalisedOrRefusedAsForHTTP1() async throws {
        let traversal = try await send(Self.without(":path") + [(":path", "/api/x/../echo")])
        XCTAssertTrue(traversal.contains("uri=/echo\n"), traversal)
        let encoded = try await send(Self.without(":path") + [(":path", "/api/%65cho")])
        XCTAssertTrue(encoded.contains("uri=/echo\n"), encoded)
        let before = upstream?.requests ?? 0
        for path in ["/api/a%2Fb", "/api/a%5cb", "/api/../../etc/passwd", "/api/a\\b", "/api/%zz"] {
            let outcome = try await send(Self.without(":path") + [(":path", path)])
            // A 400 as over HTTP/1.1. It used to be lost: the stream was closed before NIOHTTP2
            // had written the answer, and the client saw RST_STREAM CANCEL.
            XCTAssertTrue(outcome.hasPrefix("status 400"), "\(path): \(outcome)")
        }
        XCTAssertEqual(upstream?.requests ?? 0, before)
        let badAuthority = try await send(Self.without(":authority") + [(":authority", "a b")])
        XCTAssertTrue(badAuthority.hasPrefix("status 400") || badAuthority == "reset protocolError", badAuthority)
        let probe = try await send(Self.valid)
        XCTAssertTrue(probe.hasPrefix("status 200"), probe)
    }

    /// A response without a length ends when the upstream closes; over HTTP/2 that close becomes
    /// END_STREAM. With the client's flow-control window full at that moment, the rest of the body
    /// and END_STREAM must wait for WINDOW_UPDATE, not be dropped with RST_STREAM CANCEL (which
    /// they were until the bridge waited for END_STREAM to be written before closing the stream).
    func testACloseDelimitedBodyLargerThanTheWindowArrivesWhole() async throws {
        let size = 200_000
        let origin = try await RawUpstream(
            answer: "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\n" + String(repeating: "z", count: size),
            closesAfterAnswer: true)
        let gateway = try await TestGateway.start(
            upstreams: [
                UpstreamConfig(
                    name: "raw", endpoints: [EndpointConfig(address: HostPort(host: "127.0.0.1", port: origin.port))])
            ],
            routes: [prefixRoute("all", "/", upstream: "raw")],
            listener: ListenerConfig(name: "clear", address: HostPort(host: "127.0.0.1", port: 0), protocols: [.h2c]))
        let client = try await RawHTTP2Client(port: gateway.port)
        do {
            client.send(1, .headers(.init(headers: HPACKHeaders(Self.valid), endStream: true)))
            // The initial window (65,535 bytes) is used up; by now the upstream has long closed.
            try await client.dataReceived(1, atLeast: 65_535)
            client.send(1, .windowUpdate(windowSizeIncrement: 1 << 20))
            client.send(0, .windowUpdate(windowSizeIncrement: 1 << 20))
            let frames = try await client.response(1)
            let received = frames.reduce(0) { total, frame in
                if case .data(let data) = frame { return total + data.data.readableBytes }
                return total
            }
            if case .rstStream(let code) = frames.last { XCTFail("reset with \(code) after \(received) bytes") }
            XCTAssertEqual(received, size)
        } catch {
            XCTFail("\(error)")
        }
        try await client.close()
        await gateway.stop()
        await origin.stop()
    }
}
