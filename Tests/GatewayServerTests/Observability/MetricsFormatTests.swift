import GatewayConfig
import XCTest

@testable import GatewayServer

final class MetricsFormatTests: XCTestCase {
    func testHistogramBucketsAreUpperBoundsAndCumulative() {
        var histogram = DurationHistogram()
        histogram.record(nanoseconds: 500_000)  // exactly 0.5 ms: in the le=0.0005 bucket
        histogram.record(nanoseconds: 500_001)
        histogram.record(nanoseconds: 7_000_000)
        histogram.record(nanoseconds: 60_000_000_000)  // past the last bound: +Inf only
        histogram.record(nanoseconds: -5)  // a clock step backwards counts as zero
        let cumulative = histogram.cumulativeCounts
        XCTAssertEqual(cumulative[0], 2)  // le 0.0005
        XCTAssertEqual(cumulative[1], 3)  // le 0.001
        XCTAssertEqual(cumulative[4], 4)  // le 0.01
        XCTAssertEqual(cumulative[DurationHistogram.boundsInSeconds.count - 1], 4)
        XCTAssertEqual(cumulative.last, 5)
        XCTAssertEqual(histogram.count, 5)
        XCTAssertEqual(histogram.sumNanoseconds, 500_000 + 500_001 + 7_000_000 + 60_000_000_000)

        var merged = DurationHistogram()
        merged.merge(histogram)
        merged.merge(histogram)
        XCTAssertEqual(merged.count, 10)
        XCTAssertEqual(merged.cumulativeCounts, cumulative.map { $0 * 2 })
    }

    func testLabelValuesAreEscaped() {
        XCTAssertEqual(PrometheusText.escape("plain"), "plain")
        XCTAssertEqual(PrometheusText.escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd")
        XCTAssertEqual(PrometheusText.format(3), "3")
        XCTAssertEqual(PrometheusText.format(0.25), "0.25")
    }

    func testDataPlaneExpositionParsesAndAddsUp() {
        let empty = GatewayConfiguration(node: NodeConfig(id: "n"), listeners: [], upstreams: [], routes: [])
        let loopA = LoopMetrics(snapshot: Snapshot(configuration: empty, generation: 1))
        let route = RouteMetrics(name: "we\"ird")
        route.record(
            method: .init(.GET), status: 200, durationNanoseconds: 2_000_000, receivedBytes: 100, sentBytes: 1000)
        route.record(
            method: .init(.POST), status: 503, durationNanoseconds: 3_000_000, receivedBytes: 50, sentBytes: 10)
        loopA.unrouted.record(
            method: .init(.GET), status: 404, durationNanoseconds: 1000, receivedBytes: 10, sentBytes: 20)
        let upstream = loopA.upstream(named: "users")
        upstream.recordResponse(status: 200, durationNanoseconds: 1_000_000)
        upstream.recordError(.connectTimeout)
        upstream.recordError(.connectTimeout)

        var sample = loopA.sample()
        sample.routes["we\"ird"] = route.sample
        var second = sample
        second.openConnections = ["public": 3]
        second.pools = ["127.0.0.1:9001": .init(open: 2, active: 1)]
        sample.merge(second)

        let parsed = PrometheusSamples(DataPlaneExposition.render(sample))
        XCTAssertEqual(parsed.types["gateway_requests_total"], "counter")
        XCTAssertEqual(parsed.types["gateway_request_duration_seconds"], "histogram")
        XCTAssertEqual(
            parsed["gateway_requests_total{route=\"we\\\"ird\",method=\"GET\",status_class=\"2xx\"}"], 2)
        XCTAssertEqual(parsed["gateway_requests_total{route=\"we\\\"ird\",method=\"POST\",status_class=\"5xx\"}"], 2)
        XCTAssertEqual(parsed["gateway_requests_total{route=\"\",method=\"GET\",status_class=\"4xx\"}"], 2)
        XCTAssertEqual(parsed.sum("gateway_requests_total"), 6)
        XCTAssertEqual(parsed["gateway_request_duration_seconds_count{route=\"we\\\"ird\"}"], 4)
        XCTAssertEqual(parsed["gateway_request_duration_seconds_bucket{route=\"we\\\"ird\",le=\"0.0025\"}"], 2)
        XCTAssertEqual(parsed["gateway_request_duration_seconds_bucket{route=\"we\\\"ird\",le=\"+Inf\"}"], 4)
        XCTAssertEqual(parsed["gateway_request_duration_seconds_sum{route=\"we\\\"ird\"}"], 0.01)
        XCTAssertEqual(parsed["gateway_received_bytes_total{route=\"we\\\"ird\"}"], 300)
        XCTAssertEqual(parsed["gateway_sent_bytes_total{route=\"we\\\"ird\"}"], 2020)
        XCTAssertEqual(parsed["gateway_upstream_errors_total{upstream=\"users\",kind=\"connect_timeout\"}"], 4)
        XCTAssertEqual(parsed["gateway_upstream_responses_total{upstream=\"users\",status_class=\"2xx\"}"], 2)
        XCTAssertEqual(parsed["gateway_downstream_connections{listener=\"public\"}"], 3)
        XCTAssertEqual(parsed["gateway_upstream_pool_connections{endpoint=\"127.0.0.1:9001\"}"], 2)
        XCTAssertEqual(parsed["gateway_upstream_pool_active_requests{endpoint=\"127.0.0.1:9001\"}"], 1)
    }

    func testRouteCountersSurviveAReloadThatKeepsTheRoute() {
        func snapshot(_ names: [String]) -> Snapshot {
            let routes = names.map { name in
                RouteConfig(name: name, match: RouteMatchConfig(path: .prefix("/\(name)")), upstream: "u")
            }
            let configuration = GatewayConfiguration(
                node: NodeConfig(id: "n"), listeners: [], upstreams: [UpstreamConfig(name: "u", endpoints: [])],
                routes: routes)
            return Snapshot(configuration: configuration, generation: 1)
        }
        let metrics = LoopMetrics(snapshot: snapshot(["a", "b"]))
        metrics.routes[1].record(method: .get, status: 200, durationNanoseconds: 1, receivedBytes: 1, sentBytes: 1)
        metrics.align(with: snapshot(["c", "b"]))
        XCTAssertEqual(metrics.routes.map(\.name), ["c", "b"])
        XCTAssertEqual(metrics.routes[1].sample.requests(.get, .success), 1)
        // A removed route keeps its last values: counters never go back.
        XCTAssertEqual(metrics.sample().routes["a"], RouteMetrics.Sample())
        XCTAssertNotNil(metrics.sample().routes["a"])
    }
}
