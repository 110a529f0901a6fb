import Foundation
import GatewayConfig
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import XCTest

@testable import GatewayServer

/// Faults as operators meet them, under load: an upstream process killed and restarted, an
/// upstream that turns slow, and a crowd of slow clients. Every wait is bounded.
final class ResilienceFaultTests: XCTestCase {
    private let clientGroup = MultiThreadedEventLoopGroup(numberOfThreads: 2)
    private var processes: [PythonUpstream] = []

    override func tearDown() async throws {
        for process in processes { process.kill() }
        try await clientGroup.shutdownGracefully()
    }

    private func python(_ name: String, delayMilliseconds: Int = 0) async throws -> PythonUpstream {
        let upstream = try await PythonUpstream.start(name: name, delayMilliseconds: delayMilliseconds)
        processes.append(upstream)
        return upstream
    }

    private func endpoint(_ upstream: PythonUpstream) -> EndpointConfig {
        EndpointConfig(address: HostPort(host: "127.0.0.1", port: upstream.port))
    }

    /// What a load run saw: statuses and which endpoint served, and each request's latency.
    private final class LoadResults: Sendable {
        private let state = NIOLockedValueBox((served: [String: Int](), failures: [String](), latencies: [Duration]()))

        func record(_ response: TestResponse?, latency: Duration, error: Error? = nil) {
            state.withLockedValue { state in
                state.latencies.append(latency)
                if let response, response.status == .ok {
                    state.served[response.header("x-upstream") ?? "?", default: 0] += 1
                } else {
                    state.failures.append(
                        response.map { "\($0.status.code) \($0.bodyText)" } ?? "\(error.map { "\($0)" } ?? "?")")
                }
            }
        }

        var served: [String: Int] { state.withLockedValue { $0.served } }
        var failures: [String] { state.withLockedValue { $0.failures } }
        var total: Int { state.withLockedValue { $0.latencies.count } }
        var latencies: [Duration] { state.withLockedValue { $0.latencies.sorted() } }
    }

