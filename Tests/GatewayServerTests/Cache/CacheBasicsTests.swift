import GatewayConfig
import NIOCore
import NIOHTTP1
import NIOPosix
import XCTest

@testable import GatewayServer

/// Hit, miss, expiry, Age and the status headers, against a real origin on 127.0.0.1.
final class CacheBasicsTests: XCTestCase {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    private func xCache(_ fixture: CacheFixture, _ uri: String, _ headers: [(String, String)] = []) async throws
        -> String?
    {
        try await fixture.get(uri, headers).header("x-cache")
    }

    override func tearDown() async throws {
        try await group.shutdownGracefully()
    }

    func testMissThenHitWithAgeAndStatusHeaders() async throws {
        let fixture = try await CacheFixture.start(
            origin: { _ in .init(headers: [("cache-control", "max-age=60")], body: "hello") }, group: group)
        let miss = try await fixture.get("/a")
        XCTAssertEqual(miss.status, .ok)
        XCTAssertEqual(miss.bodyText, "hello")
        XCTAssertEqual(miss.header("x-cache"), "MISS")
        XCTAssertEqual(miss.header("cache-status"), "edge-1; fwd=uri-miss; fwd-status=200; stored; ttl=60")

        let hit = try await fixture.get("/a")
        XCTAssertEqual(hit.bodyText, "hello")
        XCTAssertEqual(hit.header("x-cache"), "HIT")
        XCTAssertEqual(hit.header("age"), "0")
        XCTAssertEqual(hit.header("cache-status"), "edge-1; hit; ttl=60")
        XCTAssertEqual(hit.header("content-length"), "5")
        XCTAssertEqual(hit.header("cache-control"), "max-age=60")
        XCTAssertNotNil(hit.header("date"), "a stored response without Date gets one")
        XCTAssertNotNil(hit.header("x-request-id"))

        fixture.clock.advance(seconds: 10.5)
        let older = try await fixture.get("/a")
        XCTAssertEqual(older.header("age"), "10")
        XCTAssertEqual(older.header("cache-status"), "edge-1; hit; ttl=49")
        XCTAssertEqual(fixture.origin.requestCount, 1)

        fixture.clock.advance(seconds: 50)
        let expired = try await fixture.get("/a")
        XCTAssertEqual(expired.header("x-cache"), "MISS")
        XCTAssertEqual(expired.header("cache-status"), "edge-1; fwd=stale; fwd-status=200; stored; ttl=60")
        XCTAssertEqual(fixture.origin.requestCount, 2)
        let again = try await fixture.get("/a")
        XCTAssertEqual(again.header("x-cache"), "HIT")
        XCTAssertEqual(fixture.origin.requestCount, 2)
        await fixture.stop()
    }

    func testWhatIsNotStoredGoesToTheOriginEveryTime() async throws {
        let fixture = try await CacheFixture.start(
            origin: { request in
                switch request.uri {
                case "/cookie": .init(headers: [("cache-control", "max-age=60"), ("set-cookie", "a=1")], body: "c")
                case "/private": .init(headers: [("cache-control", "private, max-age=60")], body: "p")
                case "/nostore": .init(headers: [("cache-control", "no-store")], body: "n")
                case "/error": .init(status: .internalServerError, body: "e")
                default: .init(body: "nothing said")
                }
            }, group: group)
        let expectedDetails = [
            "/cookie": "set-cookie", "/private": "private", "/nostore": "no-store", "/error": "no-freshness",
            "/plain": "no-freshness",
        ]
        for (path, detail) in expectedDetails.sorted(by: { $0.key < $1.key }) {
            let first = try await fixture.get(path)
            XCTAssertEqual(first.header("x-cache"), "MISS", path)
            XCTAssertEqual(
                first.header("cache-status")?.hasSuffix("detail=\(detail)"), true,
                "\(path): \(first.header("cache-status") ?? "-")")
            let second = try await fixture.get(path)
            XCTAssertEqual(second.header("x-cache"), "MISS", path)
            XCTAssertEqual(fixture.origin.requests(to: path).count, 2, path)
        }
        let cookie = try await fixture.get("/cookie")
        XCTAssertEqual(cookie.header("set-cookie"), "a=1", "a response that is not stored keeps its cookie")
        await fixture.stop()
    }

    func testRouteDefaultTTLAndCeiling() async throws {
        let fixture = try await CacheFixture.start(
            route: RouteCacheConfig(defaultTTL: .seconds(30), maxTTL: .seconds(100)),
            origin: { request in
                request.uri == "/long"
                    ? .init(headers: [("cache-control", "max-age=86400")], body: "l") : .init(body: "d")
            }, group: group)
        let plain = try await fixture.get("/plain")
        XCTAssertEqual(plain.header("cache-status"), "edge-1; fwd=uri-miss; fwd-status=200; stored; ttl=30")
        let long = try await fixture.get("/long")
        XCTAssertEqual(long.header("cache-status"), "edge-1; fwd=uri-miss; fwd-status=200; stored; ttl=100")
        fixture.clock.advance(seconds: 31)
        _ = try await fixture.get("/plain")
        _ = try await fixture.get("/long")
        XCTAssertEqual(fixture.origin.requests(to: "/plain").count, 2)
        XCTAssertEqual(fixture.origin.requests(to: "/long").count, 1)
        await fixture.stop()
    }

