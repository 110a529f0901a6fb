import Foundation
import GatewayConfig
import NIOCore
import NIOHTTP1
import NIOPosix
import TestSupport
import XCTest

@testable import GatewayServer

/// Circuit breakers, active health checks, outlier ejection, retries and bulkheads against real
/// upstream servers whose behaviour the tests switch while traffic flows. One event loop unless
/// said otherwise, so the per-loop breakers and round robin see every request and counts are exact.
final class ResilienceIntegrationTests: XCTestCase {
    private let clientGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private var servers: [ControlledUpstream] = []

    override func tearDown() async throws {
        for server in servers { await server.stop() }
        try await clientGroup.shutdownGracefully()
    }

    private func upstream(_ name: String, _ mode: ControlledUpstream.Mode = .ok) async throws -> ControlledUpstream {
        let server = try await ControlledUpstream(name: name, mode: mode)
        servers.append(server)
        return server
    }

    private func address(_ server: ControlledUpstream) -> EndpointConfig {
        EndpointConfig(address: HostPort(host: "127.0.0.1", port: server.port))
    }

    private func closedPort() async throws -> Int {
        let channel = try await ServerBootstrap(group: clientGroup).bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress?.port ?? 1
        try await channel.close()
        return port
    }

    private func start(_ upstream: UpstreamConfig, routes: [RouteConfig]? = nil, eventLoops: Int = 1) async throws
        -> TestGateway
    {
        try await TestGateway.start(
            upstreams: [upstream], routes: routes ?? [prefixRoute("all", "/", upstream: upstream.name)],
            eventLoops: eventLoops)
    }

