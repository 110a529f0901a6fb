import Foundation
import GatewayConfig
import NIOCore
import NIOPosix
import XCTest

@testable import GatewayServer

/// A director: one gateway in front of regional edges, choosing by the client's region (`geo`),
/// with the region in the access log. Clients "from" other networks come through a trusted proxy
/// (X-Forwarded-For), since every test socket is 127.0.0.1.
final class GeoRoutingTests: XCTestCase {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    override func tearDown() async throws {
        try await group.shutdownGracefully()
    }

    func testTheClientsRegionPicksTheUpstreamAndIsLogged() async throws {
        let us = try await TestUpstream(name: "edge-us-east")
        let eu = try await TestUpstream(name: "edge-eu-west")
        let logPath = NSTemporaryDirectory() + "gateway-geo-\(UUID().uuidString).log"
        defer { try? FileManager.default.removeItem(atPath: logPath) }
        var director = prefixRoute("director", "/", upstream: "us")
        director.upstreamByRegion = ["us-east": "us", "eu-west": "eu"]
        let gateway = try await TestGateway.start(
            GatewayConfiguration(
                node: NodeConfig(id: "director-1"), runtime: RuntimeConfig(eventLoops: 1, drainTimeout: .seconds(5)),
                listeners: [ListenerConfig(name: "test", address: HostPort(host: "127.0.0.1", port: 0))],
                upstreams: [
                    UpstreamConfig(name: "us", endpoints: [endpoint(us)]),
                    UpstreamConfig(name: "eu", endpoints: [endpoint(eu)]),
                ],
                routes: [director], trustedProxies: [try XCTUnwrap(UnitParser.parseCIDR("127.0.0.1/32"))],
                logging: LoggingConfig(accessLog: AccessLogConfig(destination: .file(path: logPath))),
                geo: GeoConfig(
                    defaultRegion: "us-east",
                    regions: [
                        GeoRegion(name: "us-east", networks: [try XCTUnwrap(UnitParser.parseCIDR("203.0.113.0/24"))]),
                        GeoRegion(
                            name: "eu-west",
                            networks: [
                                try XCTUnwrap(UnitParser.parseCIDR("198.51.100.0/24")),
                                try XCTUnwrap(UnitParser.parseCIDR("2001:db8::/32")),
                            ]),
                    ])))
        let client = try await TestClient.connect(port: gateway.port, group: group)
        func servedBy(forwardedFor: String?) async throws -> String {
            var headers = [("host", "cdn.test")]
            if let forwardedFor { headers.append(("x-forwarded-for", forwardedFor)) }
            if forwardedFor == "203.0.113.9" {
                headers.append(("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"))
            }
            let body = try await client.request(.GET, "/obj", headers: headers).bodyText
            return body.split(separator: "\n").first.map(String.init) ?? body
        }
        let fromEurope = try await servedBy(forwardedFor: "198.51.100.7")
        XCTAssertEqual(fromEurope, "upstream=edge-eu-west")
        let fromEuropeV6 = try await servedBy(forwardedFor: "2001:db8::1")
        XCTAssertEqual(fromEuropeV6, "upstream=edge-eu-west")
        let fromUS = try await servedBy(forwardedFor: "203.0.113.9")
        XCTAssertEqual(fromUS, "upstream=edge-us-east")
        let fromNowhere = try await servedBy(forwardedFor: "192.0.2.1")
        XCTAssertEqual(fromNowhere, "upstream=edge-us-east", "outside every network: the default region")
        let direct = try await servedBy(forwardedFor: nil)
        XCTAssertEqual(direct, "upstream=edge-us-east", "the peer itself (127.0.0.1) is in no region")
        // A client claiming a European address through an untrusted hop is not believed: the
        // right-most entry the trusted proxy added decides.
        let spoofed = try await servedBy(forwardedFor: "198.51.100.7, 192.0.2.50")
        XCTAssertEqual(spoofed, "upstream=edge-us-east")

        await gateway.server.flushAccessLog()
        let regions = try String(contentsOfFile: logPath, encoding: .utf8).split(separator: "\n").map { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["region"] as? String ?? "-"
        }
        XCTAssertEqual(regions, ["eu-west", "eu-west", "us-east", "us-east", "us-east", "us-east"])
        let traceIDs = try String(contentsOfFile: logPath, encoding: .utf8).split(separator: "\n").map { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["trace_id"] as? String ?? "-"
        }
        XCTAssertEqual(
            traceIDs, ["-", "-", "0af7651916cd43dd8448eb211c80319c", "-", "-", "-"],
            "the traceparent's trace id is logged")
        await client.close()
        await gateway.stop()
        await us.stop()
        await eu.stop()
    }
}
