import Foundation
import GatewayConfig
import XCTest

@testable import GatewayServer

/// The Grafana dashboard (conf/grafana) and the alert rules (conf/prometheus) query only metrics
/// the gateway exposes: a renamed metric would otherwise leave an empty panel or an alert that can
/// never fire. (`promtool check rules` checks the rules' syntax in PrometheusServerTests.)
final class DashboardAndRulesTests: XCTestCase {
    private var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
    }

    /// Metric names in PromQL text: `gateway_…` not preceded by a name character or `:` (recorded
    /// series like `route:gateway_5xx_ratio:rate5m` are the rules' own).
    private func metricNames(in promQL: String) throws -> Set<String> {
        let pattern = try NSRegularExpression(pattern: "(?<![A-Za-z0-9_:])gateway_[a-z0-9_]+(?![A-Za-z0-9_:])")
        let range = NSRange(promQL.startIndex..., in: promQL)
        return Set(
            pattern.matches(in: promQL, range: range).compactMap { match in
                Range(match.range, in: promQL).map { String(promQL[$0]) }
            })
    }

    /// Every `expr` of the dashboard, wherever it sits in the panel tree.
    private func expressions(in value: Any) -> [String] {
        switch value {
        case let object as [String: Any]:
            return object.flatMap { key, member in
                key == "expr" ? [member as? String].compactMap { $0 } : expressions(in: member)
            }
        case let array as [Any]:
            return array.flatMap { expressions(in: $0) }
        default:
            return []
        }
    }

    /// The metric families a running gateway exposes (`# TYPE name kind`).
    private func exposedFamilies() async throws -> [String: String] {
        let upstream = try await TestUpstream()
        var route = prefixRoute("cached", "/", upstream: "u")
        route.cache = RouteCacheConfig()
        // Tracing on, towards a port nothing listens on: its counters exist once a tracer does.
        let gateway = try await TestGateway.start(
            GatewayConfiguration(
                node: NodeConfig(id: "test-node"),
                runtime: RuntimeConfig(eventLoops: 2, drainTimeout: .seconds(5)),
                listeners: [ListenerConfig(name: "test", address: HostPort(host: "127.0.0.1", port: 0))],
                upstreams: [
                    UpstreamConfig(
                        name: "u", endpoints: [endpoint(upstream)],
                        circuitBreaker: CircuitBreakerConfig(consecutiveFailures: 5))
                ], routes: [route],
                tracing: TracingConfig(otlpEndpoint: "http://127.0.0.1:9/v1/traces")))
        let text = await gateway.server.metricsText()
        await gateway.stop()
        await upstream.stop()
        var families: [String: String] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("# TYPE ") {
            let parts = line.split(separator: " ")
            if parts.count >= 4 { families[String(parts[2])] = String(parts[3]) }
        }
        return families
    }

    private func missing(_ names: Set<String>, from families: [String: String]) -> [String] {
        names.filter { name in
            if families[name] != nil { return false }
            // A histogram's series: NAME_bucket, NAME_sum, NAME_count.
            for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
                if families[String(name.dropLast(suffix.count))] == "histogram" { return false }
            }
            return true
        }.sorted()
    }

    func testTheGrafanaDashboardQueriesOnlyExposedMetrics() async throws {
        let data = try Data(contentsOf: repositoryRoot.appendingPathComponent("conf/grafana/gateway-dashboard.json"))
        let dashboard = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertEqual(dashboard["uid"] as? String, "gateway-overview")
        let queries = expressions(in: dashboard)
        XCTAssertGreaterThan(queries.count, 30)
        var names = Set<String>()
        for query in queries { names.formUnion(try metricNames(in: query)) }
        XCTAssertGreaterThan(names.count, 25, "the names were found in the queries")
        let families = try await exposedFamilies()
        XCTAssertEqual(missing(names, from: families), [], "queried by the dashboard but not exposed")
        // The panels the issue names are there.
        for needed in [
            "gateway_upstream_endpoint_circuit_state", "gateway_cache_requests_total",
            "gateway_fleet_purge_propagation_seconds_bucket", "gateway_ratelimit_redis_errors_total",
            "gateway_config_last_reload_successful",
        ] {
            XCTAssertTrue(names.contains(needed), needed)
        }
    }

    func testTheAlertRulesQueryOnlyExposedMetricsAndHaveRunbooks() async throws {
        let rules = try String(
            contentsOf: repositoryRoot.appendingPathComponent("conf/prometheus/gateway-rules.yml"), encoding: .utf8)
        let names = try metricNames(in: rules)
        let families = try await exposedFamilies()
        XCTAssertEqual(missing(names, from: families), [], "queried by the rules but not exposed")
        let alerts = rules.components(separatedBy: "- alert: ").dropFirst()
        for alert in [
            "GatewayHigh5xxRatio", "GatewayP99LatencyHigh", "GatewayCircuitOpen", "GatewayCacheHitRatioDrop",
            "GatewayRedisErrors", "GatewayConfigReloadFailed", "GatewayFleetPurgeSlow",
        ] {
            let body = try XCTUnwrap(alerts.first { $0.hasPrefix(alert + "\n") }, "alert \(alert) missing")
            XCTAssertTrue(body.contains("runbook:"), "\(alert) has no runbook")
        }
    }
}
