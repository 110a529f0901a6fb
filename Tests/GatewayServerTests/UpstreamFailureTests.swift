import GatewayConfig
import NIOCore
import NIOHTTP1
import NIOPosix
import XCTest

final class UpstreamFailureTests: XCTestCase {
    private let clientGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    override func tearDown() async throws {
        try await clientGroup.shutdownGracefully()
    }

    /// A port that was just bound and released: nothing listens there, so connects are refused.
    private func closedPort() async throws -> Int {
        let channel = try await ServerBootstrap(group: clientGroup).bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress?.port ?? 1
        try await channel.close()
        return port
    }

    /// A gateway routing everything to `upstream` with the given response-header timeout.
    private func gatewayWithResponseHeaderTimeout(
        _ timeout: Duration, in upstream: TestUpstream, eventLoops: Int = 2
    ) async throws -> TestGateway {
        try await TestGateway.start(
            upstreams: [
                UpstreamConfig(
                    name: "slow", endpoints: [endpoint(upstream)],
                    timeouts: UpstreamTimeouts(connect: .seconds(1), responseHeader: timeout, request: .seconds(30)))
            ],
            routes: [prefixRoute("all", "/", upstream: "slow")], eventLoops: eventLoops)
    }

    func testUpstreamDownIs502JSON() async throws {
        let port = try await closedPort()
        let gateway = try await TestGateway.start(
            upstreams: [
                UpstreamConfig(
                    name: "down", endpoints: [EndpointConfig(address: HostPort(host: "127.0.0.1", port: port))])
            ],
            routes: [prefixRoute("all", "/", upstream: "down")])
        let client = try await TestClient.connect(port: gateway.port, group: clientGroup)
        let response = try await client.request(.GET, "/x")
        XCTAssertEqual(response.status, .badGateway)
        XCTAssertTrue(response.bodyText.contains("\"error\":\"upstream_unavailable\""), response.bodyText)
        // The client connection survives the upstream failure.
        let again = try await client.request(.GET, "/y")
        XCTAssertEqual(again.status, .badGateway)
        await client.close()
        await gateway.stop()
    }

