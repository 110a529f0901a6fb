import GatewayConfig
import XCTest

final class RouterPathTests: XCTestCase {
    func testPrefixIsSegmentAware() {
        let router = Router(routes: [RouteMatchConfig(path: .prefix("/v1/users"))])
        XCTAssertEqual(router.matchIndex(host: nil, path: "/v1/users"), 0)
        XCTAssertEqual(router.matchIndex(host: nil, path: "/v1/users/"), 0)
        XCTAssertEqual(router.matchIndex(host: nil, path: "/v1/users/7"), 0)
        XCTAssertEqual(router.matchIndex(host: nil, path: "/v1/users/7/orders"), 0)
        XCTAssertNil(router.matchIndex(host: nil, path: "/v1/usersX"))
        XCTAssertNil(router.matchIndex(host: nil, path: "/v1/user"))
        XCTAssertNil(router.matchIndex(host: nil, path: "/v1"))
        XCTAssertNil(router.matchIndex(host: nil, path: "/V1/users"))
    }

    func testPrefixEndingInSlashNeedsSomethingBelowIt() {
        let router = Router(routes: [RouteMatchConfig(path: .prefix("/assets/"))])
        XCTAssertEqual(router.matchIndex(host: nil, path: "/assets/"), 0)
        XCTAssertEqual(router.matchIndex(host: nil, path: "/assets/app.js"), 0)
        XCTAssertEqual(router.matchIndex(host: nil, path: "/assets//x"), 0)
        XCTAssertNil(router.matchIndex(host: nil, path: "/assets"))
        XCTAssertNil(router.matchIndex(host: nil, path: "/assetsX/"))
    }

    func testRootPrefixMatchesEverything() {
        let router = Router(routes: [RouteMatchConfig(path: .prefix("/"))])
        for path in ["/", "/a", "/a/b/", "//", "*", ""] {
            XCTAssertEqual(router.matchIndex(host: nil, path: path), 0, path)
        }
    }

    func testTemplateCapturesParameters() throws {
        let router = Router(routes: [RouteMatchConfig(path: .template("/v1/users/{id}/orders/{order}"))])
        let path = "/v1/users/42/orders/abc-9"
        let match = try XCTUnwrap(router.matchAll(host: nil, path: path))
        XCTAssertEqual(match.routeIndex, 0)
        XCTAssertEqual(
            match.parameters,
            [RouteParameter(name: "id", value: "42"), RouteParameter(name: "order", value: "abc-9")]
        )
    }

    func testParameterMatchesExactlyOneNonEmptySegment() {
        let router = Router(routes: [RouteMatchConfig(path: .template("/v1/users/{id}"))])
        XCTAssertEqual(router.matchIndex(host: nil, path: "/v1/users/7"), 0)
        XCTAssertNil(router.matchIndex(host: nil, path: "/v1/users/"))
        XCTAssertNil(router.matchIndex(host: nil, path: "/v1/users"))
        XCTAssertNil(router.matchIndex(host: nil, path: "/v1/users/7/"))
        XCTAssertNil(router.matchIndex(host: nil, path: "/v1/users/7/x"))
    }

    func testParameterValuesAreRawBytesAndMayBeNonASCII() throws {
        let router = Router(routes: [RouteMatchConfig(path: .template("/{a}/x/{b}"))])
        let match = try XCTUnwrap(router.matchAll(host: nil, path: "/caf%C3%A9/x/é\u{301}"))
        XCTAssertEqual(match.parameters.map(\.name), ["a", "b"])
        XCTAssertEqual(match.parameters.map { String($0.value) }, ["caf%C3%A9", "é\u{301}"])
    }

    func testParameterValueIsASliceOfThePath() throws {
        let router = Router(routes: [RouteMatchConfig(path: .template("/files/{name}"))])
        let path: Substring = "GET /files/report.pdf HTTP/1.1".dropFirst(4).prefix(17)
        let match = try XCTUnwrap(
            router.match(host: nil, path: path, method: "GET", headers: RouterTestHeaders())
        )
        let value = try XCTUnwrap(match.parameters.first?.value)
        XCTAssertEqual(value, "report.pdf")
        XCTAssertTrue(path.startIndex <= value.startIndex && value.endIndex <= path.endIndex)
    }

    func testExactTemplateIsWholePathByteForByte() {
        let router = Router(routes: [RouteMatchConfig(path: .template("/health"))])
        XCTAssertEqual(router.matchIndex(host: nil, path: "/health"), 0)
        XCTAssertNil(router.matchIndex(host: nil, path: "/health/"))
        XCTAssertNil(router.matchIndex(host: nil, path: "/Health"))
        XCTAssertNil(router.matchIndex(host: nil, path: "/health/x"))
        XCTAssertNil(router.matchIndex(host: nil, path: "/%68ealth"))
    }

    func testTrailingSlashTemplate() {
        let router = Router(routes: [RouteMatchConfig(path: .template("/dir/"))])
        XCTAssertEqual(router.matchIndex(host: nil, path: "/dir/"), 0)
        XCTAssertNil(router.matchIndex(host: nil, path: "/dir"))
    }

    func testSameParameterPositionWithDifferentNames() throws {
        let router = Router(routes: [
            RouteMatchConfig(path: .template("/u/{id}")),
            RouteMatchConfig(path: .template("/u/{user}/posts")),
        ])
        XCTAssertEqual(router.matchAll(host: nil, path: "/u/1")?.parameters, [RouteParameter(name: "id", value: "1")])
        XCTAssertEqual(
            router.matchAll(host: nil, path: "/u/2/posts")?.parameters,
            [RouteParameter(name: "user", value: "2")]
        )
    }

    func testRoutesWithoutParametersReportNone() {
        let router = Router(routes: [RouteMatchConfig(path: .prefix("/a"))])
        XCTAssertEqual(router.matchAll(host: nil, path: "/a/b"), RouteMatch(routeIndex: 0, parameters: []))
    }

    func testPrefixBracesAreLiteral() {
        let router = Router(routes: [RouteMatchConfig(path: .prefix("/a/{id}"))])
        XCTAssertEqual(router.matchIndex(host: nil, path: "/a/{id}/x"), 0)
        XCTAssertNil(router.matchIndex(host: nil, path: "/a/7"))
    }

    func testPathsWithoutLeadingSlash() {
        let router = Router(routes: [RouteMatchConfig(path: .prefix("/a")), RouteMatchConfig(path: .template("/{x}"))])
        XCTAssertNil(router.matchIndex(host: nil, path: "*"))
        XCTAssertNil(router.matchIndex(host: nil, path: ""))
        XCTAssertNil(router.matchIndex(host: nil, path: "a"))
    }
}
