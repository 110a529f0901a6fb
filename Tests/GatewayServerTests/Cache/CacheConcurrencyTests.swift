import GatewayConfig
import NIOCore
import NIOHTTP1
import NIOPosix
import XCTest

@testable import GatewayServer

/// Stale-while-revalidate and request coalescing under many concurrent clients.
final class CacheConcurrencyTests: XCTestCase {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)

    override func tearDown() async throws {
        try await group.shutdownGracefully()
    }

    /// Sends one GET per client, all at once, and collects the answers.
    private func concurrentGets(_ fixture: CacheFixture, _ path: String, clients: Int) async throws -> [TestResponse] {
        var connections: [TestClient] = []
        for _ in 0..<clients {
            connections.append(try await TestClient.connect(port: fixture.gateway.port, group: group))
        }
        let futures = connections.map { client in
            let response = client.expectResponse()
            client.send(.GET, path, headers: [("host", "test")])
            return response
        }
        var responses: [TestResponse] = []
        for future in futures {
            responses.append(try await future.get())
        }
        for client in connections { await client.close() }
        return responses
    }

    func testStaleWhileRevalidateServesStaleAndRefreshesOnce() async throws {
        let version = VersionBox("v1")
        let fixture = try await CacheFixture.start(
            route: RouteCacheConfig(staleWhileRevalidate: .seconds(30)),
            origin: { request in
                let headers = [("cache-control", "max-age=10"), ("etag", "\"\(version.value)\"")]
                let condition = request.headers.first(name: "if-none-match")
                if condition == "\"\(version.value)\"" {
                    return .init(status: .notModified, headers: headers)
                }
                // The background refresh is held until the test has seen every stale answer.
                var response = ScriptedOrigin.Response(headers: headers, body: version.value)
                if condition != nil { response.holdAfter = 0 }
                return response
            },
            group: group)
        _ = try await fixture.get("/swr")
        version.value = "v2"
        fixture.clock.advance(seconds: 15)
        let responses = try await concurrentGets(fixture, "/swr", clients: 100)
        for response in responses {
            XCTAssertEqual(response.bodyText, "v1")
            XCTAssertEqual(response.header("x-cache"), "STALE")
            XCTAssertEqual(response.header("cache-status"), "edge-1; hit; ttl=-5; detail=stale-while-revalidate")
        }
        // One refresh went out, with the stored validator.
        try await fixture.origin.requestsReceived(2).get()
        XCTAssertEqual(fixture.origin.requests.last?.headers.first(name: "if-none-match"), "\"v1\"")
        fixture.origin.releaseHeld()
        // Until the refresh is stored, requests keep getting the stale copy and start no other refresh.
        var refreshed: TestResponse?
        for _ in 0..<500 {
            let response = try await fixture.get("/swr")
            if response.header("x-cache") == "HIT" {
                refreshed = response
                break
            }
            await Task.yield()
        }
        XCTAssertEqual(refreshed?.bodyText, "v2")
        XCTAssertEqual(fixture.origin.requestCount, 2)
        let metrics = await fixture.gateway.server.metricsText()
        XCTAssertTrue(
            metrics.contains(#"gateway_cache_revalidations_total{route="cached",result="modified"} 1"#), metrics)

        // Past the window, the entry is revalidated in the request's path.
        fixture.clock.advance(seconds: 45)
        let late = try await fixture.get("/swr")
        XCTAssertEqual(late.header("x-cache"), "REVALIDATED")
        XCTAssertEqual(late.bodyText, "v2")
        let counted = await fixture.gateway.server.metricsText()
        XCTAssertTrue(counted.contains(#"gateway_cache_revalidations_total{route="cached",result="not_modified"} 1"#))
        await fixture.stop()
    }
}
