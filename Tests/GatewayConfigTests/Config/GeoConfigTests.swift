import GatewayConfig
import XCTest

/// `geo` (client address → region) and routes that pick their upstream by region.
final class GeoConfigTests: XCTestCase {
    private func file(geo: String? = nil, route: String) -> String {
        """
        listeners:
          - { name: a, address: 127.0.0.1:8080 }
        upstreams:
          edge-us: { endpoints: [{ address: 127.0.0.1:9001 }] }
          edge-eu: { endpoints: [{ address: 127.0.0.1:9002 }] }
        \(geo.map { "geo:\n\($0)" } ?? "")
        routes:
          - \(route)
        """
    }

    private let geo = """
          default: us-east
          regions:
            us-east: [127.0.0.0/24, 10.0.0.0/8]
            eu-west: [127.0.1.0/24, "2001:db8::/32"]
        """

    func testGeoAndUpstreamByRegionAreRead() throws {
        let config = try XCTUnwrap(
            parseValid(
                file(
                    geo: geo,
                    route: "{ name: director, upstream_by_region: { us-east: edge-us, eu-west: edge-eu } }")))
        XCTAssertEqual(config.geo?.defaultRegion, "us-east")
        XCTAssertEqual(config.geo?.regions.map(\.name), ["us-east", "eu-west"])
        XCTAssertEqual(config.geo?.regions.last?.networks.map(\.description), ["127.0.1.0/24", "2001:db8::/32"])
        let route = try XCTUnwrap(config.routes.first)
        XCTAssertEqual(route.upstreamByRegion, ["us-east": "edge-us", "eu-west": "edge-eu"])
        XCTAssertEqual(route.upstream, "edge-us", "the default region's upstream")
    }

    func testTheMostSpecificNetworkDecidesAndOthersGoToTheDefault() throws {
        let config = try XCTUnwrap(
            parseValid(
                file(
                    geo: """
                          default: ap-south
                          regions:
                            us-east: [10.0.0.0/8]
                            eu-west: [10.1.0.0/16]
                        """,
                    route: "{ name: d, upstream_by_region: { ap-south: edge-us, eu-west: edge-eu } }")))
        let table = GeoTable(try XCTUnwrap(config.geo))
        func region(_ text: String) -> String? {
            UnitParser.parseIPAddress(Substring(text)).map { table.regionNames[table.region(of: $0)] }
        }
        XCTAssertEqual(region("10.1.2.3"), "eu-west", "/16 beats /8")
        XCTAssertEqual(region("10.2.0.1"), "us-east")
        XCTAssertEqual(region("192.0.2.1"), "ap-south", "in no network: the default region")
        XCTAssertEqual(table.regionNames, ["us-east", "eu-west", "ap-south"])
        // us-east has no upstream of its own in the route: it uses the default region's.
        let snapshot = Snapshot(configuration: config, generation: 1)
        XCTAssertEqual(snapshot.routes.first?.upstreamIndexByRegion, [0, 1, 0])
    }

    func testMistakesAreExplained() {
        XCTAssertEqual(
            problems(file(route: "{ name: d, upstream_by_region: { us-east: edge-us } }")),
            ["gw.yaml:8: 'upstream_by_region' in route 'd' needs a top-level 'geo' section to know regions"])
        XCTAssertEqual(
            problems(file(geo: geo, route: "{ name: d, upstream_by_region: { us-east: edge-us, eu-wset: edge-eu } }")),
            ["gw.yaml:12: route 'd' names unknown region 'eu-wset' (not in 'geo'); did you mean 'eu-west'?"])
        XCTAssertEqual(
            problems(file(geo: geo, route: "{ name: d, upstream_by_region: { us-east: edge-uss } }")),
            ["gw.yaml:12: route 'd' names unknown upstream 'edge-uss'; did you mean 'edge-us'?"])
        XCTAssertEqual(
            problems(file(geo: geo, route: "{ name: d, upstream_by_region: { eu-west: edge-eu } }")),
            [
                "gw.yaml:12: 'upstream_by_region' in route 'd' needs an upstream for the default region 'us-east' "
                    + "(clients outside every network in 'geo' go there)"
            ])
        XCTAssertEqual(
            problems(file(geo: geo, route: "{ name: d, upstream: edge-us, upstream_by_region: { us-east: edge-us } }")),
            ["gw.yaml:12: route 'd' has both 'upstream' and 'upstream_by_region': keep one"])
        XCTAssertEqual(
            problems(file(geo: geo, route: "{ name: d }")),
            ["gw.yaml:12: route 'd' needs 'upstream' (or 'upstream_by_region' to pick one by the client's region)"])
        XCTAssertEqual(
            problems(
                file(
                    geo: """
                          default: us-east
                          regions:
                            us-east: [10.0.0.0/8]
                            eu-west: [10.0.0.0/8]
                        """,
                    route: "{ name: d, upstream: edge-us }")),
            ["gw.yaml:10: network 10.0.0.0/8 is in both region 'us-east' and region 'eu-west'"])
        XCTAssertEqual(
            problems(
                file(
                    geo: """
                          default: us-east
                          regions:
                            us-east: [10.0.0.0/8]
                            eu-west: ["::ffff:10.0.0.0/104"]
                        """,
                    route: "{ name: d, upstream: edge-us }")),
            ["gw.yaml:10: network ::ffff:10.0.0.0/104 is in both region 'us-east' and region 'eu-west'"],
            "the same network written as IPv4-mapped IPv6")
        XCTAssertEqual(
            problems(
                file(
                    geo: """
                          default: us-east
                          regions: { us-east: [10.0.0.0/33] }
                        """,
                    route: "{ name: d, upstream_by_region: { us-east: edge-us } }")),
            ["gw.yaml:8: expected a CIDR like 10.0.0.0/8 or ::1/128, got '10.0.0.0/33'"],
            "a broken geo section is reported once, not again by every route that uses it")
    }
}
