import Foundation
import GatewayConfig
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import XCTest

@testable import GatewayServer

/// Reloads while clients keep sending: nothing may fail, valid reloads must show at once and
/// invalid ones must change nothing. Also listener changes made by a reload.
final class ReloadUnderLoadTests: XCTestCase {
    private let clientGroup = MultiThreadedEventLoopGroup(numberOfThreads: 2)

    override func tearDown() async throws {
        try await clientGroup.shutdownGracefully()
    }

    /// Generation `n` routes `/` to upstream A when n is even, B when odd, and marks every response
    /// with `x-generation: n`; odd generations also add a route `/only-odd/`.
    private func config(_ n: Int, a: TestUpstream, b: TestUpstream) -> String {
        var yaml = """
            runtime: { event_loops: 2 }
            listeners:
              - name: public
                address: 127.0.0.1:0
            upstreams:
              a: { endpoints: [{ address: 127.0.0.1:\(a.port) }] }
              b: { endpoints: [{ address: 127.0.0.1:\(b.port) }] }
            routes:
              - name: main
                match: { path_prefix: / }
                upstream: \(n % 2 == 0 ? "a" : "b")
                headers: { response: { set: { x-generation: "\(n)" } } }

            """
        if n % 2 == 1 {
            yaml += """
                  - name: odd
                    match: { path_prefix: /only-odd/ }
                    upstream: a
                    headers: { response: { set: { x-generation: "odd-\(n)" } } }

                """
        }
        return yaml
    }

    private final class LoadStats: Sendable {
        private let state = NIOLockedValueBox((sent: 0, failures: [String]()))
        func record(_ failure: String?) {
            state.withLockedValue { state in
                state.sent += 1
                if let failure { state.failures.append(failure) }
            }
        }
        var sent: Int { state.withLockedValue { $0.sent } }
        var failures: [String] { state.withLockedValue { $0.failures } }
    }

