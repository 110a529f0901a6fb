import GatewayConfig
import NIOCore
import NIOPosix
import XCTest

/// WebSocket (any `Upgrade`) through the gateway: the 101 is forwarded, then the connection is a
/// byte tunnel both ways, against a real WebSocket server (NIO's upgrader and frame codec).
final class WebSocketTunnelTests: XCTestCase {
    private var upstream: WebSocketUpstream!
    private var gateway: TestGateway!
    private let clientGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    override func setUp() async throws {
        upstream = try await WebSocketUpstream()
    }

    override func tearDown() async throws {
        await gateway?.stop()
        await upstream.stop()
        try await clientGroup.shutdownGracefully()
    }

    private func startGateway(idle: Duration = .seconds(60)) async throws {
        gateway = try await TestGateway.start(
            upstreams: [
                UpstreamConfig(
                    name: "ws", endpoints: [EndpointConfig(address: HostPort(host: "127.0.0.1", port: upstream.port))])
            ],
            routes: [prefixRoute("ws", "/", upstream: "ws")],
            listener: ListenerConfig(
                name: "test", address: HostPort(host: "127.0.0.1", port: 0),
                timeouts: ListenerTimeouts(idle: idle)))
    }

    private func connect() async throws -> WebSocketTestClient {
        try await WebSocketTestClient.connect(port: gateway.port, group: clientGroup)
    }

    func testHandshakeMessagesBothWaysAndCloseHandshake() async throws {
        try await startGateway()
        let client = try await connect()
        let head = try await client.handshake().lowercased()
        XCTAssertTrue(head.hasPrefix("http/1.1 101 "), head)
        XCTAssertTrue(head.contains("\r\nupgrade: websocket\r\n"), head)
        XCTAssertTrue(head.contains("\r\nconnection: upgrade\r\n"), head)
        XCTAssertTrue(
            head.contains("\r\nsec-websocket-accept: \(WebSocketTestClient.expectedAccept.lowercased())\r\n"), head)
        XCTAssertTrue(head.contains("\r\nx-upstream: websocket\r\n"), head)
        XCTAssertTrue(head.contains("\r\nx-request-id: "), head)
        XCTAssertFalse(head.contains("content-length") || head.contains("transfer-encoding"), head)

        // The upstream saw the upgrade as the client asked for it, plus the gateway's own fields.
        let seen = try XCTUnwrap(upstream.upgradeHeads.first)
        XCTAssertEqual(seen.headers["upgrade"], ["websocket"])
        XCTAssertEqual(seen.headers["sec-websocket-key"], [WebSocketTestClient.key])
        XCTAssertTrue(seen.headers["connection"].joined().lowercased().contains("upgrade"))
        XCTAssertEqual(seen.headers["x-forwarded-for"], ["127.0.0.1"])

        // Server to client without any prompt, then both ways.
        let greeting = try await client.nextMessage()
        XCTAssertEqual(greeting, .init(opcode: 0x1, payload: Array(WebSocketUpstream.greeting.utf8)))
        for index in 0..<50 {
            try await client.send(text: "message \(index)")
            let echo = try await client.nextMessage()
            XCTAssertEqual(echo.text, "message \(index)")
        }
        // A message far larger than any socket buffer: both directions fill up and wait on each
        // other's backpressure; every byte must come back in order.
        let large = (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 11) }
        try await client.send(binary: large)
        let echoed = try await client.nextMessage()
        XCTAssertEqual(echoed.opcode, 0x2)
        XCTAssertEqual(echoed.payload.count, large.count)
        XCTAssertTrue(echoed.payload == large, "the 3 MiB message came back altered")

