import GatewayConfig
import NIOCore
import NIOHTTP1
import NIOPosix
import XCTest

@testable import GatewayServer

/// Edges in front of a parent (shield) gateway in front of the origin: the client sees the whole
/// path in `X-Cache`, `X-Served-By` and `Cache-Status`.
final class CacheTierTests: XCTestCase {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    /// One clock for all tiers: ages and TTLs do not depend on when a second boundary passes.
    let clock = ManualClock()

    override func tearDown() async throws {
        try await group.shutdownGracefully()
    }

    /// A gateway named `node` with one cached route to `port`.
    private func cachingGateway(_ node: String, to port: Int) async throws -> TestGateway {
        var route = prefixRoute("cached", "/", upstream: "next")
        route.cache = RouteCacheConfig()
        return try await TestGateway.start(
            GatewayConfiguration(
                node: NodeConfig(id: node, region: "test"),
                runtime: RuntimeConfig(eventLoops: 1, drainTimeout: .seconds(5)),
                listeners: [ListenerConfig(name: "test", address: HostPort(host: "127.0.0.1", port: 0))],
                upstreams: [
                    UpstreamConfig(
                        name: "next", endpoints: [EndpointConfig(address: HostPort(host: "127.0.0.1", port: port))])
                ],
                routes: [route], cache: CacheConfig()),
            cacheClock: clock.function)
    }

    private func get(_ port: Int, _ uri: String) async throws -> TestResponse {
        let client = try await TestClient.connect(port: port, group: group)
        let response = try await client.request(.GET, uri, headers: [("host", "cdn.test")])
        await client.close()
        return response
    }

    func testAMissAtTheEdgeReportsTheParentsStatus() async throws {
        let origin = try await ScriptedOrigin({ _ in .init(headers: [("cache-control", "max-age=60")], body: "object") }
        )
        let shield = try await cachingGateway("shield-1", to: origin.port)
        let edgeA = try await cachingGateway("edge-a", to: shield.port)
        let edgeB = try await cachingGateway("edge-b", to: shield.port)

        let first = try await get(edgeA.port, "/obj")
        XCTAssertEqual(first.bodyText, "object")
        XCTAssertEqual(first.header("x-cache"), "MISS, MISS")
        XCTAssertEqual(first.header("x-served-by"), "edge-a, shield-1")
        XCTAssertEqual(
            first.header("cache-status"),
            "shield-1; fwd=uri-miss; fwd-status=200; stored; ttl=60, edge-a; fwd=uri-miss; fwd-status=200; stored; ttl=60",
            "RFC 9211: the cache nearest the origin first")

        // Another edge misses, but the shield has it: the origin is not asked again.
        let second = try await get(edgeB.port, "/obj")
        XCTAssertEqual(second.bodyText, "object")
        XCTAssertEqual(second.header("x-cache"), "MISS, HIT")
        XCTAssertEqual(second.header("x-served-by"), "edge-b, shield-1")
        XCTAssertEqual(origin.requestCount, 1)

        // A hit at the edge is the edge's alone: the parent's fields from the fetch are not replayed.
        let hit = try await get(edgeA.port, "/obj")
        XCTAssertEqual(hit.header("x-cache"), "HIT")
        XCTAssertEqual(hit.header("x-served-by"), "edge-a")
        XCTAssertEqual(hit.header("cache-status"), "edge-a; hit; ttl=60")
        XCTAssertEqual(hit.head.headers["x-served-by"].count, 1)
        XCTAssertEqual(origin.requestCount, 1)

        await edgeA.stop()
        await edgeB.stop()
        await shield.stop()
        await origin.stop()
    }
}
