import Foundation
import GatewayConfig
import GatewayServer
import NIOCore
import NIOHTTP1
import NIOPosix
import XCTest

/// Spans exported over OTLP/HTTP to a real receiver on 127.0.0.1 that decodes the protobuf, and
/// the `traceparent` a real upstream receives.
final class TracingIntegrationTests: XCTestCase {
    private let callerTraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
    private let callerSpanID = "00f067aa0ba902b7"

    /// A gateway with `tracing` (global ratio 0, so routes opt in) in front of `origins` (one
    /// upstream "app"), exporting to a fresh receiver unless `endpoint` names another; runs `body`
    /// and stops everything, also when it fails.
    private func withTracedGateway(
        origins: [ScriptedOrigin], routes: [RouteConfig], endpoint: String? = nil,
        retries: RetryConfig = .implicit, accessLog: String? = nil, rateLimits: [RateLimitPolicyConfig] = [],
        exportTimeout: Duration = .seconds(5),
        _ body: (TestGateway, OTLPReceiver, TestClient) async throws -> Void
    ) async throws {
        let receiver = try await OTLPReceiver()
        let upstream = UpstreamConfig(
            name: "app",
            endpoints: origins.map { EndpointConfig(address: HostPort(host: "127.0.0.1", port: $0.port)) },
            retries: retries)
        let configuration = GatewayConfiguration(
            node: NodeConfig(id: "edge-t1", region: "test-region"),
            runtime: RuntimeConfig(eventLoops: 2, drainTimeout: .seconds(5)),
            listeners: [ListenerConfig(name: "test", address: HostPort(host: "127.0.0.1", port: 0))],
            upstreams: [upstream], routes: routes,
            logging: LoggingConfig(accessLog: accessLog.map { AccessLogConfig(destination: .file(path: $0)) }),
            rateLimits: rateLimits,
            tracing: TracingConfig(
                otlpEndpoint: endpoint ?? receiver.endpoint, sampleRatio: 0, serviceName: "gateway-test",
                flushInterval: .milliseconds(50), exportTimeout: exportTimeout))
        let gateway = try await TestGateway.start(configuration)
        let client = try await TestClient.connect(port: gateway.port, group: receiver.group)
        do {
            try await body(gateway, receiver, client)
        } catch {
            XCTFail("\(error)")
        }
        await client.close()
        await gateway.stop()
        await receiver.stop()
        for origin in origins { await origin.stop() }
    }

    private func route(_ name: String, _ prefix: String, upstream: String, ratio: Double?) -> RouteConfig {
        var route = prefixRoute(name, prefix, upstream: upstream)
        route.traceSampleRatio = ratio
        return route
    }

    private static func parse(_ traceParent: String?) -> (trace: String, parent: String, flags: String)? {
        guard let parts = traceParent?.split(separator: "-"), parts.count == 4 else { return nil }
        return (String(parts[1]), String(parts[2]), String(parts[3]))
    }

