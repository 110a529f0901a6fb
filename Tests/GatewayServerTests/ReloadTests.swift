import Foundation
import GatewayConfig
import Logging
import NIOCore
import NIOPosix
import XCTest

@testable import GatewayServer

/// Publishing a new snapshot to a running gateway (the core of a reload).
final class ReloadTests: XCTestCase {
    private let clientGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    override func tearDown() async throws {
        try await clientGroup.shutdownGracefully()
    }

    private func snapshot(routingTo upstream: TestUpstream, generation: Int) -> Snapshot {
        let configuration = GatewayConfiguration(
            node: NodeConfig(id: "test-node"),
            runtime: RuntimeConfig(eventLoops: 1, drainTimeout: .seconds(5)),
            listeners: [ListenerConfig(name: "test", address: HostPort(host: "127.0.0.1", port: 0))],
            upstreams: [UpstreamConfig(name: "u", endpoints: [endpoint(upstream)])],
            routes: [prefixRoute("all", "/", upstream: "u")])
        return Snapshot(configuration: configuration, generation: generation)
    }

    func testNewRequestsUseTheNewSnapshotWhileInFlightOnesFinishOnTheirs() async throws {
        let first = try await TestUpstream(name: "first")
        let second = try await TestUpstream(name: "second")
        let gateway = try await TestGateway.start(
            upstreams: [UpstreamConfig(name: "u", endpoints: [endpoint(first)])],
            routes: [prefixRoute("all", "/", upstream: "u")], eventLoops: 1)
        let client = try await TestClient.connect(port: gateway.port, group: clientGroup)
        let before = try await client.request(.GET, "/echo")
        XCTAssertTrue(before.bodyText.contains("upstream=first"), before.bodyText)

        // A request in flight on the first upstream while the reload happens.
        let slowClient = try await TestClient.connect(port: gateway.port, group: clientGroup)
        async let slow = slowClient.request(.GET, "/slow/300")
        try await first.requestsReceived(2).get()
        try await gateway.server.reload(to: snapshot(routingTo: second, generation: 2))
        XCTAssertEqual(gateway.server.snapshot.generation, 2)

        // The same keep-alive client connection now reaches the new upstream.
        let after = try await client.request(.GET, "/echo")
        XCTAssertTrue(after.bodyText.contains("upstream=second"), after.bodyText)
        let finished = try await slow
        XCTAssertEqual(finished.status, .ok)
        XCTAssertEqual(finished.bodyText, "slow")

        // The first upstream's pool was retired: its connections close once their exchange ends
        // (the close completes on the gateway's loop; nothing outside can await it, so poll).
        var open = await gateway.server.upstreamConnectionCounts()["127.0.0.1:\(first.port)", default: 0]
        let deadline = ContinuousClock.now + .seconds(30)
        while open > 0 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
            open = await gateway.server.upstreamConnectionCounts()["127.0.0.1:\(first.port)", default: 0]
        }
        XCTAssertEqual(open, 0, "connections of the retired pool still open")
        let secondOpen = await gateway.server.upstreamConnectionCounts()["127.0.0.1:\(second.port)"]
        XCTAssertEqual(secondOpen, 1)
        await client.close()
        await slowClient.close()
        await gateway.stop()
        await first.stop()
        await second.stop()
    }

    func testConcurrentReloadsAreAppliedOneAtATime() async throws {
        let upstream = try await TestUpstream()
        let gateway = try await TestGateway.start(
            upstreams: [UpstreamConfig(name: "u", endpoints: [endpoint(upstream)])],
            routes: [prefixRoute("all", "/", upstream: "u")], eventLoops: 2)
        let path = NSTemporaryDirectory() + "gateway-reload-\(UUID().uuidString).yaml"
        try """
        listeners:
          - name: test
            address: 127.0.0.1:0
        upstreams:
          u: { endpoints: [{ address: 127.0.0.1:\(upstream.port) }] }
        routes:
          - name: all
            match: { path_prefix: / }
            upstream: u
        """.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        var logger = Logger(label: "test-reloader")
        logger.logLevel = .critical
        let reloader = ConfigReloader(path: path, server: gateway.server, logger: logger)

        let outcomes = await withTaskGroup(of: ConfigReloader.Outcome.self) { group in
            for _ in 0..<8 { group.addTask { await reloader.reload() } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let generations = outcomes.compactMap { outcome -> Int? in
            if case .applied(let generation) = outcome { return generation }
            return nil
        }
        XCTAssertEqual(generations.sorted(), Array(2...9))
        XCTAssertEqual(gateway.server.snapshot.generation, 9)
        await gateway.stop()
        await upstream.stop()
    }
}
