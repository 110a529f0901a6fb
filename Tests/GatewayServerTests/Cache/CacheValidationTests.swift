import GatewayConfig
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import XCTest

@testable import GatewayServer

/// Conditional requests from clients, revalidation with the origin, and stale-if-error.
final class CacheValidationTests: XCTestCase {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    override func tearDown() async throws {
        try await group.shutdownGracefully()
    }

    /// An origin with a versioned resource that answers If-None-Match itself.
    static func versioned(_ version: @escaping @Sendable () -> String, maxAge: Int = 1, extra: [(String, String)] = [])
        -> ScriptedOrigin.Script
    {
        { request in
            let etag = "\"\(version())\""
            let headers = [("cache-control", "max-age=\(maxAge)"), ("etag", etag)] + extra
            if request.headers.first(name: "if-none-match") == etag {
                return .init(status: .notModified, headers: headers)
            }
            return .init(headers: headers + [("content-type", "text/plain")], body: "version \(version())")
        }
    }

    func testClientConditionalsAreAnsweredFromTheCache() async throws {
        let fixture = try await CacheFixture.start(
            origin: { _ in
                .init(
                    headers: [
                        ("cache-control", "max-age=60"), ("etag", "\"v1\""),
                        ("last-modified", "Sun, 01 Nov 2026 00:00:00 GMT"), ("content-type", "text/plain"),
                    ], body: "body")
            }, group: group)
        // The first client's If-None-Match is not passed on: the cache needs the full response.
        let first = try await fixture.get("/c", [("if-none-match", "\"v1\"")])
        XCTAssertEqual(first.status, .ok)
        XCTAssertNil(fixture.origin.requests.first?.headers.first(name: "if-none-match"))

        let matching = try await fixture.get("/c", [("if-none-match", "W/\"v0\", \"v1\"")])
        XCTAssertEqual(matching.status, .notModified)
        XCTAssertEqual(matching.body.readableBytes, 0)
        XCTAssertEqual(matching.header("etag"), "\"v1\"")
        XCTAssertEqual(matching.header("cache-control"), "max-age=60")
        XCTAssertNil(matching.header("content-type"), "a 304 carries only what updates the client's copy")
        XCTAssertEqual(matching.header("x-cache"), "HIT")

        let other = try await fixture.get("/c", [("if-none-match", "\"v2\"")])
        XCTAssertEqual(other.status, .ok)
        XCTAssertEqual(other.bodyText, "body")

        let since = try await fixture.get("/c", [("if-modified-since", "Mon, 02 Nov 2026 00:00:00 GMT")])
        XCTAssertEqual(since.status, .notModified)
        let before = try await fixture.get("/c", [("if-modified-since", "Sat, 31 Oct 2026 00:00:00 GMT")])
        XCTAssertEqual(before.status, .ok)
        // If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2).
        let both = try await fixture.get(
            "/c", [("if-none-match", "\"v2\""), ("if-modified-since", "Mon, 02 Nov 2026 00:00:00 GMT")])
        XCTAssertEqual(both.status, .ok)
        XCTAssertEqual(fixture.origin.requestCount, 1)
        await fixture.stop()
    }

    func testA304FromTheOriginRefreshesTheEntry() async throws {
        let fixture = try await CacheFixture.start(
            origin: Self.versioned({ "v1" }, extra: [("x-revision", "7")]), group: group)
        _ = try await fixture.get("/r")
        fixture.clock.advance(seconds: 2)
        let revalidated = try await fixture.get("/r")
        XCTAssertEqual(revalidated.status, .ok)
        XCTAssertEqual(revalidated.bodyText, "version v1")
        XCTAssertEqual(revalidated.header("x-cache"), "REVALIDATED")
        XCTAssertEqual(revalidated.header("cache-status"), "edge-1; fwd=stale; fwd-status=304; stored; ttl=1")
        XCTAssertEqual(revalidated.header("content-type"), "text/plain", "stored fields the 304 did not send stay")
        XCTAssertEqual(revalidated.header("age"), "0")
        let conditional = fixture.origin.requests.last
        XCTAssertEqual(conditional?.headers.first(name: "if-none-match"), "\"v1\"")
        XCTAssertEqual(fixture.origin.requestCount, 2)
        let hit = try await fixture.get("/r")
        XCTAssertEqual(hit.header("x-cache"), "HIT")
        XCTAssertEqual(fixture.origin.requestCount, 2)
        // A client revalidating its own copy through a stale entry gets a 304 too.
        fixture.clock.advance(seconds: 2)
        let clientConditional = try await fixture.get("/r", [("if-none-match", "\"v1\"")])
        XCTAssertEqual(clientConditional.status, .notModified)
        XCTAssertEqual(clientConditional.header("x-cache"), "REVALIDATED")
        await fixture.stop()
    }