    func testSpansContinueTheCallersTraceAndTheUpstreamGetsTheClientSpanAsParent() async throws {
        let origin = try await ScriptedOrigin { _ in .init(body: "ok") }
        // A route that sets its own traceparent: the gateway's replaces it while it traces.
        var api = route("api", "/api", upstream: "app", ratio: 1)
        api.headers.request.set = [
            HeaderField(name: "Traceparent", value: "00-11111111111111111111111111111111-2222222222222222-01")
        ]
        try await withTracedGateway(origins: [origin], routes: [api]) {
            gateway, receiver, client in
            let response = try await client.request(
                .GET, "/api/items?x=1",
                headers: [
                    ("host", "shop.test"), ("traceparent", "00-\(callerTraceID)-\(callerSpanID)-01"),
                    ("tracestate", "vendor=abc"),
                ])
            XCTAssertEqual(response.head.status, .ok)

            let received = try XCTUnwrap(origin.requests.first)
            let upstreamParent = try XCTUnwrap(Self.parse(received.headers.first(name: "traceparent")))
            XCTAssertEqual(upstreamParent.trace, callerTraceID, "the upstream continues the caller's trace")
            XCTAssertNotEqual(upstreamParent.parent, callerSpanID, "its parent is the gateway's client span")
            XCTAssertEqual(upstreamParent.flags, "01")
            XCTAssertEqual(received.headers["traceparent"].count, 1, "the caller's traceparent is replaced")
            XCTAssertEqual(received.headers.first(name: "tracestate"), "vendor=abc")

            let trace = callerTraceID
            let spans = try await receiver.spans(where: { $0.filter { $0.traceID == trace }.count >= 2 }, "two spans")
                .filter { $0.traceID == trace }
            XCTAssertEqual(spans.count, 2)
            let server = try XCTUnwrap(spans.first { $0.kind == .server })
            let clientSpan = try XCTUnwrap(spans.first { $0.kind == .client })
            XCTAssertEqual(server.parentSpanID, callerSpanID, "the server span's parent is the caller's span")
            XCTAssertEqual(server.name, "GET api")
            XCTAssertEqual(server.traceState, "vendor=abc")
            XCTAssertEqual(server.attributes["http.route"], "api")
            XCTAssertEqual(server.attributes["http.request.method"], "GET")
            XCTAssertEqual(server.attributes["url.path"], "/api/items")
            XCTAssertEqual(server.attributes["server.address"], "shop.test")
            XCTAssertEqual(server.attributes["client.address"], "127.0.0.1")
            XCTAssertEqual(server.attributes["http.response.status_code"], "200")
            XCTAssertEqual(server.attributes["gateway.upstream.endpoint"], "127.0.0.1:\(origin.port)")
            XCTAssertEqual(server.attributes["gateway.request_id"], response.header("x-request-id"))
            XCTAssertEqual(server.resource["service.name"], "gateway-test")
            XCTAssertEqual(server.resource["service.instance.id"], "edge-t1")
            XCTAssertEqual(server.resource["cloud.region"], "test-region")
            XCTAssertNotEqual(server.statusCode, 2)

            XCTAssertEqual(clientSpan.parentSpanID, server.spanID)
            XCTAssertEqual(clientSpan.spanID, upstreamParent.parent, "the upstream's parent is the client span")
            XCTAssertEqual(clientSpan.name, "GET")
            XCTAssertEqual(clientSpan.attributes["server.address"], "127.0.0.1")
            XCTAssertEqual(clientSpan.attributes["server.port"], String(origin.port))
            XCTAssertEqual(clientSpan.attributes["http.response.status_code"], "200")
            XCTAssertNil(clientSpan.attributes["http.request.resend_count"])
            XCTAssertLessThanOrEqual(server.startNanos, clientSpan.startNanos)
            XCTAssertLessThanOrEqual(clientSpan.endNanos, server.endNanos)
            XCTAssertEqual(receiver.rejected, [])
            let metrics = PrometheusSamples(await gateway.server.metricsText())
            XCTAssertEqual(metrics["gateway_tracing_spans_started_total"], 2)
        }
    }

