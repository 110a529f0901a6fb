import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import TestSupport
import XCTest

/// Three `gateway` processes sharing one redis-server and one limit, with a client spreading its
/// requests over all three, as a fleet behind a load balancer would see them.
final class FleetRateLimitTests: XCTestCase {
    static let limit = 300
    static let gateways = 3
    static let eventLoops = 2

    override func setUpWithError() throws {
        try XCTSkipUnless(GatewayProcess.isBuilt, "build the gateway first: \(GatewayProcess.binary)")
    }

    private func config(upstreamPort: Int, redisPorts: [Int], mode: String) -> String {
        // A sliding window of a day: no window boundary can fall inside the test and double it.
        """
        runtime: { event_loops: \(Self.eventLoops) }
        listeners:
          - name: public
            address: 127.0.0.1:0
        redis:
          mode: \(redisPorts.count > 1 ? "cluster" : "standalone")
          addresses: [\(redisPorts.map { "127.0.0.1:\($0)" }.joined(separator: ", "))]
          timeouts: { connect: 500ms, command: 500ms }
        rate_limits:
          fleet:
            algorithm: sliding_window
            rate: \(Self.limit)/d
            key: [route]
            mode: \(mode)
            sync_every: 50ms
            on_redis_error: fail_closed
        upstreams:
          u: { endpoints: [{ address: 127.0.0.1:\(upstreamPort) }] }
        routes:
          - name: all
            match: { path_prefix: / }
            upstream: u
            rate_limits: [fleet]
        """
    }

    /// Sends `total` requests, round-robin over the gateways from `concurrency` clients at once;
    /// returns how many were allowed and the request rate achieved.
    private func spread(total: Int, over ports: [Int], concurrency: Int) async throws -> (
        allowed: Int, perSecond: Double
    ) {
        let group = MultiThreadedEventLoopGroup.singleton
        let started = ContinuousClock.now
        let allowed = try await withThrowingTaskGroup(of: Int.self) { tasks in
            for worker in 0..<concurrency {
                tasks.addTask {
                    var clients: [TestClient] = []
                    for port in ports { clients.append(try await TestClient.connect(port: port, group: group)) }
                    var allowed = 0
                    var index = worker
                    while index < total {
                        let response = try await clients[index % clients.count].request(.GET, "/")
                        switch response.status {
                        case .ok: allowed += 1
                        case .tooManyRequests: break
                        default: XCTFail("unexpected \(response.status): \(response.bodyText)")
                        }
                        index += concurrency
                    }
                    for client in clients { await client.close() }
                    return allowed
                }
            }
            return try await tasks.reduce(0, +)
        }
        let seconds =
            Double((ContinuousClock.now - started).components.attoseconds) / 1e18
            + Double((ContinuousClock.now - started).components.seconds)
        return (allowed, Double(total) / max(seconds, 0.001))
    }

    private func runFleet(mode: String, cluster: Bool = false) async throws -> (allowed: Int, perSecond: Double) {
        let redisPorts: [Int]
        let stopRedis: () -> Void
        if cluster {
            let redis = RedisClusterProcess()
            try await redis.start()
            redisPorts = redis.ports
            stopRedis = { redis.stop() }
        } else {
            let redis = try RedisServerProcess()
            try await redis.start()
            redisPorts = [redis.port]
            stopRedis = { redis.stop() }
        }
        defer { stopRedis() }
        let upstream = try await TestUpstream()
        var gateways: [RunningGateway] = []
        for _ in 0..<Self.gateways {
            gateways.append(
                try await GatewayProcess.start(config(upstreamPort: upstream.port, redisPorts: redisPorts, mode: mode)))
        }
        defer {
            for gateway in gateways { gateway.kill() }
        }
        let result = try await spread(total: Self.limit * 3 / 2, over: gateways.map(\.port), concurrency: 6)
        XCTAssertEqual(upstream.requests, result.allowed, "every allowed request reached the upstream, no other")
        await upstream.stop()
        return result
    }

    func testExactModeAdmitsTheLimitAcrossThreeProcesses() async throws {
        let (allowed, _) = try await runFleet(mode: "exact")
        // The issue allows ±2 %; one script call per request in Redis makes it exact.
        XCTAssertEqual(allowed, Self.limit)
    }

    /// The same through a 3-master Redis Cluster: the key's hash tag puts it on one master, which
    /// every gateway finds through the slot map.
    func testExactModeAdmitsTheLimitThroughAThreeMasterCluster() async throws {
        let (allowed, _) = try await runFleet(mode: "exact", cluster: true)
        XCTAssertEqual(allowed, Self.limit)
    }

    func testApproximateModeThroughAThreeMasterCluster() async throws {
        let (allowed, perSecond) = try await runFleet(mode: "approximate", cluster: true)
        XCTAssertGreaterThanOrEqual(allowed, Self.limit)
        XCTAssertLessThanOrEqual(allowed, Self.approximateBound(perSecond: perSecond))
    }

    /// Approximate mode's documented bound: the fleet admits the limit, plus about what the other
    /// counting units (every event loop of every gateway counts on its own) admit in one sync
    /// interval and a sync's round trip after the limit is reached; the test allows two intervals.
    static func approximateBound(perSecond: Double) -> Int {
        let units = Double(gateways * eventLoops)
        return limit + Int((perSecond * (units - 1) / units * 0.050 * 2).rounded(.up)) + 3
    }

    func testApproximateModeStaysWithinItsDocumentedBound() async throws {
        let (allowed, perSecond) = try await runFleet(mode: "approximate")
        let bound = Self.approximateBound(perSecond: perSecond)
        print(
            "approximate fleet: \(allowed) allowed of limit \(Self.limit) at \(Int(perSecond)) req/s (bound \(bound))")
        XCTAssertGreaterThanOrEqual(allowed, Self.limit, "approximate mode never under-admits here")
        XCTAssertLessThanOrEqual(allowed, bound)
    }
}
