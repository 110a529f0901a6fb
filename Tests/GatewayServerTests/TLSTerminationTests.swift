import Foundation
import GatewayConfig
import NIOCore
import NIOPosix
import NIOSSL
import XCTest

@testable import GatewayServer

/// TLS termination over real sockets with the certificates `certs/gen-dev-certs.sh` makes: SNI
/// picks the certificate, only TLS 1.2/1.3, ALPN, HTTPS redirects, clear errors for bad files,
/// certificates re-read on reload.
final class TLSTerminationTests: XCTestCase {
    private let clientGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private var upstream: TestUpstream?

    override func tearDown() async throws {
        await upstream?.stop()
        try await clientGroup.shutdownGracefully()
    }

    private func tlsListener(
        _ certificates: [TLSCertificateConfig]? = nil, minVersion: ListenerTLSConfig.Version = .tls12
    ) throws -> ListenerConfig {
        let certificates =
            try certificates ?? [
                TLSCertificateConfig(
                    certificatePath: DevCertificates.path("server.crt"), keyPath: DevCertificates.path("server.key")),
                TLSCertificateConfig(
                    certificatePath: DevCertificates.path("api.crt"), keyPath: DevCertificates.path("api.key"),
                    hosts: ["api.example.test", "*.api.example.test"]),
            ]
        return ListenerConfig(
            name: "tls", address: HostPort(host: "127.0.0.1", port: 0),
            tls: ListenerTLSConfig(minVersion: minVersion, certificates: certificates))
    }

    private func start(_ listener: ListenerConfig) async throws -> TestGateway {
        let upstream = try await TestUpstream(name: "app")
        self.upstream = upstream
        return try await TestGateway.start(
            upstreams: [UpstreamConfig(name: "u", endpoints: [endpoint(upstream)])],
            routes: [prefixRoute("all", "/", upstream: "u")], listener: listener)
    }

    private func commonName(_ certificate: NIOSSLCertificate?) -> String? {
        guard let text = certificate?.description, let range = text.range(of: "common_name=") else { return nil }
        return String(text[range.upperBound...].prefix { $0 != ";" && $0 != ">" })
    }

    func testSNIChoosesTheCertificateAndRequestsAreProxiedAsHTTPS() async throws {
        let gateway = try await start(try tlsListener())
        let cases: [(sni: String?, expected: String)] = [
            ("api.example.test", "api.example.test"), ("v2.api.example.test", "api.example.test"),
            ("API.EXAMPLE.TEST", "api.example.test"), ("localhost", "localhost"),
            ("deep.v2.api.example.test", "localhost"), ("unknown.test", "localhost"), (nil, "localhost"),
        ]
        for (sni, expected) in cases {
            let client = try await TLSClient.connect(
                port: gateway.port, group: clientGroup, options: .init(serverName: sni))
            let response = try await client.exchange(
                "GET /hello HTTP/1.1\r\nHost: \(sni ?? "127.0.0.1")\r\nConnection: close\r\n\r\n")
            let certificate = try await client.peerCertificate()
            XCTAssertEqual(commonName(certificate), expected, "SNI \(sni ?? "none")")
            XCTAssertTrue(response.hasPrefix("HTTP/1.1 200"), response)
            XCTAssertTrue(response.contains("h:x-forwarded-proto=https"), "the upstream learns the scheme")
        }
        await gateway.stop()
    }

    func testOnlyTLS12And13AreSpokenAndHTTP1IsNegotiated() async throws {
        let gateway = try await start(try tlsListener())
        let modern = try await TLSClient.connect(
            port: gateway.port, group: clientGroup, options: .init(serverName: "localhost", alpn: ["h2", "http/1.1"]))
        let negotiated = try await modern.negotiatedProtocol()
        XCTAssertEqual(negotiated, "http/1.1", "h2 is not offered until HTTP/2 is served")
        let version = try await modern.tlsVersion()
        XCTAssertEqual(version, .tlsv13)
        _ = try await modern.exchange("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")

        let tls12 = try await TLSClient.connect(
            port: gateway.port, group: clientGroup, options: .init(serverName: "localhost", maximumVersion: .tlsv12))
        _ = try await tls12.negotiatedProtocol()
        let twelve = try await tls12.tlsVersion()
        XCTAssertEqual(twelve, .tlsv12)
        try await tls12.channel.close()

        for old in [TLSVersion.tlsv1, .tlsv11] {
            let legacy = try await TLSClient.connect(
                port: gateway.port, group: clientGroup, options: .init(serverName: "localhost", maximumVersion: old))
            do {
                _ = try await legacy.negotiatedProtocol()
                XCTFail("a \(old) handshake succeeded")
            } catch {
                // Refused, as it should be.
            }
        }
        await gateway.stop()
    }

    func testMinimumVersion13RefusesTLS12() async throws {
        let gateway = try await start(try tlsListener(minVersion: .tls13))
        let tls12 = try await TLSClient.connect(
            port: gateway.port, group: clientGroup, options: .init(serverName: "localhost", maximumVersion: .tlsv12))
        do {
            _ = try await tls12.negotiatedProtocol()
            XCTFail("a TLS 1.2 handshake succeeded against min_version 1.3")
        } catch {}
        await gateway.stop()
    }

