import GatewayConfig
import XCTest

final class RouterHostTests: XCTestCase {
    private let router = Router(routes: [
        RouteMatchConfig(hosts: ["api.example.test"]),  // 0
        RouteMatchConfig(hosts: ["*.example.test"]),  // 1
        RouteMatchConfig(hosts: ["*.eu.example.test"]),  // 2
        RouteMatchConfig(),  // 3
        RouteMatchConfig(hosts: ["[::1]"]),  // 4
    ])

    func testExactBeatsWildcardBeatsNone() {
        XCTAssertEqual(router.matchIndex(host: "api.example.test", path: "/"), 0)
        XCTAssertEqual(router.matchIndex(host: "www.example.test", path: "/"), 1)
        XCTAssertEqual(router.matchIndex(host: "other.test", path: "/"), 3)
    }

    func testLongerWildcardSuffixWins() {
        XCTAssertEqual(router.matchIndex(host: "a.eu.example.test", path: "/"), 2)
        XCTAssertEqual(router.matchIndex(host: "a.b.eu.example.test", path: "/"), 2)
        XCTAssertEqual(router.matchIndex(host: "eu.example.test", path: "/"), 1)
    }

    func testWildcardNeedsAtLeastOneMoreLabel() {
        XCTAssertEqual(router.matchIndex(host: "a.b.example.test", path: "/"), 1)
        XCTAssertEqual(router.matchIndex(host: "example.test", path: "/"), 3)
        XCTAssertEqual(router.matchIndex(host: ".example.test", path: "/"), 3)
        XCTAssertEqual(router.matchIndex(host: "aexample.test", path: "/"), 3)
    }

    func testHostIsCaseInsensitive() {
        XCTAssertEqual(router.matchIndex(host: "API.Example.TEST", path: "/"), 0)
        XCTAssertEqual(router.matchIndex(host: "WWW.EXAMPLE.TEST", path: "/"), 1)
    }

    func testPortAndTrailingDotAreIgnored() {
        XCTAssertEqual(router.matchIndex(host: "api.example.test:8080", path: "/"), 0)
        XCTAssertEqual(router.matchIndex(host: "api.example.test.", path: "/"), 0)
        XCTAssertEqual(router.matchIndex(host: "API.example.test.:443", path: "/"), 0)
        XCTAssertEqual(router.matchIndex(host: "x.eu.example.test.:443", path: "/"), 2)
        XCTAssertEqual(router.matchIndex(host: "api.example.test:", path: "/"), 0)
        // Only one trailing dot is forgiven.
        XCTAssertEqual(router.matchIndex(host: "api.example.test..", path: "/"), 3)
    }

    func testIPv6Literal() {
        XCTAssertEqual(router.matchIndex(host: "[::1]", path: "/"), 4)
        XCTAssertEqual(router.matchIndex(host: "[::1]:8080", path: "/"), 4)
        XCTAssertEqual(router.matchIndex(host: "[::2]:8080", path: "/"), 3)
        // Unclosed bracket: taken whole, matches nothing host-specific, and does not trap.
        XCTAssertEqual(router.matchIndex(host: "[::1", path: "/"), 3)
    }

    func testMissingOrEmptyHostOnlyMatchesHostlessRoutes() {
        XCTAssertEqual(router.matchIndex(host: nil, path: "/"), 3)
        XCTAssertEqual(router.matchIndex(host: "", path: "/"), 3)
        let hostOnly = Router(routes: [RouteMatchConfig(hosts: ["a.test"])])
        XCTAssertNil(hostOnly.matchIndex(host: nil, path: "/"))
        XCTAssertNil(hostOnly.matchIndex(host: "b.test", path: "/"))
    }

    func testFallbackFromHostBucketToLessSpecificBuckets() {
        let router = Router(routes: [
            RouteMatchConfig(hosts: ["api.example.test"], path: .prefix("/admin")),  // 0
            RouteMatchConfig(hosts: ["*.example.test"], path: .prefix("/v1")),  // 1
            RouteMatchConfig(path: .template("/v2/{x}")),  // 2
        ])
        XCTAssertEqual(router.matchIndex(host: "api.example.test", path: "/admin/x"), 0)
        XCTAssertEqual(router.matchIndex(host: "api.example.test", path: "/v1/x"), 1)
        XCTAssertEqual(router.matchIndex(host: "api.example.test", path: "/v2/x"), 2)
        XCTAssertNil(router.matchIndex(host: "api.example.test", path: "/v3"))
    }

    func testHostOutranksPath() {
        let router = Router(routes: [
            RouteMatchConfig(path: .template("/v1/users")),  // 0: exact path, any host
            RouteMatchConfig(hosts: ["*.example.test"]),  // 1: wildcard host, any path
        ])
        XCTAssertEqual(router.matchIndex(host: "a.example.test", path: "/v1/users"), 1)
        XCTAssertEqual(router.matchIndex(host: "other.test", path: "/v1/users"), 0)
    }

    func testRouteWithSeveralHostsCountsWithTheBestMatchingOne() {
        let router = Router(routes: [
            RouteMatchConfig(hosts: ["*.example.test"], path: .template("/x")),  // 0
            RouteMatchConfig(hosts: ["*.test", "a.example.test"], path: .prefix("/")),  // 1
        ])
        // Route 1 matches a.example.test exactly, which beats route 0's wildcard despite its better path.
        XCTAssertEqual(router.matchIndex(host: "a.example.test", path: "/x"), 1)
        // For b.example.test route 1 only has `*.test`, shorter than route 0's suffix.
        XCTAssertEqual(router.matchIndex(host: "b.example.test", path: "/x"), 0)
        XCTAssertEqual(router.matchIndex(host: "b.example.test", path: "/y"), 1)
    }

    func testConfiguredHostsAreNormalisedDefensively() {
        let router = Router(routes: [
            RouteMatchConfig(hosts: ["API.Example.Test."]),  // 0
            RouteMatchConfig(hosts: ["*.Wild.Test"]),  // 1
            RouteMatchConfig(hosts: ["*"]),  // 2: not a wildcard form, so the literal host `*`
        ])
        XCTAssertEqual(router.matchIndex(host: "api.example.test", path: "/"), 0)
        XCTAssertEqual(router.matchIndex(host: "x.wild.test", path: "/"), 1)
        XCTAssertNil(router.matchIndex(host: "other.test", path: "/"))
        XCTAssertEqual(router.matchIndex(host: "*", path: "/"), 2)
    }

    func testDuplicateHostsInOneRoute() {
        let router = Router(routes: [
            RouteMatchConfig(hosts: ["a.test", "a.test"], methods: ["POST"]),
            RouteMatchConfig(hosts: ["a.test"]),
        ])
        XCTAssertEqual(router.matchIndex(host: "a.test", path: "/", method: "POST"), 0)
        XCTAssertEqual(router.matchIndex(host: "a.test", path: "/", method: "GET"), 1)
    }
}