    func testAChangedResourceReplacesTheEntry() async throws {
        let version = VersionBox("v1")
        let fixture = try await CacheFixture.start(origin: Self.versioned({ version.value }), group: group)
        _ = try await fixture.get("/r")
        version.value = "v2"
        fixture.clock.advance(seconds: 2)
        let changed = try await fixture.get("/r")
        XCTAssertEqual(changed.bodyText, "version v2")
        XCTAssertEqual(changed.header("x-cache"), "MISS")
        XCTAssertEqual(changed.header("cache-status"), "edge-1; fwd=stale; fwd-status=200; stored; ttl=1")
        let hit = try await fixture.get("/r")
        XCTAssertEqual(hit.bodyText, "version v2")
        XCTAssertEqual(hit.header("etag"), "\"v2\"")
        await fixture.stop()
    }

    func testStaleIfErrorWhenTheOriginFailsOrIsGone() async throws {
        let failing = VersionBox("ok")
        let fixture = try await CacheFixture.start(
            route: RouteCacheConfig(staleIfError: .seconds(60)),
            origin: { _ in
                failing.value == "ok"
                    ? .init(headers: [("cache-control", "max-age=1")], body: "good")
                    : .init(status: .serviceUnavailable, body: "down")
            }, group: group)
        _ = try await fixture.get("/s")
        fixture.clock.advance(seconds: 10)
        failing.value = "fail"
        let onError = try await fixture.get("/s")
        XCTAssertEqual(onError.status, .ok)
        XCTAssertEqual(onError.bodyText, "good")
        XCTAssertEqual(onError.header("x-cache"), "STALE")
        XCTAssertEqual(
            onError.header("cache-status"), "edge-1; hit; fwd=stale; fwd-status=503; ttl=-9; detail=stale-if-error")
        XCTAssertEqual(onError.header("age"), "10")

        await fixture.origin.stop()
        let gone = try await fixture.get("/s")
        XCTAssertEqual(gone.bodyText, "good")
        XCTAssertEqual(gone.header("x-cache"), "STALE")
        XCTAssertEqual(gone.header("cache-status"), "edge-1; hit; fwd=stale; ttl=-9; detail=stale-if-error")

        fixture.clock.advance(seconds: 55)
        let tooOld = try await fixture.get("/s")
        XCTAssertEqual(tooOld.status, .badGateway)
        XCTAssertEqual(tooOld.header("x-cache"), "MISS", "the gateway's own errors on a cached route say so too")
        XCTAssertEqual(tooOld.header("cache-status"), "edge-1; fwd=stale; detail=upstream_unavailable")
        await fixture.stop()
    }

    func testMustRevalidateForbidsStaleIfError() async throws {
        let failing = VersionBox("ok")
        let fixture = try await CacheFixture.start(
            route: RouteCacheConfig(staleIfError: .seconds(60)),
            origin: { _ in
                failing.value == "ok"
                    ? .init(headers: [("cache-control", "max-age=1, must-revalidate")], body: "good")
                    : .init(status: .internalServerError, body: "broken")
            }, group: group)
        _ = try await fixture.get("/m")
        fixture.clock.advance(seconds: 5)
        failing.value = "fail"
        let answer = try await fixture.get("/m")
        XCTAssertEqual(answer.status, .internalServerError)
        XCTAssertEqual(answer.bodyText, "broken")
        await fixture.stop()
    }

    func testAddedETagMakesAResponseWithoutValidatorsRevalidatable() async throws {
        let fixture = try await CacheFixture.start(
            route: RouteCacheConfig(addETag: true),
            origin: { _ in .init(headers: [("cache-control", "max-age=60")], body: "same bytes") }, group: group)
        _ = try await fixture.get("/e")
        let hit = try await fixture.get("/e")
        let etag = try XCTUnwrap(hit.header("etag"))
        XCTAssertTrue(etag.hasPrefix("\"g") && etag.hasSuffix("\""), etag)
        let notModified = try await fixture.get("/e", [("if-none-match", etag)])
        XCTAssertEqual(notModified.status, .notModified)
        await fixture.stop()
    }
}

/// A value the origin's script reads and the test changes.
final class VersionBox: @unchecked Sendable {
    // Unchecked: tests set it between requests and the origin reads it while answering one; the
    // lock makes those accesses exclusive.
    private let lock = NIOLock()
    private var stored: String

    init(_ value: String) { stored = value }

    var value: String {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
