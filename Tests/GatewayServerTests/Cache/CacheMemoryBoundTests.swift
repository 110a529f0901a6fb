import GatewayConfig
import NIOCore
import NIOPosix
import XCTest

@testable import GatewayServer

/// The store stays within `cache.memory` when more than that goes through it.
final class CacheMemoryBoundTests: XCTestCase {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    override func tearDown() async throws {
        try await group.shutdownGracefully()
    }

    func testAFillLargerThanTheStoreStaysWithinItsBound() async throws {
        let memory = 1 << 20
        let body = String(repeating: "z", count: 20_000)
        let fixture = try await CacheFixture.start(
            cache: CacheConfig(memoryBytes: memory, maxObjectBytes: 64 * 1024),
            origin: { _ in .init(headers: [("cache-control", "max-age=600")], body: body) }, group: group)
        // 4 MB of objects through a 1 MiB store.
        for index in 0..<200 {
            let response = try await fixture.get("/object/\(index)")
            XCTAssertEqual(response.body.readableBytes, body.utf8.count)
            let stats = fixture.gateway.server.cache.store.stats()
            XCTAssertLessThanOrEqual(stats.bytes, memory, "after object \(index)")
        }
        let stats = fixture.gateway.server.cache.store.stats()
        XCTAssertGreaterThan(stats.counters.evictions, 100)
        XCTAssertGreaterThan(stats.bytes, memory / 2, "the store is used, not emptied")
        XCTAssertEqual(stats.counters.entries + stats.counters.evictions, 200)
        // Objects over max_object pass through without being stored.
        fixture.origin.setScript { _ in
            .init(headers: [("cache-control", "max-age=600")], body: String(repeating: "b", count: 70_000))
        }
        let big = try await fixture.get("/big")
        XCTAssertEqual(big.body.readableBytes, 70_000)
        XCTAssertEqual(big.header("cache-status"), "edge-1; fwd=uri-miss; fwd-status=200; detail=too-large")
        let metrics = await fixture.gateway.server.metricsText()
        XCTAssertTrue(metrics.contains("gateway_cache_capacity_bytes \(memory)"))
        await fixture.stop()
    }
}
