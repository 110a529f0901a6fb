import GatewayConfig
import XCTest

final class RouterMethodHeaderTests: XCTestCase {
    func testMethodsAreCaseSensitive() {
        let router = Router(routes: [RouteMatchConfig(methods: ["GET", "DELETE"])])
        XCTAssertEqual(router.matchIndex(host: nil, path: "/", method: "GET"), 0)
        XCTAssertEqual(router.matchIndex(host: nil, path: "/", method: "DELETE"), 0)
        XCTAssertNil(router.matchIndex(host: nil, path: "/", method: "get"))
        XCTAssertNil(router.matchIndex(host: nil, path: "/", method: "GETX"))
        XCTAssertNil(router.matchIndex(host: nil, path: "/", method: ""))
    }

    func testHeaderPresence() {
        let router = Router(routes: [RouteMatchConfig(headers: [HeaderMatch(name: "x-canary")])])
        XCTAssertEqual(router.matchIndex(host: nil, path: "/", headers: RouterTestHeaders([("X-Canary", "")])), 0)
        XCTAssertEqual(router.matchIndex(host: nil, path: "/", headers: RouterTestHeaders([("x-canary", "1")])), 0)
        XCTAssertNil(router.matchIndex(host: nil, path: "/", headers: RouterTestHeaders([("x-other", "1")])))
        XCTAssertNil(router.matchIndex(host: nil, path: "/"))
    }

    func testHeaderValue() {
        let router = Router(routes: [RouteMatchConfig(headers: [HeaderMatch(name: "x-version", value: "2")])])
        XCTAssertEqual(router.matchIndex(host: nil, path: "/", headers: RouterTestHeaders([("x-version", "2")])), 0)
        XCTAssertEqual(
            router.matchIndex(
                host: nil, path: "/", headers: RouterTestHeaders([("x-version", "1"), ("X-Version", "2")])),
            0
        )
        XCTAssertNil(router.matchIndex(host: nil, path: "/", headers: RouterTestHeaders([("x-version", "1")])))
        XCTAssertNil(router.matchIndex(host: nil, path: "/", headers: RouterTestHeaders([("x-version", "2 ")])))
    }

    func testAllHeaderConstraintsMustHold() {
        let router = Router(routes: [
            RouteMatchConfig(headers: [HeaderMatch(name: "a"), HeaderMatch(name: "b", value: "1")])
        ])
        XCTAssertEqual(
            router.matchIndex(host: nil, path: "/", headers: RouterTestHeaders([("a", "x"), ("b", "1")])), 0)
        XCTAssertNil(router.matchIndex(host: nil, path: "/", headers: RouterTestHeaders([("a", "x")])))
        XCTAssertNil(router.matchIndex(host: nil, path: "/", headers: RouterTestHeaders([("b", "1")])))
    }
}
