import GatewayConfig
import NIOCore
import NIOHTTP1
import NIOPosix
import XCTest

/// Listener limits and client-side timeouts, over raw sockets.
final class ListenerLimitsTests: XCTestCase {
    private var upstream: TestUpstream!
    private let clientGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    override func setUp() async throws {
        upstream = try await TestUpstream()
    }

    override func tearDown() async throws {
        await upstream.stop()
        try await clientGroup.shutdownGracefully()
    }

    private func start(_ listener: ListenerConfig) async throws -> TestGateway {
        try await TestGateway.start(
            upstreams: [UpstreamConfig(name: "u", endpoints: [endpoint(upstream)])],
            routes: [prefixRoute("all", "/", upstream: "u")], listener: listener)
    }

    private func listener(
        maxConnections: Int = 100, timeouts: ListenerTimeouts = ListenerTimeouts(),
        limits: ListenerLimits = ListenerLimits()
    ) -> ListenerConfig {
        ListenerConfig(
            name: "t", address: HostPort(host: "127.0.0.1", port: 0), maxConnections: maxConnections,
            timeouts: timeouts, limits: limits)
    }

    func testConnectionsOverTheLimitGetA503AndClose() async throws {
        let gateway = try await start(listener(maxConnections: 2))
        let first = try await TestClient.connect(port: gateway.port, group: clientGroup)
        let second = try await TestClient.connect(port: gateway.port, group: clientGroup)
        _ = try await first.request(.GET, "/a")
        _ = try await second.request(.GET, "/b")
        let third = try await RawClient.connect(port: gateway.port, group: clientGroup)
        let refused = try await third.readUntilClosed()
        XCTAssertTrue(refused.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n"), refused)
        XCTAssertTrue(refused.contains("\"error\":\"too_many_connections\""))
        // A slot frees when a connection closes.
        await first.close()
        var admitted = false
        for _ in 0..<50 where !admitted {
            let next = try await TestClient.connect(port: gateway.port, group: clientGroup)
            admitted = (try? await next.request(.GET, "/c"))?.status == .ok
            await next.close()
        }
        XCTAssertTrue(admitted)
        await second.close()
        await gateway.stop()
    }

    func testIdleKeepAliveConnectionIsClosed() async throws {
        let gateway = try await start(listener(timeouts: ListenerTimeouts(idle: .milliseconds(500))))
        let client = try await TestClient.connect(port: gateway.port, group: clientGroup)
        _ = try await client.request(.GET, "/x")
        let start = ContinuousClock.now
        try await client.closeFuture.get()  // the loop sweep runs once a second
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(3))
        await gateway.stop()
    }

    func testSilentConnectionIsClosedAfterHeaderReadTimeout() async throws {
        let gateway = try await start(listener(timeouts: ListenerTimeouts(headerRead: .milliseconds(300))))
        let raw = try await RawClient.connect(port: gateway.port, group: clientGroup)
        try await raw.send("GET / HTTP/1.1\r\nHost: a\r\n")  // never finishes its head
        let text = try await raw.readUntilClosed()
        XCTAssertEqual(text, "")
        await gateway.stop()
    }

    func testStalledRequestBodyGets408() async throws {
        let gateway = try await start(listener(timeouts: ListenerTimeouts(bodyRead: .milliseconds(300))))
        let raw = try await RawClient.connect(port: gateway.port, group: clientGroup)
        try await raw.send("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nonly-part")
        let text = try await raw.readUntilClosed()
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 408 Request Timeout\r\n"), text)
        XCTAssertTrue(text.contains("\"error\":\"request_timeout\""))
        await gateway.stop()
    }

    func testTooManyHeadersIs431() async throws {
        let gateway = try await start(listener(limits: ListenerLimits(maxHeaders: 5)))
        let raw = try await RawClient.connect(port: gateway.port, group: clientGroup)
        let headers = (0..<10).map { "X-H\($0): v\r\n" }.joined()
        try await raw.send("GET / HTTP/1.1\r\nHost: a\r\n\(headers)\r\n")
        let text = try await raw.readUntilClosed()
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 431 Request Header Fields Too Large\r\n"), text)
        await gateway.stop()
    }

    func testOversizedHeaderIs431() async throws {
        let gateway = try await start(listener(limits: ListenerLimits(maxHeaderBytes: 1024)))
        let raw = try await RawClient.connect(port: gateway.port, group: clientGroup)
        try await raw.send("GET / HTTP/1.1\r\nHost: a\r\nX-Big: \(String(repeating: "b", count: 4000))\r\n\r\n")
        let text = try await raw.readUntilClosed()
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 431 Request Header Fields Too Large\r\n"), text)
        await gateway.stop()
    }

    func testMalformedRequestIs400AndClosed() async throws {
        let gateway = try await start(listener())
        let raw = try await RawClient.connect(port: gateway.port, group: clientGroup)
        try await raw.send("GET / HTTP/1.1\r\nHost: a\r\nBad Header Name: x\r\n\r\n")
        let text = try await raw.readUntilClosed()
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 400 Bad Request\r\n"), text)
        XCTAssertTrue(text.contains("\"error\":\"bad_request\""))
        await gateway.stop()
    }

    func testManyPipelinedRequestsAreAllAnsweredInOrder() async throws {
        let gateway = try await start(listener())
        let raw = try await RawClient.connect(port: gateway.port, group: clientGroup)
        let count = 300  // far more than the queue holds before reads pause
        var batch = ""
        for index in 0..<count {
            batch += "GET /n/\(index) HTTP/1.1\r\nHost: a\r\n\(index == count - 1 ? "Connection: close\r\n" : "")\r\n"
        }
        try await raw.send(batch)
        let text = try await raw.readUntilClosed()
        var searchFrom = text.startIndex
        for index in 0..<count {
            let range = try XCTUnwrap(
                text.range(of: "uri=/n/\(index)\n", range: searchFrom..<text.endIndex), "response \(index)")
            searchFrom = range.upperBound
        }
        await gateway.stop()
    }
}
