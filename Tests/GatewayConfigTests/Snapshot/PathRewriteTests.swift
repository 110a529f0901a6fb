import XCTest

@testable import GatewayConfig

final class PathRewriteTests: XCTestCase {
    private func strip(_ prefix: String, _ target: String) -> String {
        PathRewrite(matchedPrefix: prefix, replacement: "").apply(toTarget: target)
    }

    private func replace(_ prefix: String, with replacement: String, _ target: String) -> String {
        PathRewrite(matchedPrefix: prefix, replacement: replacement).apply(toTarget: target)
    }

    func testStripPrefix() {
        XCTAssertEqual(strip("/v1", "/v1/users/7"), "/users/7")
        XCTAssertEqual(strip("/v1", "/v1"), "/")
        XCTAssertEqual(strip("/v1", "/v1?x=1"), "/?x=1")
        XCTAssertEqual(strip("/v1", "/v1/users?x=/v1"), "/users?x=/v1")
        XCTAssertEqual(strip("/v1/", "/v1/users"), "/users")
    }

    func testStripIsSegmentAware() {
        XCTAssertEqual(strip("/v1", "/v1x/users"), "/v1x/users")
        XCTAssertEqual(strip("/v1", "/other"), "/other")
    }

    func testReplacePrefix() {
        XCTAssertEqual(replace("/v1/orders", with: "/api/orders", "/v1/orders/9?a=b"), "/api/orders/9?a=b")
        XCTAssertEqual(replace("/v1/orders", with: "/api/orders", "/v1/orders"), "/api/orders")
        XCTAssertEqual(replace("/old/", with: "/new", "/old/x"), "/new/x")
        XCTAssertEqual(replace("/old/", with: "/new/", "/old/x"), "/new/x")
        XCTAssertEqual(replace("/old", with: "/", "/old/x"), "/x")
        XCTAssertEqual(replace("/", with: "/base", "/x"), "/base/x")
    }

    func testSnapshotCompilesRewriteFromRoute() {
        let route = RouteConfig(
            name: "r", match: RouteMatchConfig(path: .prefix("/v1/orders")), upstream: "u",
            rewrite: .replacePrefix("/api"))
        XCTAssertEqual(PathRewrite(route: route), PathRewrite(matchedPrefix: "/v1/orders", replacement: "/api"))
        let stripping = RouteConfig(name: "s", match: RouteMatchConfig(), upstream: "u", rewrite: .stripPrefix("/v1"))
        XCTAssertEqual(PathRewrite(route: stripping), PathRewrite(matchedPrefix: "/v1", replacement: ""))
        XCTAssertNil(PathRewrite(route: RouteConfig(name: "n", match: RouteMatchConfig(), upstream: "u")))
    }
}
