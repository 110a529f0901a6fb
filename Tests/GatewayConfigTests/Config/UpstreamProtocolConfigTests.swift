import GatewayConfig
import XCTest

/// An upstream's `protocol`: http1 (default), h2c (cleartext HTTP/2) or h2 (HTTP/2 over its `tls`).
final class UpstreamProtocolConfigTests: XCTestCase {
    private func file(_ upstream: String) -> String {
        """
        listeners:
          - { name: a, address: 127.0.0.1:8080, protocols: [http1, h2c] }
        upstreams:
          u:
        \(upstream)
        routes:
          - { name: r, upstream: u }
        """
    }

    func testH2CAndH2AreRead() throws {
        let cleartext = try XCTUnwrap(
            parseValid(file("    endpoints: [{ address: 127.0.0.1:9300 }]\n    protocol: h2c")))
        XCTAssertEqual(cleartext.upstreams.first?.protocolVersion, .h2c)
        let overTLS = try XCTUnwrap(
            parseValid(
                file("    endpoints: [{ address: 127.0.0.1:9300 }]\n    protocol: h2\n    tls: { verify: true }")))
        XCTAssertEqual(overTLS.upstreams.first?.protocolVersion, .h2)
        let plain = try XCTUnwrap(parseValid(file("    endpoints: [{ address: 127.0.0.1:9300 }]")))
        XCTAssertEqual(plain.upstreams.first?.protocolVersion, .http1)
    }

    func testMismatchedTLSAndHealthChecksAreErrors() {
        XCTAssertEqual(
            problems(file("    endpoints: [{ address: 127.0.0.1:9300 }]\n    protocol: h2")),
            ["gw.yaml:6: h2 is HTTP/2 over TLS: upstream 'u' needs 'tls' (or use h2c for cleartext)"])
        XCTAssertEqual(
            problems(
                file("    endpoints: [{ address: 127.0.0.1:9300 }]\n    protocol: h2c\n    tls: { verify: true }")),
            ["gw.yaml:6: h2c is cleartext HTTP/2: use h2 for upstream 'u', which has 'tls'"])
        XCTAssertEqual(
            problems(
                file(
                    "    endpoints: [{ address: 127.0.0.1:9300 }]\n    protocol: h2c\n    health_check: { path: /health }"
                )
            ),
            [
                "gw.yaml:7: health_check is not supported for HTTP/2 upstreams yet (checks speak HTTP/1.1); "
                    + "passive checks (circuit_breaker, outlier) work"
            ])
        XCTAssertEqual(
            problems(file("    endpoints: [{ address: 127.0.0.1:9300 }]\n    protocol: h3")),
            ["gw.yaml:6: expected one of http1, h2c, h2, got 'h3'"])
    }
}
