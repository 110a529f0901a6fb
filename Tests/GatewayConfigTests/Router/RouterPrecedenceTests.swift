import GatewayConfig
import XCTest

final class RouterPrecedenceTests: XCTestCase {
    func testExactBeatsTemplateBeatsPrefixBeatsNone() {
        let routes = [
            RouteMatchConfig(),  // 0
            RouteMatchConfig(path: .prefix("/v1/users")),  // 1
            RouteMatchConfig(path: .template("/v1/users/{id}")),  // 2
            RouteMatchConfig(path: .template("/v1/users/me")),  // 3
        ]
        let router = Router(routes: routes)
        XCTAssertEqual(router.matchIndex(host: nil, path: "/v1/users/me"), 3)
        XCTAssertEqual(router.matchIndex(host: nil, path: "/v1/users/7"), 2)
        XCTAssertEqual(router.matchIndex(host: nil, path: "/v1/users/7/x"), 1)
        XCTAssertEqual(router.matchIndex(host: nil, path: "/other"), 0)
        // Config order does not matter when specificity differs.
        let reversed = Router(routes: routes.reversed())
        XCTAssertEqual(reversed.matchIndex(host: nil, path: "/v1/users/me"), 0)
        XCTAssertEqual(reversed.matchIndex(host: nil, path: "/v1/users/7"), 1)
        XCTAssertEqual(reversed.matchIndex(host: nil, path: "/v1/users/7/x"), 2)
        XCTAssertEqual(reversed.matchIndex(host: nil, path: "/other"), 3)
    }

    func testTemplateWithMoreLiteralSegmentsWins() {
        let router = Router(routes: [
            RouteMatchConfig(path: .template("/a/{x}/{y}")),  // 0: one literal, early
            RouteMatchConfig(path: .template("/{x}/b/c")),  // 1: two literals
        ])
        XCTAssertEqual(router.matchIndex(host: nil, path: "/a/b/c"), 1)
        XCTAssertEqual(router.matchIndex(host: nil, path: "/a/b/d"), 0)
    }

    func testTemplateWithEarlierLiteralWinsOnEqualCount() {
        let router = Router(routes: [
            RouteMatchConfig(path: .template("/{x}/b/{y}")),  // 0
            RouteMatchConfig(path: .template("/a/{x}/{y}")),  // 1
            RouteMatchConfig(path: .template("/{x}/{y}/c")),  // 2
        ])
        XCTAssertEqual(router.matchIndex(host: nil, path: "/a/b/c"), 1)
        XCTAssertEqual(router.matchIndex(host: nil, path: "/z/b/c"), 0)
        XCTAssertEqual(router.matchIndex(host: nil, path: "/z/y/c"), 2)
    }

    func testLongerPrefixWins() {
        let router = Router(routes: [
            RouteMatchConfig(path: .prefix("/")),  // 0
            RouteMatchConfig(path: .prefix("/v1")),  // 1
            RouteMatchConfig(path: .prefix("/v1/users")),  // 2
            RouteMatchConfig(path: .prefix("/v1/users/")),  // 3
        ])
        XCTAssertEqual(router.matchIndex(host: nil, path: "/v1/users/7"), 3)
        XCTAssertEqual(router.matchIndex(host: nil, path: "/v1/users"), 2)
        XCTAssertEqual(router.matchIndex(host: nil, path: "/v1/x"), 1)
        XCTAssertEqual(router.matchIndex(host: nil, path: "/v2"), 0)
    }

    func testRootPrefixBeatsNoPathConstraint() {
        let router = Router(routes: [RouteMatchConfig(), RouteMatchConfig(path: .prefix("/"))])
        XCTAssertEqual(router.matchIndex(host: nil, path: "/x"), 1)
    }

    func testMethodsConstraintBeatsNone() {
        let router = Router(routes: [
            RouteMatchConfig(path: .prefix("/a")),  // 0
            RouteMatchConfig(path: .prefix("/a"), methods: ["GET", "HEAD"]),  // 1
        ])
        XCTAssertEqual(router.matchIndex(host: nil, path: "/a", method: "GET"), 1)
        XCTAssertEqual(router.matchIndex(host: nil, path: "/a", method: "POST"), 0)
    }

