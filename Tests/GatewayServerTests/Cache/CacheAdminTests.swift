import Foundation
import GatewayConfig
import NIOCore
import NIOHTTP1
import NIOPosix
import XCTest

@testable import GatewayServer

/// `/admin/cache/purge` and `/admin/cache/stats` on one node.
final class CacheAdminTests: XCTestCase {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    override func tearDown() async throws {
        try await group.shutdownGracefully()
    }

    private func json(_ response: TestResponse) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(response.bodyText.utf8)) as? [String: Any])
    }

    private func start() async throws -> CacheFixture {
        try await CacheFixture.start(
            withAdmin: true,
            origin: { request in
                var headers = [("cache-control", "max-age=600"), ("etag", "\"e\"")]
                if request.uri.hasPrefix("/products/") {
                    headers.append(("surrogate-key", "products  product-\(request.uri.dropFirst(10))"))
                }
                if request.uri.hasPrefix("/news/") { headers.append(("cache-tag", "news, front")) }
                if request.headers.first(name: "if-none-match") == "\"e\"" {
                    return .init(status: .notModified, headers: headers)
                }
                return .init(headers: headers, body: "body of \(request.uri)")
            }, group: group)
    }

    private func warm(_ fixture: CacheFixture, _ paths: [String]) async throws {
        for path in paths {
            _ = try await fixture.get(path)
            let hit = try await fixture.get(path)
            XCTAssertEqual(hit.header("x-cache"), "HIT", path)
        }
    }

    private func xCache(_ fixture: CacheFixture, _ path: String) async throws -> String? {
        try await fixture.get(path).header("x-cache")
    }

    func testPurgeByURLPrefixTagAndAll() async throws {
        let fixture = try await start()
        let paths = [
            "/assets/a.css", "/assets/b.css", "/assets/img/c.png", "/products/1", "/products/2", "/news/x", "/other",
        ]
        try await warm(fixture, paths)
        // The surrogate keys and tags never reach clients.
        let product = try await fixture.get("/products/1")
        XCTAssertNil(product.header("surrogate-key"))
        let newsItem = try await fixture.get("/news/x")
        XCTAssertNil(newsItem.header("cache-tag"))

        let byURL = try await fixture.admin(.POST, "/admin/cache/purge", body: #"{"url": "https://TEST/assets/a.css"}"#)
        XCTAssertEqual(byURL.status, .ok)
        XCTAssertEqual(try json(byURL)["purged"] as? Int, 1)
        let purgedURL = try await xCache(fixture, "/assets/a.css")
        XCTAssertEqual(purgedURL, "MISS")
        let untouched = try await xCache(fixture, "/assets/b.css")
        XCTAssertEqual(untouched, "HIT")

        let byPrefix = try await fixture.admin(.POST, "/admin/cache/purge", body: #"{"prefix": "http://test/assets/"}"#)
        XCTAssertEqual(try json(byPrefix)["purged"] as? Int, 3)
        for path in ["/assets/a.css", "/assets/b.css", "/assets/img/c.png"] {
            let after = try await xCache(fixture, path)
            XCTAssertEqual(after, "MISS", path)
        }

        let byTag = try await fixture.admin(.POST, "/admin/cache/purge", body: #"{"tags": ["product-2", "front"]}"#)
        XCTAssertEqual(try json(byTag)["purged"] as? Int, 2)
        let product1 = try await xCache(fixture, "/products/1")
        XCTAssertEqual(product1, "HIT")
        let product2 = try await xCache(fixture, "/products/2")
        XCTAssertEqual(product2, "MISS")
        let news = try await xCache(fixture, "/news/x")
        XCTAssertEqual(news, "MISS")

        let all = try await fixture.admin(.POST, "/admin/cache/purge", body: #"{"all": true}"#)
        XCTAssertEqual(try json(all)["purged"] as? Int, paths.count)
        let stats = try json(try await fixture.admin(.GET, "/admin/cache/stats"))
        XCTAssertEqual(stats["entries"] as? Int, 0)
        XCTAssertEqual(stats["node"] as? String, "edge-1")
        XCTAssertTrue(stats["region"] is NSNull, "no region configured")
        XCTAssertEqual(stats["bytes"] as? Int, 0)
        await fixture.stop()
    }

    func testSoftPurgeRevalidatesAndStillServesStaleOnError() async throws {
        let fixture = try await CacheFixture.start(
            route: RouteCacheConfig(staleIfError: .seconds(300)), withAdmin: true,
            origin: { request in
                if request.headers.first(name: "if-none-match") == "\"e\"" {
                    return .init(status: .notModified, headers: [("cache-control", "max-age=600"), ("etag", "\"e\"")])
                }
                return .init(headers: [("cache-control", "max-age=600"), ("etag", "\"e\"")], body: "kept")
            }, group: group)
        try await warm(fixture, ["/soft", "/down"])
        let soft = try await fixture.admin(
            .POST, "/admin/cache/purge", body: #"{"urls": ["test/soft", "test/down"], "soft": true}"#)
        XCTAssertEqual(try json(soft)["soft"] as? Bool, true)
        XCTAssertEqual(try json(soft)["purged"] as? Int, 2)
        let revalidated = try await fixture.get("/soft")
        XCTAssertEqual(revalidated.header("x-cache"), "REVALIDATED")
        XCTAssertEqual(revalidated.bodyText, "kept")
        XCTAssertEqual(fixture.origin.requests(to: "/soft").count, 2)

        await fixture.origin.stop()
        let stale = try await fixture.get("/down")
        XCTAssertEqual(stale.header("x-cache"), "STALE")
        XCTAssertEqual(stale.bodyText, "kept")
        await fixture.stop()
    }

    func testStats() async throws {
        let fixture = try await start()
        try await warm(fixture, ["/a", "/b"])
        for _ in 0..<3 { _ = try await fixture.get("/b") }
        let response = try await fixture.admin(.GET, "/admin/cache/stats?top=1")
        XCTAssertEqual(response.status, .ok)
        let stats = try json(response)
        XCTAssertEqual(stats["entries"] as? Int, 2)
        XCTAssertGreaterThan(stats["bytes"] as? Int ?? 0, 0)
        XCTAssertEqual(stats["eviction"] as? String, "s3fifo")
        let requests = try XCTUnwrap(stats["requests"] as? [String: Int])
        XCTAssertEqual(requests["hit"], 5)
        XCTAssertEqual(requests["miss"], 2)
        XCTAssertEqual(stats["hit_ratio"] as? String, "0.714")
        let top = try XCTUnwrap(stats["top_keys"] as? [[String: Any]])
        XCTAssertEqual(top.count, 1)
        XCTAssertEqual(top.first?["key"] as? String, "test/b")
        XCTAssertEqual(top.first?["hits"] as? Int, 4)

        let metrics = try await fixture.admin(.GET, "/metrics").bodyText
        XCTAssertTrue(metrics.contains(#"gateway_cache_requests_total{route="cached",outcome="HIT"} 5"#), metrics)
        XCTAssertTrue(metrics.contains("gateway_cache_entries 2"))
        await fixture.stop()
    }

    func testBadPurgeRequestsAreExplained() async throws {
        let fixture = try await start()
        let cases: [(String, String)] = [
            ("not json", "invalid JSON"),
            (#"["x"]"#, "must be a JSON object"),
            ("{}", "Name what to purge"),
            (#"{"url": 7}"#, "'url' must be a non-empty string"),
            (#"{"urls": ["a", 1]}"#, "'urls' must be a list of non-empty strings"),
            (#"{"prefix": "/no-host"}"#, "needs a host"),
            (#"{"all": false}"#, "'all' must be true"),
            (#"{"tag": "t", "soft": "yes"}"#, "'soft' must be true or false"),
            (#"{"purge": "x"}"#, "Unknown field 'purge'"),
        ]
        for (body, message) in cases {
            let response = try await fixture.admin(.POST, "/admin/cache/purge", body: body)
            XCTAssertEqual(response.status, .badRequest, body)
            XCTAssertTrue(response.bodyText.contains(message), "\(body): \(response.bodyText)")
        }
        let wrongMethod = try await fixture.admin(.GET, "/admin/cache/purge")
        XCTAssertEqual(wrongMethod.status, .methodNotAllowed)
        let badTop = try await fixture.admin(.GET, "/admin/cache/stats?top=x")
        XCTAssertEqual(badTop.status, .badRequest)
        await fixture.stop()
    }

    func testWarmFetchesIntoTheCache() async throws {
        let fixture = try await CacheFixture.start(
            withAdmin: true,
            origin: { request in
                request.uri == "/private"
                    ? .init(headers: [("cache-control", "private")], body: "p")
                    : .init(headers: [("cache-control", "max-age=60")], body: "warm \(request.uri)")
            }, group: group)
        let response = try await fixture.admin(
            .POST, "/admin/cache/warm",
            body: #"{"urls": ["http://test/w/1", "https://test/w/2?x=1", "test/private"], "concurrency": 2}"#)
        XCTAssertEqual(response.status, .ok)
        let document = try json(response)
        XCTAssertEqual(document["stored"] as? Int, 2)
        XCTAssertEqual(document["not_stored"] as? Int, 1)
        let results = try XCTUnwrap(document["results"] as? [[String: Any]])
        XCTAssertEqual(results.map { $0["result"] as? String }, ["stored", "stored", "not_stored"])
        XCTAssertEqual(results[0]["bytes"] as? Int, "warm /w/1".utf8.count)
        XCTAssertEqual(results[2]["reason"] as? String, "private")
        XCTAssertEqual(fixture.origin.requestCount, 3)
        XCTAssertEqual(fixture.origin.requests.first?.headers.first(name: "host"), "test")

        let warmed = try await fixture.get("/w/2?x=1")
        XCTAssertEqual(warmed.header("x-cache"), "HIT")
        XCTAssertEqual(warmed.bodyText, "warm /w/2?x=1")
        XCTAssertEqual(fixture.origin.requestCount, 3)

        await fixture.origin.stop()
        let failed = try json(try await fixture.admin(.POST, "/admin/cache/warm", body: #"{"url": "http://test/w/3"}"#))
        let failure = try XCTUnwrap((failed["results"] as? [[String: Any]])?.first)
        XCTAssertEqual(failure["result"] as? String, "failed")
        XCTAssertNotNil(failure["error"] as? String)

        for body in [#"{"urls": []}"#, #"{"urls": ["a"], "concurrency": 0}"#, #"{"href": "x"}"#] {
            let bad = try await fixture.admin(.POST, "/admin/cache/warm", body: body)
            XCTAssertEqual(bad.status, .badRequest, body)
        }
        await fixture.stop()
    }
}
