import GatewayConfig
import XCTest

/// Attack class: heads and bodies past the listener's limits, which must be refused before they
/// cost memory (414 for a request line, 431 for fields, 413 for bodies, checked while streaming).
final class OversizeTests: XCTestCase {
    private var harness: AdversarialHarness!

    override func setUp() async throws {
        harness = try await AdversarialHarness(
            listener: ListenerConfig(
                name: "t", address: HostPort(host: "127.0.0.1", port: 0),
                timeouts: ListenerTimeouts(headerRead: .seconds(2), bodyRead: .seconds(2)),
                limits: ListenerLimits(maxHeaderBytes: 8 * 1024, maxHeaders: 20, maxBody: 1024)))
    }

    override func tearDown() async throws {
        await harness.stop()
    }

    func testOversizeHeadsAndBodiesAreRefusedAndClosed() async throws {
        let line = try await harness.send(
            "GET /" + String(repeating: "a", count: 9000) + " HTTP/1.1\r\nHost: a\r\n\r\n")
        assertRefusedAndClosed(line, 414, "request line over the head limit")
        let field = try await harness.send(
            "GET / HTTP/1.1\r\nHost: a\r\nX: " + String(repeating: "b", count: 9000) + "\r\n\r\n")
        assertRefusedAndClosed(field, 431, "one field over the head limit")
        let many = try await harness.send(
            "GET / HTTP/1.1\r\nHost: a\r\n" + (0..<30).map { "X-\($0): v\r\n" }.joined() + "\r\n")
        assertRefusedAndClosed(many, 431, "more fields than max_headers")
        let declared = try await harness.send(
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2048\r\n\r\n" + String(repeating: "c", count: 2048))
        assertRefusedAndClosed(declared, 413, "Content-Length over max_body")
        let streamed = try await harness.send(
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                + String(repeating: "200\r\n" + String(repeating: "d", count: 512) + "\r\n", count: 4) + "0\r\n\r\n")
        XCTAssertEqual(
            streamed.statuses, [413], "a chunked body over max_body, found while streaming: \(streamed.text)")
    }
}
