import Foundation
import GatewayConfig
import NIOCore
import NIOPosix
import XCTest

@testable import GatewayServer

/// HTTPS to upstreams: verification against a configured CA, SNI, a wrong CA (502), verification
/// turned off, and a client certificate for mTLS.
final class UpstreamTLSTests: XCTestCase {
    private let clientGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    override func tearDown() async throws {
        try await clientGroup.shutdownGracefully()
    }

    private func get(_ tls: UpstreamTLSConfig, upstream: TLSUpstream) async throws -> (TestResponse, PrometheusSamples)
    {
        let gateway = try await TestGateway.start(
            upstreams: [
                UpstreamConfig(
                    name: "secure",
                    endpoints: [EndpointConfig(address: HostPort(host: "127.0.0.1", port: upstream.port))],
                    retries: RetryConfig(attempts: 0), tls: tls)
            ],
            routes: [prefixRoute("all", "/", upstream: "secure")])
        let client = try await TestClient.connect(port: gateway.port, group: clientGroup)
        let response = try await client.request(.GET, "/")
        await client.close()
        let samples = PrometheusSamples(await gateway.server.metricsText())
        await gateway.stop()
        return (response, samples)
    }

    /// A second, unrelated CA: its certificates must not be trusted for the dev CA's upstream.
    private func otherCA() throws -> String {
        try DevCertificates.generate() + "/ca.crt"
    }

    func testVerifiedHTTPSToAnUpstreamByAddressAndByName() async throws {
        let upstream = try await TLSUpstream()
        let ca = try DevCertificates.path("ca.crt")
        let (byAddress, _) = try await get(UpstreamTLSConfig(caPath: ca), upstream: upstream)
        XCTAssertEqual(byAddress.status, .ok)
        XCTAssertEqual(byAddress.bodyText, "tls-upstream")
        let (byName, _) = try await get(
            UpstreamTLSConfig(caPath: ca, serverName: "origin.example.test"), upstream: upstream)
        XCTAssertEqual(byName.status, .ok)
        await upstream.stop()
    }

    func testAnUntrustedCertificateOrWrongNameIs502WithoutAnAnswerFromTheUpstream() async throws {
        let upstream = try await TLSUpstream()
        let (wrongCA, samples) = try await get(UpstreamTLSConfig(caPath: try otherCA()), upstream: upstream)
        XCTAssertEqual(wrongCA.status, .badGateway)
        XCTAssertTrue(wrongCA.bodyText.contains("\"error\":\"upstream_tls_failed\""), wrongCA.bodyText)
        XCTAssertEqual(samples.value("gateway_upstream_errors_total", ["upstream": "secure", "kind": "tls"]), 1)
        // A certificate that names hosts only (no IP address): the name asked for must be on it.
        let named = try await TLSUpstream(certificate: "api")
        let ca = try DevCertificates.path("ca.crt")
        let (wrongName, _) = try await get(
            UpstreamTLSConfig(caPath: ca, serverName: "origin.example.test"), upstream: named)
        XCTAssertEqual(wrongName.status, .badGateway, "the certificate does not name the host asked for")
        let (rightName, _) = try await get(
            UpstreamTLSConfig(caPath: ca, serverName: "v1.api.example.test"), upstream: named)
        XCTAssertEqual(rightName.status, .ok)
        let (noName, _) = try await get(UpstreamTLSConfig(caPath: ca), upstream: named)
        XCTAssertEqual(noName.status, .badGateway, "by address, a certificate without that address fails")
        await named.stop()
        let (unverified, _) = try await get(UpstreamTLSConfig(verify: false), upstream: upstream)
        XCTAssertEqual(unverified.status, .ok, "verify: false accepts any certificate (and says so in the log)")
        await upstream.stop()
    }

    func testAClientCertificateForMutualTLS() async throws {
        let upstream = try await TLSUpstream(requireClientCertificate: true)
        let ca = try DevCertificates.path("ca.crt")
        let (without, _) = try await get(UpstreamTLSConfig(caPath: ca), upstream: upstream)
        XCTAssertEqual(without.status, .badGateway, "the upstream wants a client certificate")
        XCTAssertTrue(without.bodyText.contains("upstream_tls_failed"), without.bodyText)
        let (with, _) = try await get(
            UpstreamTLSConfig(
                caPath: ca, certificatePath: try DevCertificates.path("client.crt"),
                keyPath: try DevCertificates.path("client.key")),
            upstream: upstream)
        XCTAssertEqual(with.status, .ok)
        XCTAssertEqual(with.header("x-client"), "gateway-client")
        await upstream.stop()
    }

    func testBadUpstreamTLSFilesAreClearErrors() throws {
        let configuration = GatewayConfiguration(
            node: NodeConfig(id: "t"),
            listeners: [ListenerConfig(name: "l", address: HostPort(host: "127.0.0.1", port: 0))],
            upstreams: [
                UpstreamConfig(
                    name: "secure", endpoints: [EndpointConfig(address: HostPort(host: "127.0.0.1", port: 9))],
                    tls: UpstreamTLSConfig(caPath: "/nonexistent/ca.crt"))
            ], routes: [prefixRoute("all", "/", upstream: "secure")])
        XCTAssertThrowsError(try GatewayServer.validateTLS(configuration)) { error in
            XCTAssertEqual(
                "\(error)", "upstream 'secure': cannot use ca '/nonexistent/ca.crt': no such file or not readable")
        }
    }
}
