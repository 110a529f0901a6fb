import XCTest

@testable import HTTPCaching

final class StorageDecisionTests: XCTestCase {
    /// 2026-11-29 00:00:00 GMT, as milliseconds and as an HTTP date.
    let now: Int64 = 1_796_083_200_000
    var nowText: String { HTTPDate.format(now / 1000) }

    func facts(_ status: Int = 200, _ cacheControl: String? = nil, configure: (inout ResponseFacts) -> Void = { _ in })
        -> ResponseFacts
    {
        var facts = ResponseFacts(status: status)
        facts.date = nowText
        if let cacheControl { facts.cacheControl = [cacheControl] }
        configure(&facts)
        return facts
    }

    func decide(_ facts: ResponseFacts, policy: CachePolicy = CachePolicy()) -> StorageDecision {
        StorageDecision.evaluate(facts, policy: policy, requestTime: now, responseTime: now)
    }

    func lifetime(_ facts: ResponseFacts, policy: CachePolicy = CachePolicy()) -> Int? {
        if case .store(let freshness) = decide(facts, policy: policy) { return freshness.lifetime }
        return nil
    }

    func testLifetimePrecedenceForASharedCache() {
        XCTAssertEqual(lifetime(facts(200, "max-age=60, s-maxage=120")), 120)
        XCTAssertEqual(lifetime(facts(200, "max-age=60") { $0.expires = [HTTPDate.format(self.now / 1000 + 600)] }), 60)
        XCTAssertEqual(lifetime(facts(200) { $0.expires = [HTTPDate.format(self.now / 1000 + 600)] }), 600)
    }

