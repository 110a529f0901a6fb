import GatewayConfig
import XCTest

/// `Router` against `RouterReference` on seeded random route tables and requests. The pools are small on
/// purpose: collisions (many candidates per request, shared prefixes, same hosts) are where precedence and
/// bucket fallback can go wrong.
final class RouterRandomizedTests: XCTestCase {
    private static let configHosts = [
        "a.test", "b.a.test", "c.b.a.test", "d.test", "x.d.test", "[::1]",
        "*.a.test", "*.b.a.test", "*.test", "*.d.test",
    ]
    private static let requestHosts = [
        "a.test", "b.a.test", "c.b.a.test", "z.c.b.a.test", "d.test", "x.d.test", "y.d.test", "test",
        "other.example", "[::1]", "[::2]", "",
    ]
    private static let literalSegments = ["v1", "v2", "users", "orders", "a", "b", "", "x", "é"]
    private static let requestSegments = literalSegments + ["usersX", "7", "{id}", "v1 "]
    private static let parameterSegments = ["{id}", "{p}", "{q}"]
    private static let methods = ["GET", "POST", "PUT"]
    private static let requestMethods = methods + ["DELETE", "get"]
    private static let headerConstraints = [
        HeaderMatch(name: "x-a"), HeaderMatch(name: "x-a", value: "1"),
        HeaderMatch(name: "x-b"), HeaderMatch(name: "x-b", value: "2"),
    ]
    private static let requestHeaders = [("x-a", "1"), ("X-A", "0"), ("x-b", "2"), ("x-b", "3")]

    func testLargeTablesAgreeWithReference() {
        for seed: UInt64 in 1...3 {
            compare(seed: seed, routeCount: 1000, requestCount: 1500)
        }
    }

    func testSmallTablesAgreeWithReference() {
        // Few routes leave most buckets without a candidate, which exercises the fallback paths.
        for seed: UInt64 in 100...159 {
            compare(seed: seed, routeCount: 1 + Int(seed % 25), requestCount: 300)
        }
    }

    func testThousandsOfRoutesBuild() {
        var generator = RouterSplitMix64(seed: 7)
        let routes = (0..<5000).map { _ in Self.randomRoute(&generator) }
        let router = Router(routes: routes)
        let reference = RouterReference(routes: routes)
        for _ in 0..<200 {
            let request = Self.randomRequest(&generator)
            XCTAssertEqual(actual(router, request), expected(reference, request))
        }
    }

    private struct Request {
        var host: String?
        var path: String
        var method: String
        var headers: RouterTestHeaders
    }

    private func compare(seed: UInt64, routeCount: Int, requestCount: Int) {
        var generator = RouterSplitMix64(seed: seed)
        let routes = (0..<routeCount).map { _ in Self.randomRoute(&generator) }
        let router = Router(routes: routes)
        let reference = RouterReference(routes: routes)
        var matched = 0
        var failures = 0
        for _ in 0..<requestCount {
            let request = Self.randomRequest(&generator)
            let expected = expected(reference, request)
            let got = actual(router, request)
            if expected != nil {
                matched += 1
            }
            if got != expected, failures < 5 {
                failures += 1
                XCTFail(
                    """
                    seed \(seed): \(request.host ?? "nil") \(request.method) \(request.path) \
                    \(request.headers.fields): expected \(String(describing: expected)), \
                    got \(String(describing: got))\n\(Self.describe(routes, expected, got))
                    """
                )
            }
        }
        // Guards against a generator that makes the comparison vacuous.
        if routeCount >= 100 {
            XCTAssertGreaterThan(matched, requestCount / 4, "seed \(seed)")
        }
    }

    private func expected(_ reference: RouterReference, _ request: Request) -> RouterReference.Result? {
        reference.match(host: request.host, path: request.path, method: request.method, headers: request.headers)
    }

    private func actual(_ router: Router, _ request: Request) -> RouterReference.Result? {
        router.match(
            host: request.host.map { Substring($0) },
            path: Substring(request.path),
            method: Substring(request.method),
            headers: request.headers
        ).map { match in
            RouterReference.Result(
                routeIndex: match.routeIndex,
                parameters: match.parameters.map { .init(name: $0.name, value: Array($0.value.utf8)) }
            )
        }
    }

    private static func describe(
        _ routes: [RouteMatchConfig],
        _ expected: RouterReference.Result?,
        _ got: RouterReference.Result?
    ) -> String {
        [expected?.routeIndex, got?.routeIndex].compactMap { $0 }.map { "route \($0): \(routes[$0])" }
            .joined(separator: "\n")
    }

    private static func chance(_ percent: Int, _ generator: inout RouterSplitMix64) -> Bool {
        Int.random(in: 0..<100, using: &generator) < percent
    }

    private static func pick<T>(_ items: [T], _ generator: inout RouterSplitMix64) -> T {
        items[Int.random(in: 0..<items.count, using: &generator)]
    }

    private static func randomRoute(_ generator: inout RouterSplitMix64) -> RouteMatchConfig {
        var route = RouteMatchConfig()
        if chance(50, &generator) {
            route.hosts = (0..<Int.random(in: 1...2, using: &generator)).map { _ in pick(configHosts, &generator) }
        }
        let pathKind = Int.random(in: 0..<100, using: &generator)
        if pathKind < 15 {
            route.path = nil
        } else if pathKind < 55 {
            if chance(10, &generator) {
                route.path = .prefix("/")
            } else {
                let segments = (0..<Int.random(in: 1...3, using: &generator)).map { _ in
                    pick(literalSegments, &generator)
                }
                route.path = .prefix("/" + segments.joined(separator: "/") + (chance(30, &generator) ? "/" : ""))
            }
        } else {
            let segments = (0..<Int.random(in: 1...4, using: &generator)).map { _ in
                chance(35, &generator) ? pick(parameterSegments, &generator) : pick(literalSegments, &generator)
            }
            route.path = .template("/" + segments.joined(separator: "/"))
        }
        if chance(40, &generator) {
            route.methods = methods.filter { _ in chance(50, &generator) }
        }
        route.headers = (0..<Int.random(in: 0...2, using: &generator)).map { _ in pick(headerConstraints, &generator) }
        return route
    }

    private static func randomRequest(_ generator: inout RouterSplitMix64) -> Request {
        var host: String?
        if !chance(15, &generator) {
            var name = pick(requestHosts, &generator)
            if chance(20, &generator) {
                name = name.uppercased()
            }
            if chance(15, &generator) {
                name += "."
            }
            if chance(20, &generator) {
                name += ":8080"
            }
            host = name
        }
        let path: String
        if chance(3, &generator) {
            path = pick(["*", "", "/"], &generator)
        } else {
            let segments = (0..<Int.random(in: 1...5, using: &generator)).map { _ in
                pick(requestSegments, &generator)
            }
            path = "/" + segments.joined(separator: "/") + (chance(15, &generator) ? "/" : "")
        }
        let headers = RouterTestHeaders(requestHeaders.filter { _ in chance(40, &generator) })
        return Request(host: host, path: path, method: pick(requestMethods, &generator), headers: headers)
    }
}
