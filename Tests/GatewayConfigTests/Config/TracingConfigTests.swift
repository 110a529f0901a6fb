import GatewayConfig
import XCTest

/// `tracing` (where spans go, how many) and a route's own sample ratio.
final class TracingConfigTests: XCTestCase {
    private func file(tracing: String?, route: String = "{ name: r, upstream: u }") -> String {
        """
        listeners:
          - { name: a, address: 127.0.0.1:8080 }
        upstreams:
          u: { endpoints: [{ address: 127.0.0.1:9001 }] }
        routes:
          - \(route)
        \(tracing.map { "tracing:\n\($0)" } ?? "")
        """
    }

    func testTheReferenceKeysAndDefaults() throws {
        let config = try XCTUnwrap(
            parseValid(
                file(
                    tracing: """
                          otlp_endpoint: http://127.0.0.1:4318/v1/traces
                          sample_ratio: 0.1
                        """)))
        let tracing = try XCTUnwrap(config.tracing)
        XCTAssertEqual(tracing.otlpEndpoint, "http://127.0.0.1:4318/v1/traces")
        XCTAssertEqual(tracing.sampleRatio, 0.1)
        XCTAssertEqual(tracing.serviceName, "gateway")
        XCTAssertEqual(tracing.flushInterval, .seconds(1))
        XCTAssertEqual(tracing.exportTimeout, .seconds(5))
        XCTAssertEqual(tracing.maxQueuedSpans, 2048)
        XCTAssertNil(config.routes.first?.traceSampleRatio)
        XCTAssertNil(parseValid(file(tracing: nil))?.tracing, "absent: no tracing")
    }

    func testEveryKeyAndARouteRatio() throws {
        let config = try XCTUnwrap(
            parseValid(
                file(
                    tracing: """
                          otlp_endpoint: https://collector.example.test/v1/traces
                          service_name: edge
                          flush_interval: 250ms
                          export_timeout: 2s
                          max_queued_spans: 100
                        """,
                    route: "{ name: r, upstream: u, tracing: { sample_ratio: 0 } }")))
        XCTAssertEqual(
            config.tracing,
            TracingConfig(
                otlpEndpoint: "https://collector.example.test/v1/traces", sampleRatio: 1, serviceName: "edge",
                flushInterval: .milliseconds(250), exportTimeout: .seconds(2), maxQueuedSpans: 100))
        XCTAssertEqual(config.routes.first?.traceSampleRatio, 0)
    }

    func testMistakesAreExplained() {
        XCTAssertEqual(
            problems(file(tracing: "  sample_ratio: 0.5")),
            ["gw.yaml:8: missing required key 'otlp_endpoint' in 'tracing'"])
        XCTAssertEqual(
            problems(file(tracing: "  otlp_endpoint: 127.0.0.1:4318")),
            [
                "gw.yaml:8: 'otlp_endpoint' must be an http:// or https:// URL like http://127.0.0.1:4318/v1/traces, "
                    + "got '127.0.0.1:4318'"
            ])
        XCTAssertEqual(
            problems(file(tracing: "  otlp_endpoint: http://c:4318/v1/traces\n  sample_ratio: 1.5")),
            ["gw.yaml:9: 'sample_ratio' must be a number from 0 to 1, got '1.5'"])
        XCTAssertEqual(
            problems(file(tracing: "  otlp_endpoint: http://c:4318/v1/traces\n  sampel_ratio: 1")),
            ["gw.yaml:9: unknown key 'sampel_ratio' in 'tracing'; did you mean 'sample_ratio'?"])
        XCTAssertEqual(
            problems(file(tracing: nil, route: "{ name: r, upstream: u, tracing: { sample_ratio: 1 } }")),
            ["gw.yaml:6: 'tracing' in route 'r' needs a top-level 'tracing' section (where spans go)"])
    }
}