    func testSetCookieResponsesStoredWithoutTheCookieWhenTheRouteSaysSo() async throws {
        let fixture = try await CacheFixture.start(
            route: RouteCacheConfig(ignoreSetCookie: true),
            origin: { _ in .init(headers: [("cache-control", "max-age=60"), ("set-cookie", "session=abc")], body: "x")
            },
            group: group)
        let miss = try await fixture.get("/c")
        XCTAssertEqual(miss.header("set-cookie"), "session=abc", "the client that caused the fetch gets its cookie")
        let hit = try await fixture.get("/c")
        XCTAssertEqual(hit.header("x-cache"), "HIT")
        XCTAssertNil(hit.header("set-cookie"), "nobody else gets that cookie")
        await fixture.stop()
    }

    func testChunkedOriginResponsesAreStoredAndFramedAgain() async throws {
        let body = String(repeating: "0123456789", count: 100)
        let fixture = try await CacheFixture.start(
            origin: { _ in .init(headers: [("cache-control", "max-age=60")], body: body, chunkSize: 7) }, group: group)
        let miss = try await fixture.get("/chunked")
        XCTAssertEqual(miss.bodyText, body)
        XCTAssertEqual(miss.header("transfer-encoding"), "chunked")
        let hit = try await fixture.get("/chunked")
        XCTAssertEqual(hit.header("x-cache"), "HIT")
        XCTAssertEqual(hit.bodyText, body)
        XCTAssertEqual(hit.header("content-length"), "1000")
        XCTAssertNil(hit.header("transfer-encoding"))
        await fixture.stop()
    }

    func testVaryKeepsOneVariantPerSelectingValue() async throws {
        let fixture = try await CacheFixture.start(
            origin: { request in
                let language = request.headers.first(name: "accept-language") ?? "none"
                return .init(headers: [("cache-control", "max-age=60"), ("vary", "Accept-Language")], body: language)
            }, group: group)
        let english = try await fixture.get("/v", [("accept-language", "en")])
        let french = try await fixture.get("/v", [("accept-language", "fr")])
        XCTAssertEqual(french.header("cache-status"), "edge-1; fwd=vary-miss; fwd-status=200; stored; ttl=60")
        let englishAgain = try await fixture.get("/v", [("accept-language", "en")])
        let frenchAgain = try await fixture.get("/v", [("accept-language", "fr")])
        XCTAssertEqual(english.bodyText, "en")
        XCTAssertEqual(englishAgain.bodyText, "en")
        XCTAssertEqual(englishAgain.header("x-cache"), "HIT")
        XCTAssertEqual(frenchAgain.bodyText, "fr")
        XCTAssertEqual(frenchAgain.header("x-cache"), "HIT")
        XCTAssertEqual(fixture.origin.requestCount, 2)
        await fixture.stop()
    }

    func testQueryKeyPolicy() async throws {
        let fixture = try await CacheFixture.start(
            route: RouteCacheConfig(query: .only(["id"])),
            origin: { request in .init(headers: [("cache-control", "max-age=60")], body: request.uri) }, group: group)
        let first = try await fixture.get("/q?id=1&utm=a")
        let second = try await fixture.get("/q?utm=b&id=1")
        let other = try await fixture.get("/q?id=2")
        XCTAssertEqual(second.header("x-cache"), "HIT")
        XCTAssertEqual(second.bodyText, first.bodyText)
        XCTAssertEqual(other.header("x-cache"), "MISS")
        XCTAssertEqual(fixture.origin.requestCount, 2)
        await fixture.stop()
    }

    func testTargetedCacheControlWinsAndIsNotForwarded() async throws {
        let fixture = try await CacheFixture.start(
            cache: CacheConfig(targetedHeader: "Edge-Cache-Control"),
            origin: { request in
                request.uri == "/edge"
                    ? .init(
                        headers: [
                            ("cache-control", "no-store"), ("cdn-cache-control", "no-store"),
                            ("edge-cache-control", "max-age=300"),
                        ], body: "e")
                    : .init(headers: [("cache-control", "no-store"), ("cdn-cache-control", "max-age=120")], body: "c")
            }, group: group)
        let cdn = try await fixture.get("/cdn")
        XCTAssertEqual(cdn.header("cache-status"), "edge-1; fwd=uri-miss; fwd-status=200; stored; ttl=120")
        XCTAssertNil(cdn.header("cdn-cache-control"))
        XCTAssertEqual(cdn.header("cache-control"), "no-store", "Cache-Control still governs browsers")
        let edge = try await fixture.get("/edge")
        XCTAssertEqual(edge.header("cache-status"), "edge-1; fwd=uri-miss; fwd-status=200; stored; ttl=300")
        XCTAssertNil(edge.header("edge-cache-control"))
        let hit = try await fixture.get("/edge")
        XCTAssertEqual(hit.header("x-cache"), "HIT")
        XCTAssertNil(hit.header("edge-cache-control"))
        XCTAssertNil(hit.header("cdn-cache-control"))
        await fixture.stop()
    }

