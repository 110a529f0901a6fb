import GatewayConfig
import NIOCore
import NIOHTTP1
import NIOPosix
import XCTest

/// Upstreams that misbehave on the wire: the gateway answers 502 or closes, and never lets one
/// response's bytes leak into the next exchange.
final class HostileUpstreamTests: XCTestCase {
    private let clientGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    override func tearDown() async throws {
        try await clientGroup.shutdownGracefully()
    }

    private func gateway(for upstream: RawUpstream) async throws -> TestGateway {
        try await TestGateway.start(
            upstreams: [
                UpstreamConfig(
                    name: "raw", endpoints: [EndpointConfig(address: HostPort(host: "127.0.0.1", port: upstream.port))])
            ],
            routes: [prefixRoute("all", "/", upstream: "raw")], eventLoops: 1)
    }

    func testConflictingContentLengthIs502() async throws {
        let upstream = try await RawUpstream(
            answer: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!")
        let gateway = try await gateway(for: upstream)
        let client = try await TestClient.connect(port: gateway.port, group: clientGroup)
        let response = try await client.request(.GET, "/")
        XCTAssertEqual(response.status, .badGateway)
        XCTAssertTrue(response.bodyText.contains("\"error\":\"bad_gateway\""), response.bodyText)
        await client.close()
        await gateway.stop()
        await upstream.stop()
    }

    func testBytesBeyondTheFramedBodyNeverReachTheNextExchange() async throws {
        // Content-Length says 5, the upstream sends a whole fake response after it.
        let upstream = try await RawUpstream(
            answer: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nEVIL")
        let gateway = try await gateway(for: upstream)
        let client = try await TestClient.connect(port: gateway.port, group: clientGroup)
        for _ in 0..<3 {
            let response = try await client.request(.GET, "/")
            XCTAssertEqual(response.bodyText, "hello")
        }
        // Each exchange needed a fresh connection: the one with stray bytes was not reused.
        XCTAssertEqual(upstream.connectionsAccepted, 3)
        await client.close()
        await gateway.stop()
        await upstream.stop()
    }

    func testMalformedChunkedBodyClosesTheClientConnection() async throws {
        let upstream = try await RawUpstream(
            answer: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\nHTTP/1.1 200 OK\r\n\r\n")
        let gateway = try await gateway(for: upstream)
        let raw = try await RawClient.connect(port: gateway.port, group: clientGroup)
        try await raw.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        let text = try await raw.readUntilClosed()
        // The bare-LF trailer ends the connection (whatever of the first response was already
        // flushed stays), and is never passed on as a second response.
        XCTAssertLessThanOrEqual(text.components(separatedBy: "HTTP/1.1 200 OK").count - 1, 1, text)
        XCTAssertFalse(text.contains("0\r\n\nHTTP"), text)
        await gateway.stop()
        await upstream.stop()
    }

    func testGarbageInsteadOfAResponseIs502() async throws {
        let upstream = try await RawUpstream(answer: "SSH-2.0-OpenSSH_9.2\r\n\r\n")
        let gateway = try await gateway(for: upstream)
        let client = try await TestClient.connect(port: gateway.port, group: clientGroup)
        let response = try await client.request(.GET, "/")
        XCTAssertEqual(response.status, .badGateway)
        await client.close()
        await gateway.stop()
        await upstream.stop()
    }
}