    /// `clients` keep-alive clients sending GETs back to back until `running` turns false.
    private func generateLoad(
        port: Int, clients: Int, results: LoadResults, running: NIOLockedValueBox<Bool>
    ) -> Task<Void, Error> {
        let group = clientGroup
        return Task {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                for _ in 0..<clients {
                    tasks.addTask {
                        let client = try await TestClient.connect(port: port, group: group)
                        while running.withLockedValue({ $0 }) {
                            let start = ContinuousClock.now
                            do {
                                let response = try await bounded(
                                    client.channel.eventLoop.makeFutureWithTask { try await client.request(.GET, "/") },
                                    "a response", timeout: .seconds(10)
                                ).get()
                                results.record(response, latency: ContinuousClock.now - start)
                            } catch {
                                results.record(nil, latency: ContinuousClock.now - start, error: error)
                                return
                            }
                        }
                        await client.close()
                    }
                }
                try await tasks.waitForAll()
            }
        }
    }

    /// Runs `body`, and stops the gateway however it ends: a gateway left running when a test
    /// fails would take the whole test process down with it (NIO traps on leaked promises).
    private func using(_ gateway: TestGateway, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch {
            await gateway.stop()
            throw error
        }
        await gateway.stop()
    }

    private func endpointField(_ gateway: TestGateway, _ upstream: PythonUpstream, _ name: String) async throws
        -> String?
    {
        let api = AdminAPI(server: gateway.server, reloader: nil, token: nil)
        let response = await api.handle(.init(method: "GET", path: "/admin/upstreams", authorization: nil))
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any])
        let endpoints = (object["upstreams"] as? [[String: Any]])?.first?["endpoints"] as? [[String: Any]] ?? []
        let entry = endpoints.first { $0["address"] as? String == "127.0.0.1:\(upstream.port)" }
        return entry?[name].map { "\($0)" }
    }

    func testKillingOneOfThreeEndpointsUnderLoadLosesNoRequestAndItComesBack() async throws {
        let upstreams = [try await python("a"), try await python("b"), try await python("c")]
        let victim = upstreams[1]
        let gateway = try await TestGateway.start(
            upstreams: [
                UpstreamConfig(
                    name: "u", endpoints: upstreams.map(endpoint),
                    healthCheck: HealthCheckConfig(
                        path: "/health", interval: .milliseconds(100), timeout: .milliseconds(100), healthy: 2,
                        unhealthy: 2),
                    circuitBreaker: CircuitBreakerConfig(
                        consecutiveFailures: 3, errorRatio: nil, openFor: .milliseconds(500), halfOpenRequests: 1),
                    retries: RetryConfig(
                        attempts: 2, on: FailureConditions(connectFailure: true, reset: true, statuses: [502, 503]),
                        backoff: .milliseconds(5)))
            ],
            routes: [prefixRoute("all", "/", upstream: "u")], eventLoops: 2)
        try await using(gateway) {
            let results = LoadResults()
            let running = NIOLockedValueBox(true)
            let load = generateLoad(port: gateway.port, clients: 8, results: results, running: running)

            try await waitUntil("traffic on every endpoint") { results.served.count == 3 && results.total > 300 }
            victim.kill()
            let killedAt = results.total
            try await waitUntil("health checks to take the killed endpoint out") {
                try await endpointField(gateway, victim, "health") == "unhealthy"
            }
            let samples = PrometheusSamples(await gateway.server.metricsText())
            XCTAssertGreaterThanOrEqual(
                samples.value("gateway_upstream_circuit_transitions_total", ["upstream": "u", "to": "open"]) ?? 0, 1,
                "its circuit opened on the failed attempts")
            try await waitUntil("more traffic without it") { results.total > killedAt + 300 }
            let servedByVictim = results.served["b"] ?? 0

            try await victim.start()
            try await waitUntil("the restarted endpoint to serve again") {
                (results.served["b"] ?? 0) > servedByVictim + 20
            }
            try await waitUntil("its health to be back") {
                try await endpointField(gateway, victim, "health") == "healthy"
            }
            running.withLockedValue { $0 = false }
            try await load.value
            XCTAssertEqual(results.failures, [], "no client saw the endpoint die")
            XCTAssertGreaterThan(results.total, 600)
            print("kill/restart under load: \(results.total) requests, served \(results.served), 0 failed")
        }
    }

    func testASlowEndpointCostsOnePerTryTimeoutAndThenNothing() async throws {
        let upstreams = [
            try await python("fast-1"), try await python("slow", delayMilliseconds: 3000), try await python("fast-2"),
        ]
        let gateway = try await TestGateway.start(
            upstreams: [
                UpstreamConfig(
                    name: "u", endpoints: upstreams.map(endpoint),
                    circuitBreaker: CircuitBreakerConfig(
                        consecutiveFailures: 2, errorRatio: nil, openFor: .seconds(60)),
                    retries: RetryConfig(
                        attempts: 2, on: FailureConditions(connectFailure: true, timeout: true, reset: true),
                        backoff: .zero, perTryTimeout: .milliseconds(200)))
            ],
            routes: [prefixRoute("all", "/", upstream: "u")], eventLoops: 2)
        try await using(gateway) {
            let results = LoadResults()
            let running = NIOLockedValueBox(true)
            let load = generateLoad(port: gateway.port, clients: 4, results: results, running: running)
            try await waitUntil("400 requests") { results.total >= 400 }
            running.withLockedValue { $0 = false }
            try await load.value
            XCTAssertEqual(results.failures, [])
            XCTAssertNil(results.served["slow"], "nothing waited the slow endpoint's 3 s")
            let latencies = results.latencies
            let p99 = latencies[latencies.count * 99 / 100]
            let worst = latencies[latencies.count - 1]
            // Only the few requests that met the slow endpoint before its circuit opened paid a
            // per-try timeout (200 ms); no request paid it twice.
            XCTAssertLessThan(worst, .milliseconds(1000), "worst \(worst)")
            XCTAssertLessThan(p99, .milliseconds(450), "p99 \(p99)")
            let samples = PrometheusSamples(await gateway.server.metricsText())
            XCTAssertGreaterThanOrEqual(
                samples.value("gateway_upstream_circuit_transitions_total", ["upstream": "u", "to": "open"]) ?? 0, 1)
            let retries = samples.value("gateway_upstream_retries_total", ["upstream": "u"]) ?? 0
            XCTAssertGreaterThanOrEqual(retries, 1)
            XCTAssertLessThanOrEqual(retries, 8, "two timeouts per loop open the circuit; the budget never came close")
            print("slow endpoint: \(results.total) requests, p99 \(p99), worst \(worst), \(Int(retries)) retries")
        }
    }

    func testUnderOverloadTheExcessIsShedFastAndHealthStillAnswers() async throws {
        let upstream = try await ControlledUpstream(name: "u", mode: .slow(1000))
        defer { Task { await upstream.stop() } }
        let gateway = try await TestGateway.start(
            upstreams: [
                UpstreamConfig(
                    name: "u",
                    endpoints: [EndpointConfig(address: HostPort(host: "127.0.0.1", port: upstream.port))],
                    limits: ConcurrencyLimits(maxConcurrent: 20))
            ],
            routes: [prefixRoute("all", "/", upstream: "u")], eventLoops: 2)
        let admin = AdminServer(
            config: AdminConfig(address: HostPort(host: "127.0.0.1", port: 0)),
            api: AdminAPI(server: gateway.server, reloader: nil, token: nil), logger: Logger(label: "admin"))
        let adminPort = try await admin.start()?.port ?? 0
        try await using(gateway) {
            let served = NIOLockedValueBox([Duration]())
            let shed = NIOLockedValueBox([Duration]())
            let running = NIOLockedValueBox(true)
            let group = clientGroup
            let port = gateway.port
            let load = Task {
                try await withThrowingTaskGroup(of: Void.self) { tasks in
                    for _ in 0..<200 {
                        tasks.addTask {
                            let client = try await TestClient.connect(port: port, group: group)
                            while running.withLockedValue({ $0 }) {
                                let start = ContinuousClock.now
                                let response = try await client.request(.GET, "/")
                                let latency = ContinuousClock.now - start
                                if response.status == .ok {
                                    served.withLockedValue { $0.append(latency) }
                                } else {
                                    XCTAssertEqual(response.status, .serviceUnavailable)
                                    shed.withLockedValue { $0.append(latency) }
                                    // A client told Retry-After comes back later; 200 clients that
                                    // retried at once would only measure this 2-core machine's CPU.
                                    try await Task.sleep(for: .milliseconds(20))
                                }
                            }
                            await client.close()
                        }
                    }
                    try await tasks.waitForAll()
                }
            }
            try await waitUntil("overload") { served.withLockedValue { $0.count } >= 20 }
            var healthLatencies: [Duration] = []
            for _ in 0..<10 {
                let client = try await TestClient.connect(port: adminPort, group: clientGroup)
                let start = ContinuousClock.now
                let health = try await client.request(.GET, "/admin/health", headers: [("host", "admin")])
                healthLatencies.append(ContinuousClock.now - start)
                XCTAssertEqual(health.status, .ok)
                await client.close()
            }
            try await waitUntil("more load") { served.withLockedValue { $0.count } >= 60 }
            running.withLockedValue { $0 = false }
            try await load.value
            let servedLatencies = served.withLockedValue { $0.sorted() }
            let shedLatencies = shed.withLockedValue { $0.sorted() }
            XCTAssertGreaterThan(shedLatencies.count, servedLatencies.count, "most of 200 clients were over 20 slots")
            let shedP99 = shedLatencies[shedLatencies.count * 99 / 100]
            let servedP99 = servedLatencies[servedLatencies.count * 99 / 100]
            let healthWorst = healthLatencies.max() ?? .zero
            let shedMedian = shedLatencies[shedLatencies.count / 2]
            // Measured by clients on the same two cores as the gateway and the upstream: the point is
            // that a refusal never waits for the upstream's second, as a queued request would.
            XCTAssertLessThan(shedMedian, .milliseconds(200), "shed median \(shedMedian)")
            XCTAssertLessThan(shedP99, .milliseconds(500), "shed p99 \(shedP99)")
            XCTAssertLessThan(servedP99, .milliseconds(1500), "served p99 \(servedP99): the admitted 20 are not slowed")
            XCTAssertLessThan(healthWorst, .milliseconds(200), "admin health worst \(healthWorst)")
            print(
                "overload: \(servedLatencies.count) served (p99 \(servedP99)), \(shedLatencies.count) shed "
                    + "(median \(shedMedian), p99 \(shedP99)), admin health worst \(healthWorst)")
        }
        await admin.stop()
    }

    func testAThousandSlowClientsDoNotStarveNormalOnesAndAreCutByTheHeaderTimeout() async throws {
        let upstream = try await ControlledUpstream(name: "u")
        defer { Task { await upstream.stop() } }
        let gateway = try await TestGateway.start(
            upstreams: [
                UpstreamConfig(
                    name: "u", endpoints: [EndpointConfig(address: HostPort(host: "127.0.0.1", port: upstream.port))])
            ],
            routes: [prefixRoute("all", "/", upstream: "u")],
            listener: ListenerConfig(
                name: "test", address: HostPort(host: "127.0.0.1", port: 0),
                timeouts: ListenerTimeouts(headerRead: .seconds(2), bodyRead: .seconds(2), idle: .seconds(60))),
            eventLoops: 2)
        try await using(gateway) {
            var slow: [RawClient] = []
            for index in 0..<1000 {
                let client = try await RawClient.connect(port: gateway.port, group: clientGroup)
                // Half send a partial head, half a head and part of a promised body (slowloris and slow POST).
                if index % 2 == 0 {
                    try await client.send("GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ")
                } else {
                    try await client.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\npartial")
                }
                slow.append(client)
            }
            let normal = try await TestClient.connect(port: gateway.port, group: clientGroup)
            var latencies: [Duration] = []
            for _ in 0..<100 {
                let start = ContinuousClock.now
                let response = try await normal.request(.GET, "/")
                latencies.append(ContinuousClock.now - start)
                XCTAssertEqual(response.status, .ok)
            }
            latencies.sort()
            XCTAssertLessThan(latencies[98], .milliseconds(100), "p99 \(latencies[98]) with 1000 slow clients open")
            // Each slow client is cut by its timeout (checked every second): 2 s + the sweep.
            let start = ContinuousClock.now
            var answered408 = 0
            for client in slow {
                let text = try await client.readUntilClosed()
                if text.hasPrefix("HTTP/1.1 408") { answered408 += 1 }
            }
            let cutAfter = ContinuousClock.now - start
            XCTAssertLessThan(cutAfter, .seconds(6), "all 1000 were cut by the read timeouts")
            XCTAssertEqual(answered408, 500, "a stalled body gets a 408; a stalled head just a close")
            let again = try await normal.request(.GET, "/")
            XCTAssertEqual(again.status, .ok, "the normal client's keep-alive connection was left alone")
            await normal.close()
        }
    }
}