        try await client.sendClose()
        let close = try await client.nextMessage()
        XCTAssertEqual(close.opcode, 0x8)
        XCTAssertEqual(close.payload, [0x03, 0xE8])
        // The upstream closed after its close frame: the gateway closes the client's side too.
        try await client.waitUntilClosed()
        try await waitUntil("the upstream saw its tunnel end") { self.upstream.closedTunnels == 1 }
    }

    func testBytesSentWithTheHandshakeReachTheUpstream() async throws {
        try await startGateway()
        let client = try await connect()
        // A client may send its first frame right behind the request, before the 101 arrives.
        let head = try await client.handshake(
            extra: WebSocketTestClient.frame(opcode: 0x1, payload: Array("early".utf8)))
        XCTAssertTrue(head.hasPrefix("HTTP/1.1 101 "), head)
        let greeting = try await client.nextMessage()
        XCTAssertEqual(greeting.text, WebSocketUpstream.greeting)
        let echo = try await client.nextMessage()
        XCTAssertEqual(echo.text, "early")
        // An open tunnel would hold the gateway's graceful shutdown until its drain timeout.
        try await client.channel.close()
    }

    func testUpstreamClosingEndsTheClientConnection() async throws {
        try await startGateway()
        let client = try await connect()
        _ = try await client.handshake()
        _ = try await client.nextMessage()
        // `bye` makes the upstream send a close frame and drop the TCP connection at once.
        try await client.send(text: "bye")
        let echo = try await client.nextMessage()
        XCTAssertEqual(echo.text, "bye")
        let close = try await client.nextMessage()
        XCTAssertEqual(close.opcode, 0x8)
        try await client.waitUntilClosed()
    }

    func testClientDisappearingClosesTheUpstreamConnection() async throws {
        try await startGateway()
        let client = try await connect()
        _ = try await client.handshake()
        _ = try await client.nextMessage()
        XCTAssertEqual(upstream.openTunnels, 1)
        try await client.channel.close()
        try await waitUntil("the upstream saw the tunnel closed") { self.upstream.closedTunnels == 1 }
    }

    func testIdleTunnelIsClosedAfterTheListenersIdleTimeout() async throws {
        try await startGateway(idle: .seconds(1))
        let client = try await connect()
        _ = try await client.handshake()
        _ = try await client.nextMessage()
        // Traffic keeps it open past the timeout...
        for _ in 0..<3 {
            try await Task.sleep(for: .milliseconds(500))
            try await client.send(text: "still here")
            let echo = try await client.nextMessage()
            XCTAssertEqual(echo.text, "still here")
        }
        // ...and silence ends it (the sweep runs once a second).
        let started = ContinuousClock.now
        try await client.waitUntilClosed()
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - started, .milliseconds(900))
        try await waitUntil("the upstream saw the tunnel closed") { self.upstream.closedTunnels == 1 }
    }

    func testRefusedUpgradeIsAnOrdinaryResponseAndTheConnectionStaysUsable() async throws {
        try await startGateway()
        let client = try await TestClient.connect(port: gateway.port, group: clientGroup)
        // The upstream does not upgrade this path: it answers 200, which the client gets as is.
        let refused = try await client.request(
            .GET, "/not-a-socket",
            headers: [
                ("host", "test"), ("upgrade", "websocket"), ("connection", "upgrade"),
                ("sec-websocket-key", WebSocketTestClient.key), ("sec-websocket-version", "13"),
            ])
        XCTAssertEqual(refused.status, .ok)
        XCTAssertEqual(refused.bodyText, "plain /not-a-socket")
        let next = try await client.request(.GET, "/after")
        XCTAssertEqual(next.bodyText, "plain /after")
        // `Upgrade` without `Connection: upgrade` is not an upgrade request: the field is dropped.
        _ = try await client.request(.GET, "/half", headers: [("host", "test"), ("upgrade", "websocket")])
        let half = try XCTUnwrap(upstream.plainHeads.last)
        XCTAssertEqual(half.uri, "/half")
        XCTAssertFalse(half.headers.contains(name: "upgrade"))
        XCTAssertEqual(upstream.openTunnels, 0)
        await client.close()
    }

    func testUpgradeRequestWithABodyIsForwardedWithoutTheUpgrade() async throws {
        try await startGateway()
        let client = try await TestClient.connect(port: gateway.port, group: clientGroup)
        let response = try await client.request(
            .POST, "/with-body", headers: [("host", "test"), ("upgrade", "websocket"), ("connection", "upgrade")],
            body: ByteBuffer(string: "payload"))
        XCTAssertEqual(response.status, .ok)
        let seen = try XCTUnwrap(upstream.plainHeads.last)
        XCTAssertEqual(seen.uri, "/with-body")
        XCTAssertFalse(seen.headers.contains(name: "upgrade"))
        await client.close()
    }
}
