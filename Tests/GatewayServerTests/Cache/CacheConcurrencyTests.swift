import Foundation
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

extension CacheConcurrencyTests {
    func testConcurrentMissesShareOneOriginFetch() async throws {
        let body = String(repeating: "x", count: 20_000)
        let fixture = try await CacheFixture.start(
            origin: { _ in
                // Held until every client has asked, so all 100 are misses of one fetch in flight.
                .init(headers: [("cache-control", "max-age=60")], body: body, chunkSize: 4096, holdAfter: 0)
            }, group: group)
        var connections: [TestClient] = []
        for _ in 0..<100 {
            connections.append(try await TestClient.connect(port: fixture.gateway.port, group: group))
        }
        let futures = connections.map { client in
            let response = client.expectResponse()
            client.send(.GET, "/popular", headers: [("host", "test")])
            return response
        }
        try await fixture.origin.requestsReceived(1).get()
        // Every other request joins the fetch in flight.
        try await bounded(fixture.gateway.server.cache.followersJoined(99, on: group.next()), "followers").get()
        XCTAssertEqual(fixture.gateway.server.cache.followers, 99)
        fixture.origin.releaseHeld()
        var outcomes: [String: Int] = [:]
        for future in futures {
            let response = try await future.get()
            XCTAssertEqual(response.status, .ok)
            XCTAssertEqual(response.body.readableBytes, body.utf8.count)
            outcomes[response.header("x-cache") ?? "-", default: 0] += 1
        }
        XCTAssertEqual(outcomes, ["MISS": 1, "HIT": 99])
        XCTAssertEqual(fixture.origin.requestCount, 1)
        let metrics = await fixture.gateway.server.metricsText()
        XCTAssertTrue(metrics.contains(#"gateway_cache_coalesced_total{route="cached"} 99"#))
        for client in connections { await client.close() }
        let hit = try await fixture.get("/popular")
        XCTAssertEqual(hit.header("x-cache"), "HIT")
        await fixture.stop()
    }

    func testFollowersStreamWhileTheFetchIsStillArriving() async throws {
        let body = String(repeating: "a", count: 1000) + String(repeating: "b", count: 1000)
        let fixture = try await CacheFixture.start(
            origin: { _ in .init(headers: [("cache-control", "max-age=60")], body: body, holdAfter: 1000) },
            group: group)
        let leader = try await RawClient.connect(port: fixture.gateway.port, group: group)
        try await leader.send("GET /stream HTTP/1.1\r\nHost: test\r\n\r\n")
        try await leader.waitFor(String(repeating: "a", count: 1000))
        XCTAssertTrue(leader.receivedText.hasPrefix("HTTP/1.1 200"))
        let follower = try await RawClient.connect(port: fixture.gateway.port, group: group)
        try await follower.send("GET /stream HTTP/1.1\r\nHost: test\r\n\r\n")
        // The follower gets the head and the part that has arrived, before the rest exists.
        try await follower.waitFor(String(repeating: "a", count: 1000))
        let followerFirstHalf = follower.receivedText
        XCTAssertTrue(followerFirstHalf.contains("x-cache: HIT"), followerFirstHalf)
        XCTAssertTrue(followerFirstHalf.contains("content-length: 2000"), followerFirstHalf)
        fixture.origin.releaseHeld()
        try await leader.waitFor(String(repeating: "b", count: 1000))
        try await follower.waitFor(String(repeating: "b", count: 1000))
        let followerBody = follower.receivedText.components(separatedBy: "\r\n\r\n").dropFirst().joined()
        XCTAssertEqual(followerBody, body, "the follower's bytes are the response, once and in order")
        XCTAssertEqual(fixture.origin.requestCount, 1)
        try await leader.channel.close()
        try await follower.channel.close()
        await fixture.stop()
    }

    func testFollowersFetchThemselvesWhenTheResponseCannotBeShared() async throws {
        let fixture = try await CacheFixture.start(
            origin: { _ in .init(headers: [("cache-control", "private")], body: "mine", holdAfter: 0) }, group: group)
        let first = try await TestClient.connect(port: fixture.gateway.port, group: group)
        let second = try await TestClient.connect(port: fixture.gateway.port, group: group)
        let firstResponse = first.expectResponse()
        first.send(.GET, "/private", headers: [("host", "test")])
        try await fixture.origin.requestsReceived(1).get()
        let secondResponse = second.expectResponse()
        second.send(.GET, "/private", headers: [("host", "test")])
        try await bounded(fixture.gateway.server.cache.followersJoined(1, on: group.next()), "followers").get()
        fixture.origin.releaseHeld()
        // The private answer is not shared: the second request goes to the origin on its own.
        try await fixture.origin.requestsReceived(2).get()
        fixture.origin.releaseHeld()
        let answers = [try await firstResponse.get(), try await secondResponse.get()]
        XCTAssertEqual(answers.map(\.bodyText), ["mine", "mine"])
        XCTAssertEqual(answers.map { $0.header("x-cache") }, ["MISS", "MISS"])
        XCTAssertEqual(fixture.origin.requestCount, 2)
        await first.close()
        await second.close()
        await fixture.stop()
    }
}

extension CacheConcurrencyTests {
    func testAFollowerStopsWaitingAfterTheCoalesceTimeout() async throws {
        let fixture = try await CacheFixture.start(
            cache: CacheConfig(coalesceTimeout: .milliseconds(100)),
            origin: { _ in .init(headers: [("cache-control", "max-age=60")], body: "slow", holdAfter: 0) },
            group: group)
        let first = try await TestClient.connect(port: fixture.gateway.port, group: group)
        let second = try await TestClient.connect(port: fixture.gateway.port, group: group)
        let firstResponse = first.expectResponse()
        first.send(.GET, "/slow", headers: [("host", "test")])
        try await fixture.origin.requestsReceived(1).get()
        let secondResponse = second.expectResponse()
        second.send(.GET, "/slow", headers: [("host", "test")])
        // The origin is still holding the first response: the follower's timer sends it on.
        try await fixture.origin.requestsReceived(2).get()
        fixture.origin.releaseHeld()
        let answers = [try await firstResponse.get(), try await secondResponse.get()]
        XCTAssertEqual(answers.map(\.bodyText), ["slow", "slow"])
        XCTAssertEqual(answers.map { $0.header("x-cache") }, ["MISS", "MISS"])
        await first.close()
        await second.close()
        await fixture.stop()
    }
}