    func testSlowUpstreamIs504AfterResponseHeaderTimeout() async throws {
        let upstream = try await TestUpstream()
        let gateway = try await gatewayWithResponseHeaderTimeout(.milliseconds(200), in: upstream)
        let client = try await TestClient.connect(port: gateway.port, group: clientGroup)
        let start = ContinuousClock.now
        let response = try await client.request(.GET, "/slow/3000")
        XCTAssertEqual(response.status, .gatewayTimeout)
        XCTAssertTrue(response.bodyText.contains("\"error\":\"upstream_timeout\""))
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(2))
        // A fast request on the same client connection still works: the slow upstream connection
        // was discarded, not reused with a late response pending on it.
        let fast = try await client.request(.GET, "/ok")
        XCTAssertEqual(fast.status, .ok)
        XCTAssertTrue(fast.bodyText.contains("uri=/ok\n"), fast.bodyText)
        await client.close()
        await gateway.stop()
        await upstream.stop()
    }

    /// A request pipelined behind one that timed out starts its own deadlines from when it is
    /// handled, not from when the bytes arrived (a stale clock gave it a deadline already past).
    func testRequestPipelinedBehindATimeoutGetsItsOwnDeadline() async throws {
        let upstream = try await TestUpstream()
        let gateway = try await gatewayWithResponseHeaderTimeout(.milliseconds(600), in: upstream, eventLoops: 1)
        // Two idle pooled connections on the one loop, so the pipelined request is sent at once
        // on one of them (a fresh connect would read the clock anew and hide the bug).
        let warmers = [
            try await TestClient.connect(port: gateway.port, group: clientGroup),
            try await TestClient.connect(port: gateway.port, group: clientGroup),
        ]
        async let warmA = warmers[0].request(.GET, "/slow/200")
        async let warmB = warmers[1].request(.GET, "/slow/200")
        let warmed = try await [warmA, warmB]
        XCTAssertEqual(warmed.map(\.status), [.ok, .ok])
        let raw = try await RawClient.connect(port: gateway.port, group: clientGroup)
        try await raw.send(
            "GET /slow/5000 HTTP/1.1\r\nHost: a\r\n\r\nGET /slow/50 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        let text = try await raw.readUntilClosed()
        let first = try XCTUnwrap(text.range(of: "HTTP/1.1 504 Gateway Timeout\r\n"), text)
        let second = try XCTUnwrap(text.range(of: "HTTP/1.1 200 OK\r\n"), text)
        XCTAssertLessThan(first.lowerBound, second.lowerBound)
        XCTAssertTrue(text.hasSuffix("slow"), text)
        for warmer in warmers { await warmer.close() }
        await gateway.stop()
        await upstream.stop()
    }

    func testRouteRequestTimeoutIs504() async throws {
        let upstream = try await TestUpstream()
        var route = prefixRoute("all", "/", upstream: "u")
        route.requestTimeout = .milliseconds(150)
        let gateway = try await TestGateway.start(
            upstreams: [UpstreamConfig(name: "u", endpoints: [endpoint(upstream)])], routes: [route])
        let client = try await TestClient.connect(port: gateway.port, group: clientGroup)
        let response = try await client.request(.GET, "/slow/2000")
        XCTAssertEqual(response.status, .gatewayTimeout)
        await client.close()
        await gateway.stop()
        await upstream.stop()
    }

    func testUpstreamClosingWithoutAnswerIs502() async throws {
        let upstream = try await TestUpstream()
        let gateway = try await TestGateway.start(
            upstreams: [UpstreamConfig(name: "u", endpoints: [endpoint(upstream)])],
            routes: [prefixRoute("all", "/", upstream: "u")])
        let client = try await TestClient.connect(port: gateway.port, group: clientGroup)
        let response = try await client.request(.POST, "/close", body: ByteBuffer(string: "x"))
        XCTAssertEqual(response.status, .badGateway)
        XCTAssertTrue(response.bodyText.contains("\"error\":\"upstream_reset\""), response.bodyText)
        await client.close()
        await gateway.stop()
        await upstream.stop()
    }

    /// The upstream closes idle keep-alive connections behind our back. Neither an idempotent nor a
    /// non-idempotent request may fail because of it.
    func testConnectionsClosedByUpstreamAreNotReused() async throws {
        let upstream = try await TestUpstream()
        let gateway = try await TestGateway.start(
            upstreams: [UpstreamConfig(name: "u", endpoints: [endpoint(upstream)])],
            routes: [prefixRoute("all", "/", upstream: "u")])
        let client = try await TestClient.connect(port: gateway.port, group: clientGroup)
        for method in [HTTPMethod.POST, .GET, .POST, .PATCH] {
            let first = try await client.request(.GET, "/idle-close")
            XCTAssertEqual(first.status, .ok)
            // Wait for the upstream's close to be seen: the next accept proves the old one is gone.
            let accepted = upstream.connectionsAccepted
            try await Task.sleep(for: .milliseconds(100))
            let response = try await client.request(
                method, "/echo", body: method == .GET ? nil : ByteBuffer(string: "data"))
            XCTAssertEqual(response.status, .ok, "\(method) failed after the upstream closed the idle connection")
            XCTAssertEqual(upstream.connectionsAccepted, accepted + 1)
        }
        await client.close()
        await gateway.stop()
        await upstream.stop()
    }

    func testPipelinedRequestsAreAnsweredInOrder() async throws {
        let upstream = try await TestUpstream()
        let gateway = try await TestGateway.start(
            upstreams: [UpstreamConfig(name: "u", endpoints: [endpoint(upstream)])],
            routes: [prefixRoute("all", "/", upstream: "u")])
        let raw = try await RawClient.connect(port: gateway.port, group: clientGroup)
        // Written in one go: the slow first answer must still come first.
        try await raw.send(
            "GET /slow/100 HTTP/1.1\r\nHost: a\r\n\r\n"
                + "GET /first HTTP/1.1\r\nHost: a\r\n\r\n"
                + "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
                + "GET /nowhere-but-routed HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        let text = try await raw.readUntilClosed()
        let slow = try XCTUnwrap(text.range(of: "slow"), text)
        let first = try XCTUnwrap(text.range(of: "uri=/first"))
        let upload = try XCTUnwrap(text.range(of: "\r\n\r\n3"))
        let last = try XCTUnwrap(text.range(of: "uri=/nowhere-but-routed"))
        XCTAssertLessThan(slow.lowerBound, first.lowerBound)
        XCTAssertLessThan(first.lowerBound, upload.lowerBound)
        XCTAssertLessThan(upload.lowerBound, last.lowerBound)
        XCTAssertEqual(text.components(separatedBy: "HTTP/1.1 200 OK").count - 1, 4)
        await gateway.stop()
        await upstream.stop()
    }

    func testGracefulShutdownLetsInFlightRequestFinish() async throws {
        let upstream = try await TestUpstream()
        let gateway = try await TestGateway.start(
            upstreams: [UpstreamConfig(name: "u", endpoints: [endpoint(upstream)])],
            routes: [prefixRoute("all", "/", upstream: "u")])
        let busy = try await TestClient.connect(port: gateway.port, group: clientGroup)
        let idle = try await TestClient.connect(port: gateway.port, group: clientGroup)
        _ = try await idle.request(.GET, "/warm")
        let inFlight = busy.expectResponse()
        busy.send(.GET, "/slow/300")
        try await Task.sleep(for: .milliseconds(50))  // let the request reach the upstream
        async let stopped: Void = gateway.stop()
        let response = try await inFlight.get()
        XCTAssertEqual(response.status, .ok)
        XCTAssertEqual(response.bodyText, "slow")
        XCTAssertEqual(response.header("connection"), "close")
        try await idle.closeFuture.get()
        await stopped
        // Nothing listens any more.
        do {
            _ = try await TestClient.connect(port: gateway.port, group: clientGroup)
            XCTFail("the listener still accepts after shutdown")
        } catch {}
        await upstream.stop()
    }

    func testConnectionCapPerEndpointQueuesRequests() async throws {
        let upstream = try await TestUpstream()
        let gateway = try await TestGateway.start(
            upstreams: [
                UpstreamConfig(name: "u", endpoints: [endpoint(upstream)], pool: PoolConfig(maxPerEndpoint: 1))
            ],
            routes: [prefixRoute("all", "/", upstream: "u")], eventLoops: 1)
        let clients = [
            try await TestClient.connect(port: gateway.port, group: clientGroup),
            try await TestClient.connect(port: gateway.port, group: clientGroup),
            try await TestClient.connect(port: gateway.port, group: clientGroup),
        ]
        let responses = clients.map { $0.expectResponse() }
        for client in clients { client.send(.GET, "/slow/50") }
        for response in responses {
            let answer = try await response.get()
            XCTAssertEqual(answer.status, .ok)
        }
        XCTAssertEqual(upstream.connectionsAccepted, 1, "the cap of one connection per endpoint was exceeded")
        for client in clients { await client.close() }
        await gateway.stop()
        await upstream.stop()
    }

    func testIdleUpstreamConnectionsAreClosedAfterIdleTimeout() async throws {
        let upstream = try await TestUpstream()
        let gateway = try await TestGateway.start(
            upstreams: [
                UpstreamConfig(
                    name: "u", endpoints: [endpoint(upstream)], pool: PoolConfig(idleTimeout: .milliseconds(300)))
            ],
            routes: [prefixRoute("all", "/", upstream: "u")], eventLoops: 1)
        let client = try await TestClient.connect(port: gateway.port, group: clientGroup)
        _ = try await client.request(.GET, "/first")
        // The pool's sweep runs once a second; by then the connection has been idle > 300 ms.
        try await Task.sleep(for: .milliseconds(1600))
        _ = try await client.request(.GET, "/second")
        XCTAssertEqual(upstream.connectionsAccepted, 2, "an idle connection outlived the pool's idle_timeout")
        await client.close()
        await gateway.stop()
        await upstream.stop()
    }
}