    /// The endpoint entries of `/admin/upstreams` for `upstream`, by address.
    private func endpoints(_ gateway: TestGateway, _ upstream: String = "u") async throws -> [String: [String: Any]] {
        let api = AdminAPI(server: gateway.server, reloader: nil, token: nil)
        let response = await api.handle(.init(method: "GET", path: "/admin/upstreams", authorization: nil))
        XCTAssertEqual(response.status, 200)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any])
        let entry = try XCTUnwrap(
            (object["upstreams"] as? [[String: Any]])?.first { $0["name"] as? String == upstream })
        var byAddress: [String: [String: Any]] = [:]
        for endpoint in entry["endpoints"] as? [[String: Any]] ?? [] {
            byAddress[endpoint["address"] as? String ?? ""] = endpoint
        }
        return byAddress
    }

    private func field(_ gateway: TestGateway, _ server: ControlledUpstream, _ name: String) async throws -> String? {
        let all = try await endpoints(gateway)
        return all["127.0.0.1:\(server.port)"]?[name].map { "\($0)" }
    }

    /// Polls the admin view until `predicate` holds: the state changes on the gateway's own clock
    /// (cool-downs, check intervals), so there is no event to await from outside.
    private func expect(
        _ gateway: TestGateway, _ server: ControlledUpstream, _ name: String, _ expected: String,
        file: StaticString = #filePath, line: UInt = #line
    ) async throws {
        let value = try await field(gateway, server, name)
        XCTAssertEqual(value, expected, "\(server.name) \(name)", file: file, line: line)
    }

    private func servedBy(_ responses: [TestResponse]) -> [String: Int] {
        responses.reduce(into: [:]) { counts, response in
            counts["\(response.status.code) \(response.header("x-upstream") ?? "gateway")", default: 0] += 1
        }
    }

    private func metrics(_ gateway: TestGateway) async -> PrometheusSamples {
        PrometheusSamples(await gateway.server.metricsText())
    }

    // MARK: - Retries

    func testAConnectionThatCannotBeMadeIsTriedOnAnotherEndpointByDefault() async throws {
        let live = try await upstream("live")
        let dead = EndpointConfig(address: HostPort(host: "127.0.0.1", port: try await closedPort()))
        let gateway = try await start(UpstreamConfig(name: "u", endpoints: [dead, address(live)]))
        let client = try await TestClient.connect(port: gateway.port, group: clientGroup)
        var responses: [TestResponse] = []
        for _ in 0..<10 {
            responses.append(try await client.request(.POST, "/", body: ByteBuffer(string: "order")))
        }
        // A refused connection never carried the request, so even a POST (with its body) is safe to send again.
        XCTAssertEqual(servedBy(responses), ["200 live": 10])
        XCTAssertTrue(responses.allSatisfy { $0.bodyText == "live POST body=5" })
        let samples = await metrics(gateway)
        XCTAssertEqual(samples.value("gateway_upstream_retries_total", ["upstream": "u"]), 5)
        XCTAssertEqual(
            samples.value("gateway_upstream_errors_total", ["upstream": "u", "kind": "connect_failure"]), 5)
        await client.close()
        await gateway.stop()
    }

    func testRetriesOnAStatusGoElsewhereOnlyForIdempotentRequests() async throws {
        let failing = try await upstream("failing", .status(503))
        let healthy = try await upstream("healthy")
        let gateway = try await start(
            UpstreamConfig(
                name: "u", endpoints: [address(failing), address(healthy)],
                retries: RetryConfig(attempts: 2, on: FailureConditions(statuses: [503]), backoff: .milliseconds(1))))
        let client = try await TestClient.connect(port: gateway.port, group: clientGroup)
        var gets: [TestResponse] = []
        for _ in 0..<6 { gets.append(try await client.request(.GET, "/")) }
        XCTAssertEqual(servedBy(gets), ["200 healthy": 6], "every 503 was replaced by a retry")
        var posts: [TestResponse] = []
        for _ in 0..<4 { posts.append(try await client.request(.POST, "/", body: ByteBuffer(string: "x"))) }
        XCTAssertEqual(
            servedBy(posts), ["200 healthy": 2, "503 failing": 2],
            "a POST that reached the upstream is not sent twice: its 503 is forwarded as it came")
        await client.close()
        await gateway.stop()
    }

    func testBodiesAreRetriedOnlyWhenSmallEnoughToBeKept() async throws {
        let resetting = try await upstream("resetting", .reset)
        let healthy = try await upstream("healthy")
        let gateway = try await start(
            UpstreamConfig(
                name: "u", endpoints: [address(resetting), address(healthy)],
                retries: RetryConfig(
                    attempts: 1, on: FailureConditions(connectFailure: true, reset: true), backoff: .zero,
                    maxBody: 1024)))
        let client = try await TestClient.connect(port: gateway.port, group: clientGroup)
        // Round robin starts at `resetting`; a retry there moves the rotation on, so the request
        // after the one that went straight to `healthy` meets `resetting` again.
        let large = try await client.request(.PUT, "/doc", body: ByteBuffer(repeating: 7, count: 5000))
        XCTAssertEqual(large.status, .badGateway, "a body that was not kept cannot be sent again")
        XCTAssertTrue(large.bodyText.contains("upstream_reset"), large.bodyText)
        let direct = try await client.request(.PUT, "/doc", body: ByteBuffer(repeating: 7, count: 10))
        XCTAssertEqual(direct.bodyText, "healthy PUT body=10")
        let resets = resetting.requests
        let small = try await client.request(.PUT, "/doc", body: ByteBuffer(repeating: 7, count: 1000))
        XCTAssertEqual(resetting.requests, resets + 1, "it went to the resetting endpoint first")
        XCTAssertEqual(small.status, .ok)
        XCTAssertEqual(small.bodyText, "healthy PUT body=1000", "the kept body went again, whole")
        await client.close()
        await gateway.stop()
    }

    func testABodyThatArrivedWhileRedisDecidedIsRetriedWhole() async throws {
        let redis = try RedisServerProcess()
        try await redis.start()
        defer { redis.stop() }
        let failing = try await upstream("failing", .status(503))
        let healthy = try await upstream("healthy")
        var route = prefixRoute("all", "/", upstream: "u")
        route.rateLimits = ["roomy"]
        let gateway = try await TestGateway.start(
            GatewayConfiguration(
                node: NodeConfig(id: "n"), runtime: RuntimeConfig(eventLoops: 1, drainTimeout: .seconds(5)),
                listeners: [ListenerConfig(name: "test", address: HostPort(host: "127.0.0.1", port: 0))],
                upstreams: [
                    UpstreamConfig(
                        name: "u", endpoints: [address(failing), address(healthy)],
                        retries: RetryConfig(attempts: 1, on: FailureConditions(statuses: [503]), backoff: .zero))
                ],
                routes: [route],
                rateLimits: [
                    RateLimitPolicyConfig(
                        name: "roomy", algorithm: .fixedWindow, rate: Rate(count: 1000, period: .seconds(3600)),
                        key: [.route])
                ],
                redis: RedisConfig(
                    addresses: [HostPort(host: "127.0.0.1", port: redis.port)], commandTimeout: .seconds(1))))
        // Head and body in one write: the body is parsed while the request waits for Redis.
        let body = String(repeating: "b", count: 300)
        // Round robin: the 1st and 3rd requests meet the failing endpoint first, the 2nd goes straight on.
        for framing in ["content-length: 300", "content-length: 300", "transfer-encoding: chunked"] {
            let raw = try await RawClient.connect(port: gateway.port, group: clientGroup)
            let encoded = framing.hasPrefix("content") ? body : "12c\r\n\(body)\r\n0\r\n\r\n"
            try await raw.send("PUT /doc HTTP/1.1\r\nHost: a\r\n\(framing)\r\nconnection: close\r\n\r\n\(encoded)")
            let answer = try await raw.readUntilClosed()
            XCTAssertTrue(answer.hasPrefix("HTTP/1.1 200"), "\(framing): \(answer)")
            XCTAssertTrue(
                answer.hasSuffix("healthy PUT body=300"), "\(framing): the retry carried the whole body: \(answer)")
        }
        XCTAssertEqual(failing.requests, 2, "two of the three were retried")
        await gateway.stop()
    }

    func testTheRetryBudgetBoundsTheExtraLoadOnAFailingUpstream() async throws {
        let servers = [
            try await upstream("a", .status(503)), try await upstream("b", .status(503)),
            try await upstream("c", .status(503)),
        ]
        let gateway = try await start(
            UpstreamConfig(
                name: "u", endpoints: servers.map(address),
                retries: RetryConfig(
                    attempts: 2, on: FailureConditions(statuses: [503]), backoff: .zero, budgetPercent: 10)))
        let client = try await TestClient.connect(port: gateway.port, group: clientGroup)
        for _ in 0..<100 {
            let response = try await client.request(.GET, "/")
            XCTAssertEqual(response.status, .serviceUnavailable)
        }
        // 100 requests with 2 retries each would be 300 attempts; the budget allows 10 % (at least 3).
        let attempts = servers.map(\.requests).reduce(0, +)
        XCTAssertEqual(attempts, 110, "100 requests + 10 % retries")
        let samples = await metrics(gateway)
        XCTAssertEqual(samples.value("gateway_upstream_retries_total", ["upstream": "u"]), 10)
        // Each request that could not retry counts once per refused retry.
        XCTAssertGreaterThanOrEqual(
            samples.value("gateway_upstream_retry_budget_exhausted_total", ["upstream": "u"]) ?? 0, 90)
        await client.close()
        await gateway.stop()
    }

    func testAPerTryTimeoutMovesOnToAHealthyEndpointWithinTheRequestTimeout() async throws {
        let slow = try await upstream("slow", .slow(3000))
        let fast = try await upstream("fast")
        let gateway = try await start(
            UpstreamConfig(
                name: "u", endpoints: [address(slow), address(fast)],
                retries: RetryConfig(
                    attempts: 1, on: FailureConditions(timeout: true), backoff: .zero,
                    perTryTimeout: .milliseconds(150))))
        let client = try await TestClient.connect(port: gateway.port, group: clientGroup)
        let start = ContinuousClock.now
        let first = try await client.request(.GET, "/")
        let elapsed = ContinuousClock.now - start
        XCTAssertEqual(first.header("x-upstream"), "fast")
        XCTAssertLessThan(elapsed, .milliseconds(1500), "one per-try timeout, not the slow endpoint's 3 s")
        XCTAssertGreaterThanOrEqual(elapsed, .milliseconds(140))
        await client.close()
        await gateway.stop()
    }

    // MARK: - Circuit breaker

    func testTheCircuitOpensAfterConsecutiveFailuresAndClosesAfterAProbe() async throws {
        let flaky = try await upstream("flaky", .status(503))
        let steady = try await upstream("steady")
        let gateway = try await start(
            UpstreamConfig(
                name: "u", endpoints: [address(flaky), address(steady)],
                circuitBreaker: CircuitBreakerConfig(
                    consecutiveFailures: 3, errorRatio: nil, openFor: .milliseconds(300), halfOpenRequests: 1),
                retries: RetryConfig(attempts: 0)))
        let client = try await TestClient.connect(port: gateway.port, group: clientGroup)
        var responses: [TestResponse] = []
        for _ in 0..<20 { responses.append(try await client.request(.GET, "/")) }
        XCTAssertEqual(servedBy(responses), ["503 flaky": 3, "200 steady": 17], "three failures, then none")
        let opened = try await field(gateway, flaky, "circuit")
        XCTAssertTrue(opened == "open" || opened == "half_open", "circuit \(opened ?? "-")")
        try await expect(gateway, steady, "circuit", "closed")

        flaky.set(.ok)
        try await waitUntil("the cool-down to end") { try await field(gateway, flaky, "circuit") == "half_open" }
        var after: [TestResponse] = []
        for _ in 0..<4 { after.append(try await client.request(.GET, "/")) }
        XCTAssertEqual(servedBy(after), ["200 flaky": 2, "200 steady": 2], "the probe passed: back in rotation")
        try await expect(gateway, flaky, "circuit", "closed")
        let samples = await metrics(gateway)
        for state in ["open", "half_open", "closed"] {
            XCTAssertEqual(
                samples.value("gateway_upstream_circuit_transitions_total", ["upstream": "u", "to": state]), 1, state)
        }
        await client.close()
        await gateway.stop()
    }

    func testASlowUploadHittingTheRequestTimeoutIsNotTheEndpointsFault() async throws {
        let server = try await upstream("server")
        var route = prefixRoute("all", "/", upstream: "u")
        route.requestTimeout = .milliseconds(300)
        let gateway = try await start(
            UpstreamConfig(
                name: "u", endpoints: [address(server)],
                circuitBreaker: CircuitBreakerConfig(consecutiveFailures: 1, errorRatio: nil, openFor: .seconds(60)),
                outlier: OutlierConfig(consecutive5xx: 1)),
            routes: [route])
        let raw = try await RawClient.connect(port: gateway.port, group: clientGroup)
        try await raw.send("PUT /doc HTTP/1.1\r\nHost: a\r\ncontent-length: 1000\r\n\r\nonly the start")
        try await raw.waitFor("\r\n\r\n{")
        XCTAssertTrue(raw.receivedText.hasPrefix("HTTP/1.1 504"), raw.receivedText)
        try await expect(gateway, server, "circuit", "closed")
        try await expect(gateway, server, "ejected", "0")
        let client = try await TestClient.connect(port: gateway.port, group: clientGroup)
        let next = try await client.request(.GET, "/")
        XCTAssertEqual(next.status, .ok, "the endpoint is still in rotation")
        await client.close()
        try? await raw.channel.close()
        await gateway.stop()
    }

    func testAFailedProbeReopensTheCircuitForLonger() async throws {
        let flaky = try await upstream("flaky", .reset)
        let steady = try await upstream("steady")
        let gateway = try await start(
            UpstreamConfig(
                name: "u", endpoints: [address(flaky), address(steady)],
                circuitBreaker: CircuitBreakerConfig(
                    consecutiveFailures: 1, errorRatio: nil, openFor: .milliseconds(200),
                    maxOpenFor: .seconds(60), halfOpenRequests: 1),
                retries: RetryConfig(attempts: 0)))
        let client = try await TestClient.connect(port: gateway.port, group: clientGroup)
        let first = try await client.request(.GET, "/")
        XCTAssertEqual(first.status, .badGateway)
        try await waitUntil("the first cool-down to end") { try await field(gateway, flaky, "circuit") == "half_open" }
        var probed = false
        for _ in 0..<2 {
            let response = try await client.request(.GET, "/")
            if response.status == .badGateway { probed = true }
        }
        XCTAssertTrue(probed, "one request probed the endpoint and failed")
        try await expect(gateway, flaky, "circuit", "open")
        // The second cool-down is twice as long: after the first one's length it is still open.
        try await Task.sleep(for: .milliseconds(250))
        try await expect(gateway, flaky, "circuit", "open")
        await client.close()
        await gateway.stop()
    }

    func testWithEveryCircuitOpenRequestsGetAFast503WithoutAnyAttempt() async throws {
        let ports = [try await closedPort(), try await closedPort()]
        let gateway = try await start(
            UpstreamConfig(
                name: "u", endpoints: ports.map { EndpointConfig(address: HostPort(host: "127.0.0.1", port: $0)) },
                circuitBreaker: CircuitBreakerConfig(consecutiveFailures: 1, errorRatio: nil, openFor: .seconds(60)),
                retries: RetryConfig(attempts: 0)))
        let client = try await TestClient.connect(port: gateway.port, group: clientGroup)
        for _ in 0..<2 {
            let tripping = try await client.request(.GET, "/")
            XCTAssertEqual(tripping.status, .badGateway)
        }
        var durations: [Duration] = []
        for _ in 0..<200 {
            let start = ContinuousClock.now
            let response = try await client.request(.GET, "/")
            durations.append(ContinuousClock.now - start)
            XCTAssertEqual(response.status, .serviceUnavailable)
            XCTAssertTrue(response.bodyText.contains("\"error\":\"no_healthy_upstream\""), response.bodyText)
        }
        durations.sort()
        // Client-measured over loopback, so this includes the test client's own work.
        XCTAssertLessThan(durations[100], .milliseconds(2), "median \(durations[100])")
        let samples = await metrics(gateway)
        XCTAssertEqual(
            samples.value("gateway_upstream_errors_total", ["upstream": "u", "kind": "connect_failure"]), 2,
            "no connection was attempted once both circuits were open")
        XCTAssertEqual(samples.value("gateway_upstream_unavailable_total", ["upstream": "u"]), 200)
        for port in ports {
            XCTAssertEqual(
                samples.value(
                    "gateway_upstream_endpoint_circuit_state", ["upstream": "u", "endpoint": "127.0.0.1:\(port)"]), 2)
        }
        await client.close()
        await gateway.stop()
    }

    func testWithEveryCircuitOpenACachedRouteServesStaleIfAllowed() async throws {
        let origin = try await upstream("origin")
        let clock = ManualClock()
        var route = prefixRoute("cached", "/", upstream: "u")
        route.cache = RouteCacheConfig(defaultTTL: .seconds(10), staleIfError: .seconds(600))
        let configuration = GatewayConfiguration(
            node: NodeConfig(id: "edge-1"), runtime: RuntimeConfig(eventLoops: 1, drainTimeout: .seconds(5)),
            listeners: [ListenerConfig(name: "test", address: HostPort(host: "127.0.0.1", port: 0))],
            upstreams: [
                UpstreamConfig(
                    name: "u", endpoints: [address(origin)],
                    circuitBreaker: CircuitBreakerConfig(
                        consecutiveFailures: 1, errorRatio: nil, openFor: .seconds(60)),
                    retries: RetryConfig(attempts: 0))
            ],
            routes: [route], cache: CacheConfig())
        let gateway = try await TestGateway.start(configuration, cacheClock: clock.function)
        let client = try await TestClient.connect(port: gateway.port, group: clientGroup)
        let fresh = try await client.request(.GET, "/page")
        XCTAssertEqual(fresh.header("x-cache"), "MISS")
        clock.advance(seconds: 30)
        origin.set(.status(503))
        let firstFailure = try await client.request(.GET, "/page")
        XCTAssertEqual(firstFailure.status, .ok)
        XCTAssertEqual(firstFailure.header("x-cache"), "STALE", "the origin's 503 opened the circuit")
        let originRequests = origin.requests
        let whileOpen = try await client.request(.GET, "/page")
        XCTAssertEqual(whileOpen.status, .ok)
        XCTAssertEqual(whileOpen.header("x-cache"), "STALE")
        XCTAssertEqual(whileOpen.bodyText, fresh.bodyText)
        XCTAssertEqual(origin.requests, originRequests, "no attempt while the circuit is open")
        let uncached = try await client.request(.GET, "/never-cached")
        XCTAssertEqual(uncached.status, .serviceUnavailable)
        await client.close()
        await gateway.stop()
    }

    // MARK: - Health checks and outliers

    func testActiveHealthChecksTakeAnEndpointOutAndBringItBack() async throws {
        let sick = try await upstream("sick")
        let well = try await upstream("well")
        let gateway = try await start(
            UpstreamConfig(
                name: "u", endpoints: [address(sick), address(well)],
                healthCheck: HealthCheckConfig(
                    path: "/health", interval: .milliseconds(50), timeout: .milliseconds(40), healthy: 2,
                    unhealthy: 2)))
        try await waitUntil("the first checks") { sick.healthChecks > 0 && well.healthChecks > 0 }
        try await expect(gateway, sick, "health", "healthy")
        sick.setHealthy(false)
        try await waitUntil("two failed checks") { try await field(gateway, sick, "health") == "unhealthy" }
        try await expect(gateway, sick, "in_rotation", "0")
        try await expect(gateway, sick, "last_check_failure", "status 503")
        let client = try await TestClient.connect(port: gateway.port, group: clientGroup)
        let before = sick.requests
        var responses: [TestResponse] = []
        for _ in 0..<10 { responses.append(try await client.request(.GET, "/")) }
        XCTAssertEqual(servedBy(responses), ["200 well": 10])
        XCTAssertEqual(sick.requests, before)

        sick.setHealthy(true)
        try await waitUntil("two passed checks") { try await field(gateway, sick, "health") == "healthy" }
        var after: [TestResponse] = []
        for _ in 0..<10 { after.append(try await client.request(.GET, "/")) }
        XCTAssertEqual(servedBy(after), ["200 sick": 5, "200 well": 5])
        let samples = await metrics(gateway)
        XCTAssertEqual(
            samples.value(
                "gateway_upstream_endpoint_healthy", ["upstream": "u", "endpoint": "127.0.0.1:\(sick.port)"]), 1)
        XCTAssertGreaterThan(
            samples.value(
                "gateway_upstream_health_checks_total",
                ["upstream": "u", "endpoint": "127.0.0.1:\(sick.port)", "result": "failed"]) ?? 0, 1)
        await client.close()
        await gateway.stop()
    }

    func testAnEndpointThatStopsAnsweringChecksInTimeIsTakenOut() async throws {
        let hanging = try await upstream("hanging")
        let gateway = try await start(
            UpstreamConfig(
                name: "u", endpoints: [address(hanging)],
                healthCheck: HealthCheckConfig(
                    path: "/slow-health", interval: .milliseconds(60), timeout: .milliseconds(30), healthy: 1,
                    unhealthy: 2)))
        hanging.set(.slow(1000))
        try await waitUntil("two timed-out checks") { try await field(gateway, hanging, "health") == "unhealthy" }
        let client = try await TestClient.connect(port: gateway.port, group: clientGroup)
        let response = try await client.request(.GET, "/")
        XCTAssertEqual(response.status, .serviceUnavailable, "its only endpoint is down")
        await client.close()
        await gateway.stop()
    }

    func testOutlierDetectionEjectsButNeverMoreThanItsShare() async throws {
        let bad = try await upstream("bad", .status(500))
        let worse = try await upstream("worse", .status(500))
        let good = try await upstream("good")
        let gateway = try await start(
            UpstreamConfig(
                name: "u", endpoints: [address(bad), address(worse), address(good)],
                outlier: OutlierConfig(consecutive5xx: 2, ejectFor: .seconds(60), maxEjectedPercent: 34),
                retries: RetryConfig(attempts: 0)))
        let client = try await TestClient.connect(port: gateway.port, group: clientGroup)
        var responses: [TestResponse] = []
        for _ in 0..<30 { responses.append(try await client.request(.GET, "/")) }
        // bad: ejected after its 2nd 500; then only one in three may be out, so worse stays in.
        XCTAssertEqual(responses.filter { $0.header("x-upstream") == "bad" }.count, 2)
        try await expect(gateway, bad, "ejected", "1")
        try await expect(gateway, worse, "ejected", "0")
        try await expect(gateway, good, "ejected", "0")
        let samples = await metrics(gateway)
        XCTAssertEqual(samples.value("gateway_upstream_ejections_total", ["upstream": "u"]), 1)
        await client.close()
        await gateway.stop()
    }

    // MARK: - Bulkheads

    func testBulkheadsShedTheExcessAtOnceWithRetryAfter() async throws {
        let slow = try await upstream("slow", .slow(400))
        var limited = prefixRoute("limited", "/limited", upstream: "u")
        limited.limits = ConcurrencyLimits(maxConcurrent: 1)
        let gateway = try await start(
            UpstreamConfig(
                name: "u", endpoints: [address(slow)], limits: ConcurrencyLimits(maxConcurrent: 3)),
            routes: [limited, prefixRoute("all", "/", upstream: "u")], eventLoops: 2)
        var clients: [TestClient] = []
        for _ in 0..<5 { clients.append(try await TestClient.connect(port: gateway.port, group: clientGroup)) }
        // Three take the upstream's slots; the other two must be refused at once, not queued.
        let pending = clients.prefix(3).map { $0.expectResponse() }
        for client in clients.prefix(3) { client.send(.GET, "/a") }
        try await waitUntil("three requests at the upstream") { slow.requests == 3 }
        for client in clients.suffix(2) {
            let start = ContinuousClock.now
            let shed = try await client.request(.GET, "/b")
            XCTAssertLessThan(ContinuousClock.now - start, .milliseconds(200))
            XCTAssertEqual(shed.status, .serviceUnavailable)
            XCTAssertEqual(shed.header("retry-after"), "1")
            XCTAssertTrue(shed.bodyText.contains("upstream_overloaded"), shed.bodyText)
        }
        for future in pending {
            let response = try await bounded(future, "a slow response").get()
            XCTAssertEqual(response.status, .ok)
        }
        // The route's own limit of one: a second concurrent request to it is refused.
        let first = clients[0].expectResponse()
        clients[0].send(.GET, "/limited")
        try await waitUntil("the limited route's request at the upstream") { slow.requests == 4 }
        let second = try await clients[1].request(.GET, "/limited")
        XCTAssertEqual(second.status, .serviceUnavailable)
        XCTAssertTrue(second.bodyText.contains("route_overloaded"), second.bodyText)
        let firstResponse = try await bounded(first, "the limited route's response").get()
        XCTAssertEqual(firstResponse.status, .ok)
        let samples = await metrics(gateway)
        XCTAssertEqual(samples.value("gateway_bulkhead_rejections_total", ["bulkhead": "upstream:u"]), 2)
        XCTAssertEqual(samples.value("gateway_bulkhead_rejections_total", ["bulkhead": "route:limited"]), 1)
        XCTAssertEqual(samples.value("gateway_bulkhead_in_flight", ["bulkhead": "upstream:u"]), 0, "all slots back")
        for client in clients { await client.close() }
        await gateway.stop()
    }

    func testMaxPendingBoundsTheQueueForConnections() async throws {
        let slow = try await upstream("slow", .slow(300))
        let gateway = try await start(
            UpstreamConfig(
                name: "u", endpoints: [address(slow)], pool: PoolConfig(maxPerEndpoint: 1),
                limits: ConcurrencyLimits(maxPending: 1)))
        var clients: [TestClient] = []
        for _ in 0..<3 { clients.append(try await TestClient.connect(port: gateway.port, group: clientGroup)) }
        let first = clients[0].expectResponse()
        clients[0].send(.GET, "/")
        try await waitUntil("the first request at the upstream") { slow.requests == 1 }
        let second = clients[1].expectResponse()
        clients[1].send(.GET, "/")
        try await waitUntil("the second request queued") {
            let samples = await metrics(gateway)
            return samples.value("gateway_bulkhead_in_flight", ["bulkhead": "pending:u"]) == 1
        }
        let third = try await clients[2].request(.GET, "/")
        XCTAssertEqual(third.status, .serviceUnavailable, "the queue holds one")
        XCTAssertEqual(third.header("retry-after"), "1")
        let firstResponse = try await bounded(first, "the first response").get()
        let secondResponse = try await bounded(second, "the queued response").get()
        XCTAssertEqual(firstResponse.status, .ok)
        XCTAssertEqual(secondResponse.status, .ok, "the queued request got the connection when it was free")
        let samples = await metrics(gateway)
        XCTAssertEqual(samples.value("gateway_bulkhead_in_flight", ["bulkhead": "pending:u"]), 0)
        XCTAssertEqual(samples.value("gateway_bulkhead_rejections_total", ["bulkhead": "pending:u"]), 1)
        XCTAssertEqual(samples.value("gateway_upstream_shed_total", ["upstream": "u"]), 1)
        for client in clients { await client.close() }
        await gateway.stop()
    }

    // MARK: - Reloads

    func testAReloadKeepsWhatBreakersAndHealthChecksLearned() async throws {
        let down = try await upstream("down", .status(503))
        let up = try await upstream("up")
        down.setHealthy(false)
        let config = UpstreamConfig(
            name: "u", endpoints: [address(down), address(up)],
            healthCheck: HealthCheckConfig(
                path: "/health", interval: .milliseconds(50), timeout: .milliseconds(40), healthy: 1, unhealthy: 1),
            circuitBreaker: CircuitBreakerConfig(consecutiveFailures: 1, errorRatio: nil, openFor: .seconds(60)),
            retries: RetryConfig(attempts: 0))
        let gateway = try await start(config)
        try await waitUntil("the down endpoint to fail a check") {
            try await field(gateway, down, "health") == "unhealthy"
        }
        let checksBefore = down.healthChecks
        var routes = [prefixRoute("all", "/", upstream: "u"), prefixRoute("extra", "/extra", upstream: "u")]
        let reloaded = GatewayConfiguration(
            node: NodeConfig(id: "test-node"), runtime: RuntimeConfig(eventLoops: 1, drainTimeout: .seconds(5)),
            listeners: gateway.server.snapshot.configuration.listeners, upstreams: [config], routes: routes)
        try await gateway.server.reload(to: Snapshot(configuration: reloaded, generation: 2))
        try await expect(gateway, down, "health", "unhealthy")
        try await waitUntil("the kept checker to go on checking") { down.healthChecks > checksBefore + 2 }
        try await expect(gateway, down, "health", "unhealthy")

        // Now a circuit: the endpoint passes checks but fails real traffic.
        down.setHealthy(true)
        try await waitUntil("the endpoint to pass a check") { try await field(gateway, down, "health") == "healthy" }
        let client = try await TestClient.connect(port: gateway.port, group: clientGroup)
        var sawFailure = false
        for _ in 0..<3 where !sawFailure {
            sawFailure = try await client.request(.GET, "/").status == .serviceUnavailable
        }
        XCTAssertTrue(sawFailure)
        try await expect(gateway, down, "circuit", "open")
        routes.removeLast()
        let again = GatewayConfiguration(
            node: NodeConfig(id: "test-node"), runtime: RuntimeConfig(eventLoops: 1, drainTimeout: .seconds(5)),
            listeners: reloaded.listeners, upstreams: [config], routes: routes)
        try await gateway.server.reload(to: Snapshot(configuration: again, generation: 3))
        try await expect(gateway, down, "circuit", "open")
        for _ in 0..<4 {
            let response = try await client.request(.GET, "/")
            XCTAssertEqual(response.header("x-upstream"), "up", "the open circuit survived the reload")
        }
        await client.close()
        await gateway.stop()
    }

    // MARK: - Broken responses

    func testAResetMidResponseClosesTheClientConnectionAndNothingElse() async throws {
        let cutting = try await upstream("cutting", .resetMidBody)
        let gateway = try await start(UpstreamConfig(name: "u", endpoints: [address(cutting)]))
        let raw = try await RawClient.connect(port: gateway.port, group: clientGroup)
        try await raw.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        let received = try await raw.readUntilClosed()
        XCTAssertTrue(received.hasPrefix("HTTP/1.1 200"), received)
        XCTAssertTrue(received.lowercased().contains("content-length: 1000"))
        XCTAssertLessThan(received.utf8.count, 1000, "the client saw a short body and a close, never a complete lie")
        cutting.set(.ok)
        let client = try await TestClient.connect(port: gateway.port, group: clientGroup)
        let next = try await client.request(.GET, "/")
        XCTAssertEqual(next.status, .ok)
        await client.close()
        await gateway.stop()
    }
}

extension PrometheusSamples {
    /// The value of the one series of `name` whose labels are exactly `labels` (any order).
    func value(_ name: String, _ labels: [String: String]) -> Double? {
        for (series, value) in values {
            guard series.hasPrefix(name), series.dropFirst(name.count).first.map({ $0 == "{" }) ?? labels.isEmpty
            else { continue }
            var found: [String: String] = [:]
            if let open = series.firstIndex(of: "{") {
                let inner = series[series.index(after: open)..<(series.lastIndex(of: "}") ?? series.endIndex)]
                for pair in inner.split(separator: ",") {
                    let parts = pair.split(separator: "=", maxSplits: 1)
                    guard parts.count == 2 else { continue }
                    found[String(parts[0])] = String(parts[1].dropFirst().dropLast())
                }
            }
            if found == labels { return value }
        }
        return nil
    }
}