    func testRequestDirectives() async throws {
        let fixture = try await CacheFixture.start(
            origin: { _ in .init(headers: [("cache-control", "max-age=60")], body: "r") }, group: group)
        let onlyIfCached = try await fixture.get("/r", [("cache-control", "only-if-cached")])
        XCTAssertEqual(onlyIfCached.status, .gatewayTimeout)
        XCTAssertEqual(onlyIfCached.header("cache-status"), "edge-1; fwd=uri-miss; detail=not_cached")
        XCTAssertEqual(fixture.origin.requestCount, 0)
        _ = try await fixture.get("/r")
        let noCache = try await fixture.get("/r", [("cache-control", "no-cache")])
        XCTAssertEqual(noCache.header("cache-status"), "edge-1; fwd=request; fwd-status=200; stored; ttl=60")
        fixture.clock.advance(seconds: 5)
        let young = try await fixture.get("/r", [("cache-control", "max-age=10")])
        XCTAssertEqual(young.header("x-cache"), "HIT")
        let tooOld = try await fixture.get("/r", [("cache-control", "max-age=2")])
        XCTAssertEqual(tooOld.header("x-cache"), "MISS")
        let pragma = try await fixture.get("/r", [("pragma", "no-cache")])
        XCTAssertEqual(pragma.header("x-cache"), "MISS")
        let cached = try await fixture.get("/r", [("cache-control", "only-if-cached")])
        XCTAssertEqual(cached.header("x-cache"), "HIT")
        XCTAssertEqual(fixture.origin.requestCount, 4)
        await fixture.stop()
    }

    func testAuthorizedRequestsAreSharedOnlyWhenTheResponseAllowsIt() async throws {
        let fixture = try await CacheFixture.start(
            origin: { request in
                request.uri == "/public"
                    ? .init(headers: [("cache-control", "public, max-age=60")], body: "p")
                    : .init(headers: [("cache-control", "max-age=60")], body: "a")
            }, group: group)
        let auth = [("authorization", "Bearer x")]
        _ = try await fixture.get("/a", auth)
        let second = try await fixture.get("/a", auth)
        XCTAssertEqual(second.header("x-cache"), "MISS")
        XCTAssertTrue(second.header("cache-status")?.hasSuffix("detail=authorization") == true)
        // Stored from an anonymous request, it is still not served to an authorized one.
        _ = try await fixture.get("/a")
        let anonymousHit = try await xCache(fixture, "/a")
        XCTAssertEqual(anonymousHit, "HIT")
        let authorizedAfterAnonymous = try await xCache(fixture, "/a", auth)
        XCTAssertEqual(authorizedAfterAnonymous, "MISS")
        _ = try await fixture.get("/public", auth)
        let publicAuthorized = try await xCache(fixture, "/public", auth)
        XCTAssertEqual(publicAuthorized, "HIT")
        await fixture.stop()
    }

    func testUnsafeMethodsInvalidateTheTargetAndLocation() async throws {
        let fixture = try await CacheFixture.start(
            origin: { request in
                if request.method == .POST {
                    return .init(status: .created, headers: [("location", "http://test/items/7")], body: "made")
                }
                return .init(headers: [("cache-control", "max-age=60")], body: request.uri)
            }, group: group)
        _ = try await fixture.get("/items")
        _ = try await fixture.get("/items/7")
        let beforePost = try await xCache(fixture, "/items")
        XCTAssertEqual(beforePost, "HIT")
        let post = try await fixture.client.request(
            .POST, "/items", headers: [("host", "test")], body: ByteBuffer(string: "x"))
        XCTAssertEqual(post.status, .created)
        XCTAssertEqual(post.header("x-cache"), "BYPASS")
        XCTAssertEqual(post.header("cache-status"), "edge-1; fwd=method; fwd-status=201")
        let afterPost = try await xCache(fixture, "/items")
        XCTAssertEqual(afterPost, "MISS")
        let itemAfterPost = try await xCache(fixture, "/items/7")
        XCTAssertEqual(itemAfterPost, "MISS")
        await fixture.stop()
    }

    func testHeadIsAnsweredFromAStoredGet() async throws {
        let fixture = try await CacheFixture.start(
            origin: { _ in
                .init(headers: [("cache-control", "max-age=60"), ("content-type", "text/plain")], body: "body")
            },
            group: group)
        let headMiss = try await fixture.client.request(.HEAD, "/h", headers: [("host", "test")])
        XCTAssertEqual(headMiss.header("cache-status"), "edge-1; fwd=uri-miss; fwd-status=200; detail=head")
        _ = try await fixture.get("/h")
        let head = try await fixture.client.request(.HEAD, "/h", headers: [("host", "test")])
        XCTAssertEqual(head.header("x-cache"), "HIT")
        XCTAssertEqual(head.header("content-length"), "4")
        XCTAssertEqual(head.body.readableBytes, 0)
        let next = try await fixture.get("/h")
        XCTAssertEqual(next.bodyText, "body", "the connection is still in step after a HEAD hit")
        await fixture.stop()
    }
}