    func testTwentyReloadsUnderLoadDropNothing() async throws {
        let a = try await TestUpstream(name: "A")
        let b = try await TestUpstream(name: "B")
        let path = NSTemporaryDirectory() + "gateway-reload-load-\(UUID().uuidString).yaml"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try config(1, a: a, b: b).write(toFile: path, atomically: true, encoding: .utf8)
        guard case .success(let initial) = ConfigLoader.load(path: path) else { return XCTFail("bad initial config") }
        var logger = Logger(label: "reload-under-load")
        logger.logLevel = .critical
        let server = GatewayServer(snapshot: Snapshot(configuration: initial, generation: 1), logger: logger)
        let bound = try await server.start()
        let port = try XCTUnwrap(bound["public"]?.port)
        let reloader = ConfigReloader(path: path, server: server, logger: logger)

        // Sixteen keep-alive clients send requests back to back until told to stop.
        let stats = LoadStats()
        let stop = NIOLockedValueBox(false)
        let clientGroup = self.clientGroup
        let load = Task {
            await withTaskGroup(of: Void.self) { group in
                for client in 0..<16 {
                    group.addTask {
                        guard let connection = try? await TestClient.connect(port: port, group: clientGroup) else {
                            return stats.record("client \(client) could not connect")
                        }
                        var index = 0
                        while !stop.withLockedValue({ $0 }) {
                            index += 1
                            let uri = index % 3 == 0 ? "/only-odd/\(index)" : "/load/\(client)/\(index)"
                            do {
                                let response = try await connection.request(.GET, uri)
                                // /only-odd/ answers 200 from one route or the other; nothing else is allowed.
                                stats.record(response.status == .ok ? nil : "\(uri): \(response.status)")
                            } catch {
                                stats.record("\(uri): \(error)")
                                return
                            }
                        }
                        await connection.close()
                    }
                }
            }
        }

        let checker = try await TestClient.connect(port: port, group: clientGroup)
        var generation = 1
        var applied = 0
        var rejected = 0
        for attempt in 1...20 {
            let before = stats.sent
            let invalid = attempt % 4 == 0
            if invalid {
                // Alternately a syntax problem and a reference to an unknown upstream.
                let bad =
                    attempt % 8 == 0
                    ? config(generation + 1, a: a, b: b) + "  - name: broken\n    upstream: nowhere\n"
                    : "listeners: [ { name: public, address: 127.0.0.1:0 }\n"
                try bad.write(toFile: path, atomically: true, encoding: .utf8)
            } else {
                try config(generation + 1, a: a, b: b).write(toFile: path, atomically: true, encoding: .utf8)
            }
            let outcome = await reloader.reload()
            if invalid {
                guard case .rejected = outcome else {
                    return XCTFail("attempt \(attempt): an invalid file was applied")
                }
                rejected += 1
            } else {
                XCTAssertEqual(outcome, .applied(generation: generation + 1), "attempt \(attempt)")
                generation += 1
                applied += 1
            }
            // The very next request sees the generation now in force, on an old keep-alive connection.
            let response = try await checker.request(.GET, "/check/\(attempt)")
            XCTAssertEqual(response.header("x-generation"), "\(generation)", "attempt \(attempt)")
            XCTAssertEqual(response.header("x-upstream"), generation % 2 == 0 ? "A" : "B", "attempt \(attempt)")
            let odd = try await checker.request(.GET, "/only-odd/check")
            XCTAssertEqual(
                odd.header("x-generation"), generation % 2 == 1 ? "odd-\(generation)" : "\(generation)",
                "attempt \(attempt)")
            // Load runs for a while between reloads (about 3 s over the 20), and must make progress,
            // so that reloads land in the middle of it.
            let minimum = ContinuousClock.now + .milliseconds(150)
            let deadline = ContinuousClock.now + .seconds(10)
            while stats.sent < before + 40 || ContinuousClock.now < minimum, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(2))
            }
        }
        stop.withLockedValue { $0 = true }
        await load.value
        await checker.close()

        XCTAssertEqual(applied, 15)
        XCTAssertEqual(rejected, 5)
        XCTAssertEqual(stats.failures, [])
        XCTAssertGreaterThan(stats.sent, 20 * 40)
        print("reload under load: \(stats.sent) requests, 20 reloads (15 applied, 5 rejected), 0 failed")
        let metrics = PrometheusSamples(await server.metricsText())
        XCTAssertEqual(metrics["gateway_config_reload_successes_total"], 15)
        XCTAssertEqual(metrics["gateway_config_reload_failures_total"], 5)
        XCTAssertEqual(metrics["gateway_config_generation"], 16)
        // Every request the clients sent (load and checks) is counted, whatever route served it.
        XCTAssertEqual(metrics.sum("gateway_requests_total"), Double(stats.sent + 40))
        XCTAssertEqual(metrics.sum("gateway_requests_total", where: ["status_class": "2xx"]), Double(stats.sent + 40))
        await server.shutdown(drainTimeout: .seconds(5))
        await a.stop()
        await b.stop()
    }

    func testReloadAddsMovesAndRemovesListeners() async throws {
        let upstream = try await TestUpstream()
        func configuration(_ listeners: [String]) -> GatewayConfiguration {
            GatewayConfiguration(
                node: NodeConfig(id: "n"), runtime: RuntimeConfig(eventLoops: 2),
                listeners: listeners.map { ListenerConfig(name: $0, address: HostPort(host: "127.0.0.1", port: 0)) },
                upstreams: [UpstreamConfig(name: "u", endpoints: [endpoint(upstream)])],
                routes: [prefixRoute("all", "/", upstream: "u")])
        }
        var logger = Logger(label: "listener-reload")
        logger.logLevel = .critical
        let server = GatewayServer(
            snapshot: Snapshot(configuration: configuration(["one"]), generation: 1), logger: logger)
        let bound = try await server.start()
        let onePort = try XCTUnwrap(bound["one"]?.port)
        let idleOnOne = try await TestClient.connect(port: onePort, group: clientGroup)
        let first = try await idleOnOne.request(.GET, "/x")
        XCTAssertEqual(first.status, .ok)

        // A new listener starts accepting; the kept one keeps its socket and its connections.
        try await server.reload(to: Snapshot(configuration: configuration(["one", "two"]), generation: 2))
        let addresses = server.boundAddresses
        XCTAssertEqual(addresses["one"]?.port, onePort)
        let twoPort = try XCTUnwrap(addresses["two"]?.port)
        let onTwo = try await TestClient.connect(port: twoPort, group: clientGroup)
        let viaTwo = try await onTwo.request(.GET, "/y")
        XCTAssertEqual(viaTwo.status, .ok)
        let stillOne = try await idleOnOne.request(.GET, "/z")
        XCTAssertEqual(stillOne.status, .ok)

        // Removing "one" stops its accepts and closes its idle keep-alive connection; "two" goes on.
        try await server.reload(to: Snapshot(configuration: configuration(["two"]), generation: 3))
        XCTAssertNil(server.boundAddresses["one"])
        try await idleOnOne.channel.closeFuture.get()
        do {
            let refused = try await TestClient.connect(port: onePort, group: clientGroup)
            await refused.close()
            XCTFail("port \(onePort) still accepts after its listener was removed")
        } catch {}
        let afterRemoval = try await onTwo.request(.GET, "/w")
        XCTAssertEqual(afterRemoval.status, .ok)

        // A listener that cannot be bound (the port is taken) rejects the whole reload.
        let taken = HostPort(host: "127.0.0.1", port: twoPort)
        var clash = configuration(["two"])
        clash.listeners.append(ListenerConfig(name: "three", address: taken))
        clash.listeners[0].address = HostPort(host: "127.0.0.1", port: 0)
        do {
            try await server.reload(to: Snapshot(configuration: clash, generation: 4))
            XCTFail("a reload with an unbindable listener was applied")
        } catch {
            XCTAssertTrue("\(error)".contains("cannot bind listener 'three'"), "\(error)")
        }
        XCTAssertEqual(server.snapshot.generation, 3)
        XCTAssertEqual(server.boundAddresses.keys.sorted(), ["two"])
        let afterClash = try await onTwo.request(.GET, "/v")
        XCTAssertEqual(afterClash.status, .ok)
        await onTwo.close()
        await server.shutdown(drainTimeout: .seconds(5))
        await upstream.stop()
    }

    func testRenamingAListenerKeepsItsSocket() async throws {
        let upstream = try await TestUpstream()
        // A fixed port (one the OS just handed out), so the address is the same in both configs.
        let probe = try await ServerBootstrap(group: clientGroup).bind(host: "127.0.0.1", port: 0).get()
        let port = try XCTUnwrap(probe.localAddress?.port)
        try await probe.close()
        func configuration(_ name: String, maxConnections: Int) -> GatewayConfiguration {
            GatewayConfiguration(
                node: NodeConfig(id: "n"), runtime: RuntimeConfig(eventLoops: 1),
                listeners: [
                    ListenerConfig(
                        name: name, address: HostPort(host: "127.0.0.1", port: port), maxConnections: maxConnections)
                ],
                upstreams: [UpstreamConfig(name: "u", endpoints: [endpoint(upstream)])],
                routes: [prefixRoute("all", "/", upstream: "u")])
        }
        var logger = Logger(label: "listener-rename")
        logger.logLevel = .critical
        let server = GatewayServer(
            snapshot: Snapshot(configuration: configuration("old-name", maxConnections: 100), generation: 1),
            logger: logger)
        try await server.start()
        let kept = try await TestClient.connect(port: port, group: clientGroup)
        let before = try await kept.request(.GET, "/a")
        XCTAssertEqual(before.status, .ok)

        try await server.reload(
            to: Snapshot(configuration: configuration("new-name", maxConnections: 1), generation: 2))
        XCTAssertEqual(server.boundAddresses["new-name"]?.port, port)
        let after = try await kept.request(.GET, "/b")
        XCTAssertEqual(after.status, .ok, "the connection on the kept socket was dropped")
        // The new limit applies to new connections: one is open, so a second is refused.
        let refused = try await RawClient.connect(port: port, group: clientGroup)
        let answer = try await refused.readUntilClosed()
        XCTAssertTrue(answer.hasPrefix("HTTP/1.1 503"), answer)
        await kept.close()
        await server.shutdown(drainTimeout: .seconds(5))
        await upstream.stop()
    }
}
