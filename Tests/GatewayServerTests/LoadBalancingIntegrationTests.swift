import GatewayConfig
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import XCTest

/// Balancing across real upstream servers. One event loop in the gateway so the per-loop balancer
/// state sees every request and the expected counts are exact.
final class LoadBalancingIntegrationTests: XCTestCase {
    private let clientGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private var upstreams: [TestUpstream] = []

    override func setUp() async throws {
        upstreams = [
            try await TestUpstream(name: "a"), try await TestUpstream(name: "b"), try await TestUpstream(name: "c"),
        ]
    }

    override func tearDown() async throws {
        for upstream in upstreams { await upstream.stop() }
        try await clientGroup.shutdownGracefully()
    }

    private func start(_ upstream: UpstreamConfig) async throws -> TestGateway {
        try await TestGateway.start(
            upstreams: [upstream], routes: [prefixRoute("all", "/", upstream: upstream.name)], eventLoops: 1)
    }

    private func servedBy(_ responses: [TestResponse]) -> [String: Int] {
        responses.reduce(into: [:]) { counts, response in counts[response.header("x-upstream") ?? "?", default: 0] += 1
        }
    }

    func testWeightedRoundRobinSharesExactly() async throws {
        let gateway = try await start(
            UpstreamConfig(
                name: "u", endpoints: [endpoint(upstreams[0], weight: 3), endpoint(upstreams[1], weight: 1)],
                balance: .roundRobin))
        let client = try await TestClient.connect(port: gateway.port, group: clientGroup)
        var responses: [TestResponse] = []
        for index in 0..<40 {
            responses.append(try await client.request(.GET, "/\(index)"))
        }
        XCTAssertEqual(servedBy(responses), ["a": 30, "b": 10])
        await client.close()
        await gateway.stop()
    }

    func testConsistentHashOnHeaderIsSticky() async throws {
        let gateway = try await start(
            UpstreamConfig(
                name: "u", endpoints: upstreams.map { endpoint($0) }, balance: .consistentHash(.header("x-user-id"))))
        let client = try await TestClient.connect(port: gateway.port, group: clientGroup)
        var owners: [String: String] = [:]
        for user in 0..<30 {
            for _ in 0..<3 {
                let response = try await client.request(
                    .GET, "/", headers: [("host", "a"), ("X-User-Id", "user-\(user)")])
                let served = try XCTUnwrap(response.header("x-upstream"))
                if let owner = owners["user-\(user)"] {
                    XCTAssertEqual(owner, served, "user-\(user) moved between endpoints")
                }
                owners["user-\(user)"] = served
            }
        }
        // 30 users over 3 endpoints: all endpoints get some (the chance one gets none is ~1e-5).
        XCTAssertEqual(Set(owners.values).count, 3)
        await client.close()
        await gateway.stop()
    }

    func testConsistentHashOnCookie() async throws {
        let gateway = try await start(
            UpstreamConfig(
                name: "u", endpoints: upstreams.map { endpoint($0) }, balance: .consistentHash(.cookie("sid"))))
        let client = try await TestClient.connect(port: gateway.port, group: clientGroup)
        let first = try await client.request(.GET, "/", headers: [("host", "a"), ("cookie", "theme=dark; sid=42")])
        for _ in 0..<10 {
            let again = try await client.request(.GET, "/", headers: [("host", "a"), ("cookie", "sid=42")])
            XCTAssertEqual(again.header("x-upstream"), first.header("x-upstream"))
        }
        await client.close()
        await gateway.stop()
    }

    func testLeastRequestAvoidsTheBusyEndpoint() async throws {
        let gateway = try await start(
            UpstreamConfig(
                name: "u", endpoints: [endpoint(upstreams[0]), endpoint(upstreams[1])], balance: .leastRequest))
        // Hold a slow request on whichever endpoint takes it; then every quick request must go to
        // the other one, which has no request in flight.
        let slowClient = try await TestClient.connect(port: gateway.port, group: clientGroup)
        let slow = slowClient.expectResponse()
        slowClient.send(.GET, "/slow/1000")
        let busyName = try await waitForBusyEndpoint()
        let client = try await TestClient.connect(port: gateway.port, group: clientGroup)
        for index in 0..<10 {
            let response = try await client.request(.GET, "/quick/\(index)")
            XCTAssertNotEqual(response.header("x-upstream"), busyName)
        }
        _ = try await slow.get()
        await client.close()
        await slowClient.close()
        await gateway.stop()
    }

    /// The endpoint that received the slow request is the busy one.
    private func waitForBusyEndpoint() async throws -> String {
        let first = clientGroup.next().makePromise(of: String.self)
        let decided = NIOLockedValueBox(false)
        for (name, upstream) in [("a", upstreams[0]), ("b", upstreams[1])] {
            upstream.requestsReceived(1).whenSuccess {
                let isFirst = decided.withLockedValue { done in
                    defer { done = true }
                    return !done
                }
                if isFirst { first.succeed(name) }
            }
        }
        return try await bounded(first.futureResult, "the slow request to reach an upstream").get()
    }
}