    func testEachRetryIsAClientSpanAndTheRetriedRequestNamesItsOwn() async throws {
        let failing = try await ScriptedOrigin { _ in .init(status: .serviceUnavailable, body: "busy") }
        let healthy = try await ScriptedOrigin { _ in .init(body: "ok") }
        try await withTracedGateway(
            origins: [failing, healthy], routes: [route("api", "/api", upstream: "app", ratio: 1)],
            retries: RetryConfig(attempts: 1, on: FailureConditions(statuses: [503]), backoff: .zero)
        ) { _, receiver, client in
            // Round robin: one of two requests starts at the failing endpoint and is retried.
            for _ in 0..<2 {
                let response = try await client.request(.GET, "/api/x")
                XCTAssertEqual(response.head.status, .ok)
            }
            XCTAssertEqual(failing.requestCount, 1)
            let retried = try XCTUnwrap(failing.requests.first)
            let firstAttempt = try XCTUnwrap(Self.parse(retried.headers.first(name: "traceparent")))
            let trace = firstAttempt.trace
            let secondAttempt = try XCTUnwrap(
                healthy.requests.compactMap { Self.parse($0.headers.first(name: "traceparent")) }.first {
                    $0.trace == trace
                })
            XCTAssertNotEqual(firstAttempt.parent, secondAttempt.parent, "each attempt names its own span")

            let spans = try await receiver.spans(where: { $0.filter { $0.traceID == trace }.count >= 3 }, "3 spans")
                .filter { $0.traceID == trace }
            let server = try XCTUnwrap(spans.first { $0.kind == .server })
            XCTAssertEqual(server.parentSpanID, "", "no caller traceparent: a new trace")
            let attempts = spans.filter { $0.kind == .client }.sorted { $0.startNanos < $1.startNanos }
            XCTAssertEqual(attempts.map(\.spanID), [firstAttempt.parent, secondAttempt.parent])
            XCTAssertEqual(attempts.map { $0.attributes["http.response.status_code"] }, ["503", "200"])
            XCTAssertEqual(attempts.map { $0.attributes["http.request.resend_count"] }, [nil, "1"])
            XCTAssertEqual(attempts.map(\.statusCode), [2, 0], "the 503 attempt is an error")
            XCTAssertEqual(Set(attempts.map(\.parentSpanID)), [server.spanID])
            XCTAssertEqual(server.attributes["http.response.status_code"], "200")
        }
    }

