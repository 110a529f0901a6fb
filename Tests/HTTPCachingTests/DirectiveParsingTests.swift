import TestSupport
import XCTest

@testable import HTTPCaching

final class DirectiveParsingTests: XCTestCase {
    func testResponseDirectives() {
        let parsed = ResponseCacheControl(values: [
            "public, max-age=60, s-maxage=120", "stale-while-revalidate=30,stale-if-error=86400, must-revalidate",
        ])
        XCTAssertTrue(parsed.isPublic)
        XCTAssertEqual(parsed.maxAge, 60)
        XCTAssertEqual(parsed.sharedMaxAge, 120)
        XCTAssertEqual(parsed.staleWhileRevalidate, 30)
        XCTAssertEqual(parsed.staleIfError, 86400)
        XCTAssertTrue(parsed.mustRevalidate)
        XCTAssertFalse(parsed.isMalformed)
        XCTAssertTrue(parsed.isPresent)
    }

    func testNamesAreCaseInsensitiveAndQuotedArgumentsKeepTheirCommas() {
        let parsed = ResponseCacheControl(values: [#"No-Cache="Set-Cookie, X-A", MAX-AGE="30", Private"#])
        XCTAssertTrue(parsed.noCache)
        XCTAssertTrue(parsed.isPrivate)
        XCTAssertEqual(parsed.maxAge, 30)
        XCTAssertFalse(parsed.isMalformed)
    }

    func testMalformedValuesFailSafe() {
        for value in [
            "max-age=abc", "max-age=-1", "max-age=1.5", "max-age", "max-age=", "=5", #"max-age="5"#,
            "max-age=10, max-age=20", "s-maxage=1 2", #"public "x""#,
        ] {
            XCTAssertTrue(ResponseCacheControl(values: [value]).isMalformed, value)
        }
        // The same value twice is not a contradiction.
        XCTAssertFalse(ResponseCacheControl(values: ["max-age=10", "max-age=10"]).isMalformed)
    }

    func testUnknownDirectivesAndEmptyItemsAreIgnored() {
        let parsed = ResponseCacheControl(values: [",, max-age=5 ,, community=\"UCI\", x-ext"])
        XCTAssertEqual(parsed.maxAge, 5)
        XCTAssertFalse(parsed.isMalformed)
        XCTAssertFalse(ResponseCacheControl(values: [""]).isPresent)
    }

    func testHugeDeltaSecondsAreCappedNotOverflowed() {
        XCTAssertEqual(ResponseCacheControl(values: ["max-age=99999999999999999999999999"]).maxAge, 1 << 31)
    }

    func testRequestDirectives() {
        let parsed = RequestCacheControl(
            cacheControl: ["max-age=0, max-stale, min-fresh=5, only-if-cached"], pragma: [])
        XCTAssertEqual(parsed.maxAge, 0)
        XCTAssertEqual(parsed.maxStale, Int.max)
        XCTAssertEqual(parsed.minFresh, 5)
        XCTAssertTrue(parsed.onlyIfCached)
        XCTAssertFalse(parsed.noCache)
        XCTAssertEqual(RequestCacheControl(cacheControl: ["max-stale=30"], pragma: []).maxStale, 30)
    }

    func testPragmaNoCacheCountsOnlyWithoutCacheControl() {
        XCTAssertTrue(RequestCacheControl(cacheControl: [], pragma: ["no-cache"]).noCache)
        XCTAssertFalse(RequestCacheControl(cacheControl: ["max-age=10"], pragma: ["no-cache"]).noCache)
    }

    func testMalformedRequestDirectivesMeanGoToTheOrigin() {
        XCTAssertTrue(RequestCacheControl(cacheControl: ["max-age=soon"], pragma: []).noCache)
        XCTAssertTrue(RequestCacheControl(cacheControl: [#"max-stale="#], pragma: []).noCache)
    }

    func testArbitraryBytesNeverCrashTheParser() {
        var generator = SplitMix64(seed: 7)
        let alphabet = Array(#"abcmx-=," \;/0123456789\"#.utf8) + [0, 0xFF, 0x0D, 0x0A]
        for _ in 0..<5000 {
            let length = Int(generator.next() % 40)
            let bytes = (0..<length).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] }
            let text = String(decoding: bytes, as: UTF8.self)
            _ = ResponseCacheControl(values: [text])
            _ = RequestCacheControl(cacheControl: [text], pragma: [text])
            _ = EntityTagList.parse(text)
            _ = HTTPDate.parse(text)
            _ = AcceptEncoding([text])
        }
    }
}