    func testInvalidOrConflictingExpiresMeansAlreadyExpired() {
        let withValidator: (inout ResponseFacts) -> Void = { $0.etag = #""v""# }
        XCTAssertEqual(
            lifetime(
                facts(200) {
                    withValidator(&$0)
                    $0.expires = ["0"]
                }), 0)
        XCTAssertEqual(
            lifetime(
                facts(200) {
                    withValidator(&$0)
                    $0.expires = [HTTPDate.format(self.now / 1000 + 60), HTTPDate.format(self.now / 1000 + 90)]
                }), 0)
        // Without a validator an already expired response is not worth storing.
        XCTAssertEqual(decide(facts(200) { $0.expires = ["0"] }), .doNotStore(.noFreshnessOrValidator))
    }

    func testHeuristicFreshnessOnlyWhereAllowed() {
        let tenDaysAgo = HTTPDate.format(now / 1000 - 10 * 86400)
        XCTAssertEqual(lifetime(facts(200) { $0.lastModified = tenDaysAgo }), 86400)  // 10 % of 10 days, the cap
        let oneHourAgo = HTTPDate.format(now / 1000 - 3600)
        XCTAssertEqual(lifetime(facts(404) { $0.lastModified = oneHourAgo }), 360)
        // 302 and 500 are not heuristically cacheable; `public` makes them so.
        XCTAssertEqual(decide(facts(302) { $0.lastModified = oneHourAgo }), .doNotStore(.noFreshnessOrValidator))
        XCTAssertEqual(decide(facts(500) { $0.lastModified = oneHourAgo }), .doNotStore(.noFreshnessOrValidator))
        XCTAssertEqual(lifetime(facts(302, "public") { $0.lastModified = oneHourAgo }), 360)
        // Explicit freshness makes any final status storable.
        XCTAssertEqual(lifetime(facts(302, "max-age=5")), 5)
    }

    func testRouteDefaultAndCeiling() {
        let policy = CachePolicy(defaultTTL: 3600, maxTTL: 600)
        XCTAssertEqual(lifetime(facts(200), policy: CachePolicy(defaultTTL: 3600)), 3600)
        XCTAssertEqual(lifetime(facts(200), policy: policy), 600)
        XCTAssertEqual(lifetime(facts(200, "max-age=86400"), policy: policy), 600)
        XCTAssertEqual(lifetime(facts(200, "max-age=10"), policy: policy), 10)
        // The default applies only where the origin said nothing and heuristics are allowed.
        XCTAssertEqual(decide(facts(500), policy: policy), .doNotStore(.noFreshnessOrValidator))
    }

    func testWhatIsNeverStored() {
        XCTAssertEqual(decide(facts(200, "no-store, max-age=60")), .doNotStore(.noStore))
        XCTAssertEqual(decide(facts(200, "private, max-age=60")), .doNotStore(.privateResponse))
        XCTAssertEqual(decide(facts(200, #"private="x", max-age=60"#)), .doNotStore(.privateResponse))
        XCTAssertEqual(decide(facts(200, "max-age=6o")), .doNotStore(.malformedDirectives))
        XCTAssertEqual(decide(facts(206, "max-age=60")), .doNotStore(.status))
        XCTAssertEqual(decide(facts(304, "max-age=60")), .doNotStore(.status))
        XCTAssertEqual(decide(facts(101, "max-age=60")), .doNotStore(.status))
        XCTAssertEqual(decide(facts(200, "max-age=60") { $0.vary = ["Accept, *"] }), .doNotStore(.varyAll))
        XCTAssertEqual(decide(facts(200, "max-age=60") { $0.requestNoStore = true }), .doNotStore(.requestNoStore))
    }

    func testSetCookieResponsesOnlyWhenTheRouteSaysSo() {
        let withCookie = facts(200, "max-age=60") { $0.hasSetCookie = true }
        XCTAssertEqual(decide(withCookie), .doNotStore(.setCookie))
        XCTAssertEqual(lifetime(withCookie, policy: CachePolicy(ignoreSetCookie: true)), 60)
    }

    func testAuthorizedRequestsNeedTheResponseToAllowSharing() {
        let authorized: (String) -> ResponseFacts = { cc in
            self.facts(200, cc) { $0.requestHadAuthorization = true }
        }
        XCTAssertEqual(decide(authorized("max-age=60")), .doNotStore(.authorization))
        XCTAssertEqual(lifetime(authorized("public, max-age=60")), 60)
        XCTAssertEqual(lifetime(authorized("s-maxage=60")), 60)
        XCTAssertEqual(lifetime(authorized("must-revalidate, max-age=60")), 60)
    }

    func testTargetedFieldReplacesCacheControlAndExpires() {
        let targeted = facts(200, "no-store") {
            $0.targetedCacheControl = ["max-age=300"]
            $0.expires = ["0"]
        }
        XCTAssertEqual(lifetime(targeted), 300)
        // A targeted field that does not parse is ignored, and Cache-Control applies again.
        let broken = facts(200, "max-age=20") { $0.targetedCacheControl = ["max-age=x"] }
        XCTAssertEqual(lifetime(broken), 20)
        let targetedNoStore = facts(200, "max-age=20") { $0.targetedCacheControl = ["no-store"] }
        XCTAssertEqual(decide(targetedNoStore), .doNotStore(.noStore))
    }

    func testNoCacheAndPragmaMeanAlwaysRevalidateAndNeedAValidator() {
        XCTAssertEqual(decide(facts(200, "no-cache, max-age=60")), .doNotStore(.noFreshnessOrValidator))
        guard case .store(let freshness) = decide(facts(200, "no-cache, max-age=60") { $0.etag = #""e""# }) else {
            return XCTFail("a no-cache response with a validator is stored for revalidation")
        }
        XCTAssertTrue(freshness.alwaysRevalidate)
        guard
            case .store(let pragma) = decide(
                facts(200) {
                    $0.pragma = ["no-cache"]
                    $0.lastModified = self.nowText
                })
        else { return XCTFail("Pragma: no-cache with a validator is stored") }
        XCTAssertTrue(pragma.alwaysRevalidate)
        guard case .store(let overridden) = decide(facts(200, "max-age=5") { $0.pragma = ["no-cache"] }) else {
            return XCTFail("Cache-Control wins over Pragma")
        }
        XCTAssertFalse(overridden.alwaysRevalidate)
    }

    func testStaleWindowsFromTheResponseOrTheRoute() {
        let policy = CachePolicy(staleWhileRevalidate: 30, staleIfError: 600)
        func windows(_ cc: String) -> (Int, Int, Bool)? {
            guard case .store(let freshness) = decide(facts(200, cc), policy: policy) else { return nil }
            return (freshness.staleWhileRevalidate, freshness.staleIfError, freshness.mustRevalidate)
        }
        XCTAssertTrue(windows("max-age=60")! == (30, 600, false))
        XCTAssertTrue(windows("max-age=60, stale-while-revalidate=5, stale-if-error=7")! == (5, 7, false))
        XCTAssertTrue(windows("max-age=60, must-revalidate, stale-while-revalidate=5")! == (0, 0, true))
        XCTAssertTrue(windows("max-age=60, proxy-revalidate")! == (0, 0, true))
        // s-maxage implies proxy-revalidate, unless the origin itself granted a window.
        XCTAssertTrue(windows("s-maxage=60")! == (0, 0, true))
        XCTAssertTrue(windows("s-maxage=60, stale-while-revalidate=9")! == (9, 0, true))
    }

    /// RFC 9111 4.2.3, with an upstream Age, a clock-skewed Date and a slow response.
    func testCorrectedInitialAge() throws {
        var facts = facts(200, "max-age=600")
        facts.age = "100"
        facts.date = HTTPDate.format(now / 1000 - 30)  // apparent age 30 s
        let decision = StorageDecision.evaluate(
            facts, policy: CachePolicy(), requestTime: now - 2000, responseTime: now)
        guard case .store(let freshness) = decision else { return XCTFail("stored") }
        // max(apparent 30 s, Age 100 s + response delay 2 s) = 102 s.
        XCTAssertEqual(freshness.correctedInitialAge, 102_000)
        XCTAssertEqual(freshness.ageSeconds(now: now + 10_500), 112)
        XCTAssertEqual(freshness.remainingSeconds(now: now + 10_500), 487)
        XCTAssertTrue(freshness.isFresh(now: now + 497_000))
        XCTAssertFalse(freshness.isFresh(now: now + 498_000))
        XCTAssertEqual(freshness.remainingSeconds(now: now + 498_500), -1)

        // A Date in the future (skew) never makes the age negative.
        facts.age = nil
        facts.date = HTTPDate.format(now / 1000 + 3600)
        guard
            case .store(let skewed) = StorageDecision.evaluate(
                facts, policy: CachePolicy(), requestTime: now, responseTime: now)
        else { return XCTFail("stored") }
        XCTAssertEqual(skewed.correctedInitialAge, 0)
    }
}