    func testRatioZeroSendsNothingButStillPropagatesAndLogsATraceID() async throws {
        let origin = try await ScriptedOrigin { _ in .init(body: "ok") }
        let logPath = FileManager.default.temporaryDirectory.appendingPathComponent("trace-\(UUID()).log").path
        defer { try? FileManager.default.removeItem(atPath: logPath) }
        let routes = [
            route("quiet", "/quiet", upstream: "app", ratio: nil),  // the global ratio: 0
            route("api", "/api", upstream: "app", ratio: 1),
        ]
        try await withTracedGateway(
            origins: [origin], routes: routes,
            accessLog: logPath
        ) { gateway, receiver, client in
            _ = try await client.request(.GET, "/quiet/new")
            let sampledByCaller = "00-\(callerTraceID)-\(callerSpanID)-01"
            _ = try await client.request(
                .GET, "/quiet/parent", headers: [("host", "t"), ("traceparent", sampledByCaller)])
            let unsampledCaller = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"
            _ = try await client.request(
                .GET, "/api/unsampled", headers: [("host", "t"), ("traceparent", unsampledCaller)])
            // A recorded request last: once its spans arrive, any from the requests before would have too.
            _ = try await client.request(.GET, "/api/barrier")

            func upstreamTraceParent(_ path: String) -> String? {
                origin.requests(to: path).first?.headers.first(name: "traceparent")
            }
            let generated = try XCTUnwrap(Self.parse(upstreamTraceParent("/quiet/new")))
            XCTAssertEqual(generated.flags, "00", "not sampled, but the upstream gets a trace to log and pass on")
            XCTAssertEqual(generated.trace.count, 32)
            XCTAssertEqual(
                upstreamTraceParent("/quiet/parent"), sampledByCaller,
                "ratio 0 turns recording off for the route; the caller's traceparent goes on unchanged")
            XCTAssertEqual(
                upstreamTraceParent("/api/unsampled"), unsampledCaller, "a caller that did not sample is followed")
            let barrierTrace = try XCTUnwrap(Self.parse(upstreamTraceParent("/api/barrier"))).trace
            let spans = try await receiver.spans(
                where: { $0.contains { $0.traceID == barrierTrace && $0.kind == .server } }, "the barrier's spans")
            XCTAssertEqual(Set(spans.map(\.traceID)), [barrierTrace], "only the recorded request was exported")

            await gateway.server.flushAccessLog()
            let logged = try String(contentsOfFile: logPath, encoding: .utf8).split(separator: "\n").map { line in
                (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["trace_id"] as? String
            }
            XCTAssertEqual(
                logged, [generated.trace, callerTraceID, "0af7651916cd43dd8448eb211c80319c", barrierTrace],
                "every access log line has the trace id, generated ones included")
        }
    }

    func testServerSpansCarryTheCacheStatusAndTheRateLimitDecision() async throws {
        let origin = try await ScriptedOrigin { _ in .init(headers: [("cache-control", "max-age=60")], body: "page") }
        var cached = route("static", "/static", upstream: "app", ratio: 1)
        cached.cache = RouteCacheConfig()
        var limited = route("api", "/api", upstream: "app", ratio: 1)
        limited.rateLimits = ["two"]
        try await withTracedGateway(
            origins: [origin], routes: [cached, limited],
            rateLimits: [RateLimitPolicyConfig(name: "two", rate: Rate(count: 2, period: .seconds(3600)))]
        ) { _, receiver, client in
            var statuses: [UInt] = []
            for path in ["/static/a", "/static/a", "/api/1", "/api/2", "/api/3"] {
                statuses.append(try await client.request(.GET, path).head.status.code)
            }
            XCTAssertEqual(statuses, [200, 200, 200, 200, 429])
            let spans = try await receiver.spans(
                where: { $0.filter { $0.kind == .server }.count >= 5 }, "5 server spans")
            let servers = spans.filter { $0.kind == .server }.sorted { $0.startNanos < $1.startNanos }
            XCTAssertEqual(servers.map { $0.attributes["gateway.cache.status"] }, ["MISS", "HIT", nil, nil, nil])
            XCTAssertEqual(
                servers.map { $0.attributes["gateway.rate_limit.decision"] },
                [nil, nil, "allowed", "allowed", "limited"])
            XCTAssertEqual(
                servers.map { $0.attributes["http.response.status_code"] }, ["200", "200", "200", "200", "429"])
            XCTAssertEqual(
                spans.filter { $0.kind == .client }.count, 3,
                "the hit and the refused request never reached the upstream")
        }
    }

    func testACollectorThatIsDownCostsSpansNotRequests() async throws {
        let origin = try await ScriptedOrigin { _ in .init(body: "ok") }
        // Nothing listens there, so every export is refused.
        let closed = try ClosedPort()
        let deadEndpoint = "http://127.0.0.1:\(closed.port)/v1/traces"
        defer { withExtendedLifetime(closed) {} }
        try await withTracedGateway(
            origins: [origin], routes: [route("api", "/api", upstream: "app", ratio: 1)], endpoint: deadEndpoint,
            exportTimeout: .seconds(2)
        ) { gateway, _, client in
            for index in 0..<20 {
                let response = try await client.request(.GET, "/api/\(index)")
                XCTAssertEqual(response.head.status, .ok)
            }
            try await waitUntil("failed exports counted") {
                PrometheusSamples(await gateway.server.metricsText()).sum(
                    "gateway_tracing_spans_dropped_total", where: ["reason": "export_failed"]) > 0
            }
            let samples = PrometheusSamples(await gateway.server.metricsText())
            XCTAssertEqual(samples["gateway_tracing_spans_started_total"], 40, "a server and a client span each")
            XCTAssertEqual(samples["gateway_tracing_spans_exported_total"], 0)
        }
    }

    func testAStartThatFailsReleasesTheExporter() async throws {
        // The listener's port is taken: start fails after the tracer was made. Its HTTP client
        // must be shut down on that path (AsyncHTTPClient traps in debug builds otherwise).
        let taken = try ClosedPort()
        let configuration = GatewayConfiguration(
            node: NodeConfig(id: "edge-t1"),
            listeners: [ListenerConfig(name: "test", address: HostPort(host: "127.0.0.1", port: taken.port))],
            upstreams: [
                UpstreamConfig(name: "app", endpoints: [EndpointConfig(address: HostPort(host: "127.0.0.1", port: 9))])
            ],
            routes: [route("api", "/api", upstream: "app", ratio: 1)],
            tracing: TracingConfig(otlpEndpoint: "http://127.0.0.1:9/v1/traces"))
        do {
            _ = try await TestGateway.start(configuration)
            XCTFail("started on a port that is taken")
        } catch {
            XCTAssertTrue("\(error)".contains("cannot bind listener 'test'"), "\(error)")
        }
        withExtendedLifetime(taken) {}
    }
}
