import GatewayConfig
import NIOCore
import NIOHPACK
import NIOHTTP2
import XCTest

@testable import GatewayServer

/// The request deadlines of HTTP/2 streams, which share one timer per connection
/// (`SharedDeadlineTimer`): each stream times out on its own, the timer re-arms for later
/// deadlines, and streams that finished in time are never touched.
final class HTTP2StreamDeadlineTests: XCTestCase {
    private func request(_ path: String) -> HTTP2Frame.FramePayload {
        .headers(
            .init(
                headers: HPACKHeaders([(":method", "GET"), (":path", path), (":scheme", "http"), (":authority", "a")]),
                endStream: true))
    }

    private func status(_ frames: [HTTP2Frame.FramePayload]) -> String? {
        guard case .headers(let head) = frames.first else { return nil }
        return head.headers.first(name: ":status")
    }

    /// An h2c listener on one event loop (so every stream shares one timer) in front of
    /// `upstream`, with a 300 ms response-header timeout.
    private func gateway(to upstream: TestUpstream, requestTimeout: Duration) async throws -> TestGateway {
        try await TestGateway.start(
            upstreams: [
                UpstreamConfig(
                    name: "slow", endpoints: [endpoint(upstream)],
                    timeouts: UpstreamTimeouts(
                        connect: .seconds(1), responseHeader: .milliseconds(300), request: requestTimeout))
            ],
            routes: [prefixRoute("all", "/", upstream: "slow")],
            listener: ListenerConfig(name: "clear", address: HostPort(host: "127.0.0.1", port: 0), protocols: [.h2c]),
            eventLoops: 1)
    }

    func testEachStreamTimesOutOnItsOwnAndTheRestAreServed() async throws {
        let upstream = try await TestUpstream()
        let gateway = try await gateway(to: upstream, requestTimeout: .seconds(30))
        let client = try await RawHTTP2Client(port: gateway.port)
        let start = ContinuousClock.now
        // Quick streams first: their deadlines are registered and dropped again when they finish.
        for index in 0..<20 {
            client.send(1 + 2 * index, request("/ok\(index)"))
        }
        for index in 0..<20 {
            let frames = try await client.response(1 + 2 * index)
            XCTAssertEqual(status(frames), "200")
        }
        client.send(41, request("/slow/5000"))
        client.send(43, request("/slow/50"))
        let fast = try await client.response(43)
        XCTAssertEqual(status(fast), "200", "a stream beside a slow one is answered")
        let timedOut = try await client.response(41)
        XCTAssertEqual(status(timedOut), "504")
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(3))
        // A deadline after the first one fired: the shared timer armed itself again.
        client.send(45, request("/slow/5000"))
        let second = try await client.response(45)
        XCTAssertEqual(status(second), "504")
        client.send(47, request("/after"))
        let after = try await client.response(47)
        XCTAssertEqual(status(after), "200")
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(4))
        try await client.close()
        await gateway.stop()
        await upstream.stop()
    }

    /// A stream whose response head arrived but whose body is still coming re-arms for its later
    /// request deadline when the shared timer fires for it; a hung stream beside it must still
    /// time out at its own, earlier, deadline (not at the other stream's).
    func testAStreamReArmingForALaterDeadlineDoesNotDelayAnother() async throws {
        let upstream = try await TestUpstream()
        let gateway = try await gateway(to: upstream, requestTimeout: .seconds(60))
        let client = try await RawHTTP2Client(port: gateway.port)
        let start = ContinuousClock.now
        // The raw client grants no stream-level credit beyond the first 64 KiB: this response
        // starts at once and then stalls, its stream waiting on the 60 s request deadline. The
        // connection-level window is opened, so the other stream's answer can get through.
        client.send(0, .windowUpdate(windowSizeIncrement: 1 << 24))
        client.send(1, request("/bytes/5000000"))
        client.send(3, request("/slow/20000"))
        let hung = try await client.response(3)
        XCTAssertEqual(status(hung), "504")
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(3))
        try await client.close()
        await gateway.stop()
        await upstream.stop()
    }
}
