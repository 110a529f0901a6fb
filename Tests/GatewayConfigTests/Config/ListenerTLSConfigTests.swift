import XCTest

@testable import GatewayConfig

/// A listener's `tls` and `https_redirect` as the reference writes them, and their mistakes.
final class ListenerTLSConfigTests: XCTestCase {
    func testTheReferenceShapeLandsInTheModel() throws {
        let config = try XCTUnwrap(
            parseValid(
                """
                listeners:
                  - name: public-tls
                    address: 127.0.0.1:8443
                    protocols: [http1]
                    tls:
                      min_version: "1.3"
                      certificates:
                        - { cert: certs/dev/server.crt, key: certs/dev/server.key }
                        - { cert: certs/dev/api.crt, key: certs/dev/api.key, hosts: ["API.example.test", "*.api.example.test"] }
                  - name: redirect
                    address: 127.0.0.1:8081
                    https_redirect: 8443
                upstreams:
                  u: { endpoints: [{ address: 127.0.0.1:9001 }] }
                routes:
                  - { name: r, upstream: u }
                """))
        XCTAssertEqual(
            config.listeners[0].tls,
            ListenerTLSConfig(
                minVersion: .tls13,
                certificates: [
                    TLSCertificateConfig(certificatePath: "certs/dev/server.crt", keyPath: "certs/dev/server.key"),
                    TLSCertificateConfig(
                        certificatePath: "certs/dev/api.crt", keyPath: "certs/dev/api.key",
                        hosts: ["api.example.test", "*.api.example.test"]),
                ]))
        XCTAssertNil(config.listeners[0].httpsRedirectPort)
        XCTAssertNil(config.listeners[1].tls)
        XCTAssertEqual(config.listeners[1].httpsRedirectPort, 8443)
    }

    func testMistakesAreReportedWithTheirLines() {
        XCTAssertEqual(
            problems(
                """
                listeners:
                  - name: a
                    address: 127.0.0.1:8443
                    protocols: [http1, h2c]
                    https_redirect: 443
                    tls:
                      min_version: "1.1"
                      certificates:
                        - { cert: a.crt, key: a.key }
                        - { cert: b.crt }
                        - { cert: c.crt, key: c.key, hosts: ["*", "a..b", "x.test"] }
                        - { cert: d.crt, key: d.key, hosts: [X.test] }
                  - name: b
                    address: 127.0.0.1:8444
                    tls: { certificates: [] }
                    https_redirect: 70000
                """),
            [
                "gw.yaml:4: h2c is cleartext HTTP/2: use h2 on a listener with 'tls'",
                "gw.yaml:5: 'https_redirect' belongs on a cleartext listener, not on one with 'tls'",
                "gw.yaml:7: expected one of 1.2, 1.3, got '1.1'; did you mean '1.2'?",
                "gw.yaml:10: missing required key 'key' in a certificate of listener 'a'",
                "gw.yaml:10: two certificates without 'hosts' in listener 'a' (first at line 9): one is the default",
                "gw.yaml:11: '*' is not a server name (exact, or '*.' and a name)",
                "gw.yaml:11: 'a..b' is not a server name (exact, or '*.' and a name)",
                "gw.yaml:12: server name 'x.test' is already on a certificate (line 11)",
                "gw.yaml:15: 'certificates' must not be empty",
                "gw.yaml:16: 'https_redirect' belongs on a cleartext listener, not on one with 'tls'",
                "gw.yaml:16: 'https_redirect' must be between 1 and 65535, got 70000",
            ])
    }

    func testUpstreamTLSInTheReferenceShapeAndItsMistakes() throws {
        let config = try XCTUnwrap(
            parseValid(
                minimalListeners + """

                    upstreams:
                      origin-static:
                        endpoints: [{ address: 127.0.0.1:9100 }]
                        tls: { verify: true, ca: certs/dev/ca.crt, sni: origin.example.test }
                      mtls:
                        endpoints: [{ address: 127.0.0.1:9101 }]
                        tls: { cert: certs/dev/client.crt, key: certs/dev/client.key }
                    """))
        XCTAssertEqual(
            config.upstreams.first { $0.name == "origin-static" }?.tls,
            UpstreamTLSConfig(verify: true, caPath: "certs/dev/ca.crt", serverName: "origin.example.test"))
        XCTAssertEqual(
            config.upstreams.first { $0.name == "mtls" }?.tls,
            UpstreamTLSConfig(certificatePath: "certs/dev/client.crt", keyPath: "certs/dev/client.key"))
        XCTAssertEqual(
            problems(
                minimalListeners + """

                    upstreams:
                      a:
                        endpoints: [{ address: 127.0.0.1:9100 }]
                        tls: { verify: false, ca: ca.crt, sni: "*.x.test", cert: c.crt }
                    """),
            [
                "gw.yaml:7: a client certificate needs both 'cert' and 'key' in tls of upstream 'a'",
                "gw.yaml:7: 'ca' has no effect with verify: false in tls of upstream 'a'",
                "gw.yaml:7: '*.x.test' is not a server name",
            ])
    }
}

extension ListenerTLSConfigTests {
    func testH2NeedsTLSAndH2CNeedsCleartext() {
        XCTAssertEqual(
            problems(
                """
                listeners:
                  - name: a
                    address: 127.0.0.1:8080
                    protocols: [http1, h2]
                upstreams:
                  u: { endpoints: [{ address: 127.0.0.1:9001 }] }
                routes:
                  - { name: r, upstream: u }
                """),
            ["gw.yaml:4: h2 is HTTP/2 over TLS: the listener needs 'tls' (or use h2c for cleartext)"])
    }
}