    func testPathOutranksMethods() {
        let router = Router(routes: [
            RouteMatchConfig(path: .prefix("/a"), methods: ["GET"]),  // 0
            RouteMatchConfig(path: .prefix("/a/b")),  // 1
        ])
        XCTAssertEqual(router.matchIndex(host: nil, path: "/a/b", method: "GET"), 1)
    }

    func testMoreHeaderConstraintsWin() {
        let router = Router(routes: [
            RouteMatchConfig(headers: [HeaderMatch(name: "x-a")]),  // 0
            RouteMatchConfig(headers: [HeaderMatch(name: "x-a"), HeaderMatch(name: "x-b", value: "1")]),  // 1
            RouteMatchConfig(),  // 2
        ])
        XCTAssertEqual(
            router.matchIndex(host: nil, path: "/", headers: RouterTestHeaders([("x-a", ""), ("x-b", "1")])), 1)
        XCTAssertEqual(
            router.matchIndex(host: nil, path: "/", headers: RouterTestHeaders([("x-a", ""), ("x-b", "2")])), 0)
        XCTAssertEqual(router.matchIndex(host: nil, path: "/"), 2)
    }

    func testMethodsOutrankHeaders() {
        let router = Router(routes: [
            RouteMatchConfig(headers: [HeaderMatch(name: "x-a"), HeaderMatch(name: "x-b")]),  // 0
            RouteMatchConfig(methods: ["GET"]),  // 1
        ])
        XCTAssertEqual(
            router.matchIndex(host: nil, path: "/", headers: RouterTestHeaders([("x-a", ""), ("x-b", "")])), 1)
    }

    func testTiesGoToTheLowerConfigIndex() {
        let router = Router(routes: [
            RouteMatchConfig(hosts: ["*.test"], path: .prefix("/a"), methods: ["GET"]),  // 0
            RouteMatchConfig(hosts: ["*.test"], path: .prefix("/a"), methods: ["POST", "GET"]),  // 1
            RouteMatchConfig(path: .template("/{x}")),  // 2
            RouteMatchConfig(path: .template("/{y}")),  // 3
        ])
        XCTAssertEqual(router.matchIndex(host: "h.test", path: "/a", method: "GET"), 0)
        XCTAssertEqual(router.matchIndex(host: "h.test", path: "/a", method: "POST"), 1)
        XCTAssertEqual(router.matchIndex(host: nil, path: "/b"), 2)
    }

    func testBestTemplateFailingOnMethodFallsBackToNextBest() {
        let router = Router(routes: [
            RouteMatchConfig(path: .template("/a/b"), methods: ["POST"]),  // 0
            RouteMatchConfig(path: .template("/a/{x}"), methods: ["PUT"]),  // 1
            RouteMatchConfig(path: .template("/{x}/b")),  // 2
            RouteMatchConfig(path: .prefix("/a")),  // 3
        ])
        XCTAssertEqual(router.matchIndex(host: nil, path: "/a/b", method: "POST"), 0)
        XCTAssertEqual(router.matchIndex(host: nil, path: "/a/b", method: "PUT"), 1)
        XCTAssertEqual(router.matchIndex(host: nil, path: "/a/b", method: "GET"), 2)
        XCTAssertEqual(router.matchIndex(host: nil, path: "/a/c", method: "GET"), 3)
    }

    func testNoMatchAndEmptyRouteList() {
        XCTAssertNil(Router(routes: []).matchIndex(host: "a.test", path: "/"))
        XCTAssertNil(Router(routes: []).matchIndex(host: nil, path: ""))
        let router = Router(routes: [RouteMatchConfig(hosts: ["a.test"], path: .prefix("/a"), methods: ["GET"])])
        XCTAssertNil(router.matchIndex(host: "a.test", path: "/b"))
        XCTAssertNil(router.matchIndex(host: "a.test", path: "/a", method: "POST"))
        XCTAssertNil(router.matchIndex(host: "b.test", path: "/a"))
    }
}
