import XCTest

@testable import HTTPCaching

final class ServeDecisionTests: XCTestCase {
    let start: Int64 = 1_000_000_000
    func freshness(lifetime: Int, swr: Int = 0, sie: Int = 0, mustRevalidate: Bool = false, always: Bool = false)
        -> Freshness
    {
        Freshness(
            lifetime: lifetime, correctedInitialAge: 0, responseTime: start, staleWhileRevalidate: swr,
            staleIfError: sie, alwaysRevalidate: always, mustRevalidate: mustRevalidate)
    }
    func request(_ cc: String) -> RequestCacheControl { RequestCacheControl(cacheControl: [cc], pragma: []) }
    let none = RequestCacheControl()

    func testFreshStaleAndWindows() {
        let entry = freshness(lifetime: 60, swr: 30, sie: 300)
        XCTAssertEqual(ServeDecision.decide(entry, request: none, now: start + 59_999), .fresh)
        XCTAssertEqual(ServeDecision.decide(entry, request: none, now: start + 60_000), .staleWhileRevalidate)
        XCTAssertEqual(ServeDecision.decide(entry, request: none, now: start + 90_000), .staleWhileRevalidate)
        XCTAssertEqual(ServeDecision.decide(entry, request: none, now: start + 90_001), .revalidate)
        XCTAssertTrue(ServeDecision.mayServeStaleOnError(entry, now: start + 360_000))
        XCTAssertFalse(ServeDecision.mayServeStaleOnError(entry, now: start + 360_001))
    }

    func testZeroWindowsAllowNoStaleness() {
        let entry = freshness(lifetime: 0)
        XCTAssertEqual(ServeDecision.decide(entry, request: none, now: start), .revalidate)
        XCTAssertFalse(ServeDecision.mayServeStaleOnError(entry, now: start))
    }

    func testRequestDirectives() {
        let entry = freshness(lifetime: 60)
        XCTAssertEqual(ServeDecision.decide(entry, request: request("no-cache"), now: start + 1), .revalidate)
        XCTAssertEqual(ServeDecision.decide(entry, request: request("max-age=0"), now: start + 1), .revalidate)
        XCTAssertEqual(ServeDecision.decide(entry, request: request("max-age=0"), now: start), .fresh)
        XCTAssertEqual(ServeDecision.decide(entry, request: request("max-age=10"), now: start + 10_000), .fresh)
        XCTAssertEqual(ServeDecision.decide(entry, request: request("max-age=10"), now: start + 10_001), .revalidate)
        XCTAssertEqual(ServeDecision.decide(entry, request: request("min-fresh=20"), now: start + 40_000), .fresh)
        XCTAssertEqual(ServeDecision.decide(entry, request: request("min-fresh=20"), now: start + 40_001), .revalidate)
        XCTAssertEqual(
            ServeDecision.decide(entry, request: request("max-stale=10"), now: start + 70_000), .staleAcceptedByClient)
        XCTAssertEqual(ServeDecision.decide(entry, request: request("max-stale=10"), now: start + 70_001), .revalidate)
        XCTAssertEqual(
            ServeDecision.decide(entry, request: request("max-stale"), now: start + 9_000_000), .staleAcceptedByClient)
    }

    func testProhibitionsOfStaleUse() {
        let strict = freshness(lifetime: 60, mustRevalidate: true)
        XCTAssertEqual(ServeDecision.decide(strict, request: request("max-stale"), now: start + 61_000), .revalidate)
        let always = freshness(lifetime: 60, sie: 600, always: true)
        XCTAssertEqual(ServeDecision.decide(always, request: none, now: start), .revalidate)
        XCTAssertFalse(ServeDecision.mayServeStaleOnError(always, now: start))
    }
}
