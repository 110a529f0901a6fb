import GatewayConfig
import NIOCore
import NIOPosix
import XCTest

@testable import GatewayServer

/// Attack class: paths spelled so that the gateway routes them one way and the upstream resolves
/// them another (dot segments, percent-encoded letters and dots, encoded slashes, backslashes).
/// Exact bytes over a raw socket; the expected answer and connection state for each.
final class PathTraversalTests: XCTestCase {
    private let clientGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    override func tearDown() async throws {
        try await clientGroup.shutdownGracefully()
    }

    func testTheNormalizerTable() throws {
        let normal: [(String, String)] = [
            ("/", "/"),
            ("/a/b?x=../y", "/a/b?x=../y"),  // the query is not a path
            ("/public/../admin/x", "/admin/x"),
            ("/a/./b/../c", "/a/c"),
            ("/%61dmin/x", "/admin/x"),
            ("/public/%2e%2e/admin", "/admin"),
            ("/public/%2E%2E/admin/", "/admin/"),
            ("//admin///x", "/admin/x"),
            ("/a/b/..", "/a/"),
            ("/a/b/.", "/a/b/"),
            ("/a/%7euser", "/a/~user"),
            ("/a%20b/%3f", "/a%20b/%3F"),  // reserved and other escapes stay escaped, hex uppercased
            ("/a/...", "/a/..."),  // three dots is a name
            ("/a/..b", "/a/..b"),
            ("*", "*"),
        ]
        for (input, expected) in normal {
            XCTAssertEqual(try TargetNormalizer.normalize(input), expected, input)
        }
        let refused: [(String, TargetNormalizer.Failure)] = [
            ("/public/..%2fadmin/x", .encodedSlash),
            ("/public/..%2Fadmin/x", .encodedSlash),
            ("/a%5c..%5cadmin", .encodedSlash),
            ("/public\\..\\admin", .backslash),
            ("/../etc/passwd", .aboveRoot),
            ("/a/../../b", .aboveRoot),
            ("/%2e%2e/x", .aboveRoot),
            ("/a%2", .badEscape),
            ("/a%zz", .badEscape),
        ]
        for (input, failure) in refused {
            XCTAssertThrowsError(try TargetNormalizer.normalize(input), input) { error in
                XCTAssertEqual(error as? TargetNormalizer.Failure, failure, input)
            }
        }
    }

    func testRoutingAndTheUpstreamSeeTheNormalPath() async throws {
        let origin = try await ScriptedOrigin { _ in .init(body: "ok") }
        var admin = prefixRoute("admin", "/admin", upstream: "app")
        admin.headers.request.set = [HeaderField(name: "X-Area", value: "admin")]
        let gateway = try await TestGateway.start(
            upstreams: [
                UpstreamConfig(
                    name: "app", endpoints: [EndpointConfig(address: HostPort(host: "127.0.0.1", port: origin.port))])
            ],
            routes: [admin, prefixRoute("public", "/", upstream: "app")])
        do {
            for (sent, routedTo) in [
                ("/public/../admin/x", "/admin/x"), ("/%61dmin/x", "/admin/x"), ("/public/%2e%2e/admin/x", "/admin/x"),
                ("//admin//x", "/admin/x"), ("/admin/./x?q=/../y", "/admin/x?q=/../y"),
            ] {
                let raw = try await RawClient.connect(port: gateway.port, group: clientGroup)
                try await raw.send("GET \(sent) HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
                let answer = try await raw.readUntilClosed()
                XCTAssertTrue(answer.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(sent): \(answer)")
                let request = try XCTUnwrap(origin.requests.last)
                XCTAssertEqual(request.uri, routedTo, sent)
                XCTAssertEqual(request.headers.first(name: "x-area"), "admin", "\(sent) was routed by its normal path")
            }
            let reachedBefore = origin.requestCount
            for sent in [
                "/public/..%2fadmin/x", "/public/..%5Cadmin/x", "/public\\..\\admin/x", "/../admin/x", "/a%g1",
            ] {
                let raw = try await RawClient.connect(port: gateway.port, group: clientGroup)
                try await raw.send("GET \(sent) HTTP/1.1\r\nHost: a\r\n\r\n")
                let answer = try await raw.readUntilClosed()  // the gateway closes after the 400
                XCTAssertTrue(answer.hasPrefix("HTTP/1.1 400 Bad Request\r\n"), "\(sent): \(answer)")
                XCTAssertTrue(answer.contains("The request path is not allowed"), answer)
                XCTAssertTrue(answer.contains("\r\nconnection: close\r\n"), answer)
            }
            XCTAssertEqual(origin.requestCount, reachedBefore, "no refused path reached the upstream")
        } catch {
            XCTFail("\(error)")
        }
        await gateway.stop()
        await origin.stop()
    }
}