    func testCurlOverHTTPSWithTheDevCA() async throws {
        let gateway = try await start(try tlsListener())
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = [
            "-sS", "--http1.1", "--cacert", try DevCertificates.path("ca.crt"), "--resolve",
            "v1.api.example.test:\(gateway.port):127.0.0.1", "-w", "\n%{http_code} %{ssl_verify_result}",
            "https://v1.api.example.test:\(gateway.port)/via-curl",
        ]
        let output = Pipe()
        process.standardOutput = output
        let lines = LogLines()
        try process.run()
        lines.collect(from: output.fileHandleForReading)
        let status = try await lines.firstLine(containing: "200 0")
        XCTAssertEqual(status, "200 0", "curl verified the chain to the dev CA and got a 200")
        await gateway.stop()
    }

    func testACleartextListenerCanRedirectEverythingToHTTPS() async throws {
        let listener = ListenerConfig(
            name: "plain", address: HostPort(host: "127.0.0.1", port: 0), httpsRedirectPort: 8443)
        let gateway = try await start(listener)
        let client = try await TestClient.connect(port: gateway.port, group: clientGroup)
        let get = try await client.request(.GET, "/a/b?x=1", headers: [("host", "shop.example.test:8080")])
        XCTAssertEqual(get.status, .movedPermanently)
        XCTAssertEqual(get.header("location"), "https://shop.example.test:8443/a/b?x=1")
        let post = try await client.request(
            .POST, "/orders", headers: [("host", "[::1]:80")], body: ByteBuffer(string: "{}"))
        XCTAssertEqual(post.status, .permanentRedirect, "308 keeps the method and body")
        XCTAssertEqual(post.header("location"), "https://[::1]:8443/orders")
        let hostile = try await client.request(.GET, "/", headers: [("host", "evil.test/@x")])
        XCTAssertEqual(hostile.status, .badRequest, "a host that is not a name never reaches a Location")
        await client.close()
        XCTAssertEqual(upstream?.requests, 0)
        await gateway.stop()
    }

    func testBadCertificateFilesAreClearErrorsNotCrashes() async throws {
        let directory = try DevCertificates.directory()
        let cases: [(TLSCertificateConfig, String)] = [
            (
                TLSCertificateConfig(certificatePath: directory + "/missing.crt", keyPath: directory + "/server.key"),
                "cannot use certificate '\(directory)/missing.crt': no such file"
            ),
            (
                TLSCertificateConfig(certificatePath: directory + "/server.key", keyPath: directory + "/server.key"),
                "not a PEM certificate"
            ),
            (
                TLSCertificateConfig(certificatePath: directory + "/server.crt", keyPath: directory + "/server.crt"),
                "not a PEM private key"
            ),
            (
                TLSCertificateConfig(certificatePath: directory + "/server.crt", keyPath: directory + "/api.key"),
                "does not match certificate"
            ),
        ]
        for (certificate, expected) in cases {
            let configuration = GatewayConfiguration(
                node: NodeConfig(id: "t"), listeners: [try tlsListener([certificate])],
                upstreams: [
                    UpstreamConfig(
                        name: "u", endpoints: [EndpointConfig(address: HostPort(host: "127.0.0.1", port: 9))])
                ], routes: [prefixRoute("all", "/", upstream: "u")])
            XCTAssertThrowsError(try GatewayServer.validateTLS(configuration)) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(error)")
                XCTAssertTrue("\(error)".hasPrefix("listener 'tls': "), "\(error)")
            }
            let server = GatewayServer(
                snapshot: Snapshot(configuration: configuration, generation: 1), logger: .init(label: "t"))
            do {
                _ = try await server.start()
                XCTFail("started with \(certificate)")
                await server.shutdown(drainTimeout: .seconds(1))
            } catch {
                XCTAssertTrue("\(error)".contains(expected), "\(error)")
            }
        }
    }

    func testAReloadReadsTheCertificateFilesAgain() async throws {
        // The listener's files live in a directory of their own, so the test can "renew" them.
        let directory = NSTemporaryDirectory() + "gateway-renew-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let certificate = directory + "/site.crt"
        let key = directory + "/site.key"
        try FileManager.default.copyItem(atPath: try DevCertificates.path("server.crt"), toPath: certificate)
        try FileManager.default.copyItem(atPath: try DevCertificates.path("server.key"), toPath: key)
        let listener = try tlsListener([TLSCertificateConfig(certificatePath: certificate, keyPath: key)])
        let gateway = try await start(listener)
        func presented() async throws -> String? {
            let client = try await TLSClient.connect(
                port: gateway.port, group: clientGroup, options: .init(serverName: "x"))
            _ = try await client.exchange("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            return commonName(try await client.peerCertificate())
        }
        let before = try await presented()
        XCTAssertEqual(before, "localhost")
        // Renewal: new files at the same paths, same configuration, then a reload.
        try FileManager.default.removeItem(atPath: certificate)
        try FileManager.default.removeItem(atPath: key)
        try FileManager.default.copyItem(atPath: try DevCertificates.path("api.crt"), toPath: certificate)
        try FileManager.default.copyItem(atPath: try DevCertificates.path("api.key"), toPath: key)
        let configuration = gateway.server.snapshot.configuration
        try await gateway.server.reload(to: Snapshot(configuration: configuration, generation: 2))
        let after = try await presented()
        XCTAssertEqual(after, "api.example.test", "the renewed certificate is served without a restart")
        // A broken renewal is refused and the working certificate stays.
        try "not a certificate".write(toFile: certificate, atomically: true, encoding: .utf8)
        do {
            try await gateway.server.reload(to: Snapshot(configuration: configuration, generation: 3))
            XCTFail("a reload with a broken certificate was applied")
        } catch {
            XCTAssertTrue("\(error)".contains("not a PEM certificate"), "\(error)")
        }
        let still = try await presented()
        XCTAssertEqual(still, "api.example.test")
        await gateway.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
