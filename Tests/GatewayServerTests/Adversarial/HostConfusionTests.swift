import GatewayConfig
import XCTest

/// Attack class: making the gateway route by one host while the upstream believes another
/// (duplicate Host, Host with userinfo or a path, absolute-form targets, missing Host).
final class HostConfusionTests: XCTestCase {
    private var harness: AdversarialHarness!

    override func setUp() async throws {
        harness = try await AdversarialHarness(routes: [
            prefixRoute("internal", "/", upstream: "app", hosts: ["internal.test"]),
            prefixRoute("public", "/", upstream: "app"),
        ])
    }

    override func tearDown() async throws {
        await harness.stop()
    }

    func testAmbiguousHostsAreRefused() async throws {
        let cases: [(String, String)] = [
            ("duplicate Host", "GET / HTTP/1.1\r\nHost: public.test\r\nHost: internal.test\r\n\r\n"),
            ("no Host in HTTP/1.1", "GET / HTTP/1.1\r\nX: y\r\n\r\n"),
            ("space in Host", "GET / HTTP/1.1\r\nHost: internal.test evil\r\n\r\n"),
            ("userinfo in Host", "GET / HTTP/1.1\r\nHost: evil@internal.test\r\n\r\n"),
            ("path in Host", "GET / HTTP/1.1\r\nHost: internal.test/x\r\n\r\n"),
            ("backslash in Host", "GET / HTTP/1.1\r\nHost: internal.test\\x\r\n\r\n"),
            ("port out of range", "GET / HTTP/1.1\r\nHost: internal.test:99999\r\n\r\n"),
            ("port not a number", "GET / HTTP/1.1\r\nHost: internal.test:80x\r\n\r\n"),
            ("unclosed IP literal", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n"),
        ]
        for (label, attack) in cases {
            let outcome = try await harness.send(attack)
            // The head itself is well framed: the 400 leaves the connection usable.
            XCTAssertEqual(outcome.statuses, [400, 200], "\(label): \(outcome.text)")
            XCTAssertEqual(outcome.reachedOrigin.map(\.uri), ["/probe"], label)
        }
    }

    func testAbsoluteFormAuthorityDecidesTheRouteAndTheUpstreamHost() async throws {
        let outcome = try await harness.send("GET http://internal.test/x HTTP/1.1\r\nHost: public.test\r\n\r\n")
        XCTAssertEqual(outcome.statuses, [200, 200], outcome.text)
        let request = try XCTUnwrap(outcome.reachedOrigin.first)
        XCTAssertEqual(request.uri, "/x", "origin-form upstream")
        XCTAssertEqual(request.headers["host"], ["internal.test"], "one Host, the target's authority (RFC 9112 3.2.2)")
        let userinfo = try await harness.send("GET http://evil@internal.test/x HTTP/1.1\r\nHost: a\r\n\r\n")
        assertRefusedAndClosed(userinfo, 400, "userinfo in an absolute-form target")
    }

    func testHostsThatAreValidAreServed() async throws {
        for host in ["internal.test:8080", "[::1]:8080", "127.0.0.1", "xn--bcher-kva.test"] {
            let outcome = try await harness.send("GET /ok HTTP/1.1\r\nHost: \(host)\r\n\r\n")
            XCTAssertEqual(outcome.statuses, [200, 200], "\(host): \(outcome.text)")
        }
        // HTTP/1.0 needs no Host (RFC 1945): served by a route for any host, then closed.
        let old = try await harness.send("GET /old HTTP/1.0\r\n\r\n")
        XCTAssertEqual(old.statuses, [200], old.text)
        XCTAssertEqual(old.reachedOrigin.map(\.uri), ["/old"])
    }
}
