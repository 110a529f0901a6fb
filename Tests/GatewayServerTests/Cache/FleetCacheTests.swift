import Foundation
import GatewayConfig
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Redis
import TestSupport
import XCTest

@testable import GatewayServer

/// Three edges in three regions share one redis-server: a purge given to one edge's admin API
/// with a fleet scope reaches all of them, each acknowledges, and an edge cut off from Redis
/// catches up (or, when it cannot tell what it missed, soft-purges everything); a fleet warm
/// fills the stores of the edges asked, with its progress readable on the admin API.
final class FleetCacheTests: XCTestCase {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let clock = ManualClock()
    static let edgePasswordVariable = "GW_TEST_FLEET_EDGE_PASSWORD"

    override func tearDown() async throws {
        try await group.shutdownGracefully()
    }

    private struct Fleet {
        let redis: RedisServerProcess
        let control: RedisConnection
        let origin: ScriptedOrigin
        let edges: [TestGateway]
        let admin: AdminServer
        let adminPort: Int

        func stop() async {
            await admin.stop()
            for edge in edges { await edge.stop() }
            await origin.stop()
            control.close()
            redis.stop()
        }
    }

    /// edge-a (us-east), edge-b (eu-west), edge-c (ap-south); edge-c logs in to Redis as its own
    /// ACL user, so a test can cut it off (`ACL SETUSER edge-c off`) and let it back.
    private func startFleet() async throws -> Fleet {
        let redis = try RedisServerProcess()
        try await redis.start()
        let control = try await RedisConnection.connect(to: try redis.address, on: group.next()).get()
        setenv(Self.edgePasswordVariable, "edge-c-secret", 1)
        _ = try await control.send(["ACL", "SETUSER", "edge-c", "on", ">edge-c-secret", "~*", "&*", "+@all"]).get()
        let origin = try await ScriptedOrigin { request in
            if request.headers["if-none-match"].first == "\"v1\"" {
                return .init(status: .notModified, headers: [("etag", "\"v1\""), ("cache-control", "max-age=600")])
            }
            return .init(
                headers: [("etag", "\"v1\""), ("cache-control", "max-age=600")], body: "object \(request.uri)")
        }
        var edges: [TestGateway] = []
        for (node, region) in [("edge-a", "us-east"), ("edge-b", "eu-west"), ("edge-c", "ap-south")] {
            var route = prefixRoute("cached", "/", upstream: "origin")
            route.cache = RouteCacheConfig()
            let isolated = node == "edge-c"
            edges.append(
                try await TestGateway.start(
                    GatewayConfiguration(
                        node: NodeConfig(id: node, region: region),
                        runtime: RuntimeConfig(eventLoops: 1, drainTimeout: .seconds(5)),
                        listeners: [ListenerConfig(name: "test", address: HostPort(host: "127.0.0.1", port: 0))],
                        upstreams: [
                            UpstreamConfig(
                                name: "origin",
                                endpoints: [EndpointConfig(address: HostPort(host: "127.0.0.1", port: origin.port))])
                        ],
                        routes: [route], cache: CacheConfig(),
                        redis: RedisConfig(
                            addresses: [HostPort(host: "127.0.0.1", port: redis.port)],
                            username: isolated ? "edge-c" : nil,
                            passwordEnvironmentVariable: isolated ? Self.edgePasswordVariable : nil)),
                    cacheClock: clock.function))
        }
        let admin = AdminServer(
            config: AdminConfig(address: HostPort(host: "127.0.0.1", port: 0)),
            api: AdminAPI(server: edges[0].server, reloader: nil, token: nil), logger: Logger(label: "admin"))
        let adminPort = try await admin.start()?.port ?? 0
        // Every edge heartbeats once its reader has its place in the log.
        try await waitUntil("three edges alive in Redis") {
            let count = try await control.send(["HLEN", FleetKeys.nodes]).get()
            return count.integer == 3
        }
        return Fleet(
            redis: redis, control: control, origin: origin, edges: edges, admin: admin, adminPort: adminPort)
    }

    private func xCache(_ edge: TestGateway, _ uri: String) async throws -> String? {
        let client = try await TestClient.connect(port: edge.port, group: group)
        defer { Task { await client.close() } }
        return try await client.request(.GET, uri, headers: [("host", "cdn.test")]).header("x-cache")
    }

    private func purge(_ fleet: Fleet, _ body: String) async throws -> [String: Any] {
        let client = try await TestClient.connect(port: fleet.adminPort, group: group)
        let response = try await client.request(
            .POST, "/admin/cache/purge", headers: [("host", "admin"), ("content-type", "application/json")],
            body: ByteBuffer(string: body))
        await client.close()
        XCTAssertEqual(response.status, .ok, response.bodyText)
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(response.bodyText.utf8)) as? [String: Any])
    }

    private func acknowledgedNodes(_ result: [String: Any]) -> [String] {
        ((result["acknowledged"] as? [[String: Any]]) ?? []).compactMap { $0["node"] as? String }.sorted()
    }

    func testAGlobalPurgeReachesEveryEdgeAndEachAcknowledges() async throws {
        let fleet = try await startFleet()
        for edge in fleet.edges {
            let miss = try await xCache(edge, "/obj")
            XCTAssertEqual(miss, "MISS")
            let hit = try await xCache(edge, "/obj")
            XCTAssertEqual(hit, "HIT")
        }
        let result = try await purge(fleet, #"{"url": "http://cdn.test/obj", "scope": "global"}"#)
        XCTAssertEqual(acknowledgedNodes(result), ["edge-a", "edge-b", "edge-c"], "\(result)")
        XCTAssertEqual(result["complete"] as? Bool, true)
        XCTAssertEqual((result["expected"] as? [String])?.sorted(), ["edge-a", "edge-b", "edge-c"])
        XCTAssertNotNil(result["propagation_ms"] as? String)
        for edge in fleet.edges {
            let after = try await xCache(edge, "/obj")
            XCTAssertEqual(after, "MISS", "purged on \(edge.server.snapshot.configuration.node.id)")
        }

        // A region: only edge-b (eu-west) drops it.
        let regional = try await purge(fleet, #"{"url": "http://cdn.test/obj", "scope": "region:eu-west"}"#)
        XCTAssertEqual(acknowledgedNodes(regional), ["edge-b"])
        let stillCachedA = try await xCache(fleet.edges[0], "/obj")
        XCTAssertEqual(stillCachedA, "HIT")
        let purgedB = try await xCache(fleet.edges[1], "/obj")
        XCTAssertEqual(purgedB, "MISS")

        // Soft: every edge keeps the object but revalidates it with the origin (304 here).
        let soft = try await purge(fleet, #"{"url": "http://cdn.test/obj", "scope": "global", "soft": true}"#)
        XCTAssertEqual(acknowledgedNodes(soft), ["edge-a", "edge-b", "edge-c"])
        for edge in fleet.edges {
            let revalidated = try await xCache(edge, "/obj")
            XCTAssertEqual(revalidated, "REVALIDATED")
        }
        let metrics = await fleet.edges[0].server.metricsText()
        XCTAssertTrue(metrics.contains("gateway_fleet_purge_propagation_seconds_count 3"), metrics)
        XCTAssertTrue(metrics.contains("gateway_fleet_commands_applied_total 2"), "global and soft; not eu-west's")
        await fleet.stop()
    }

    func testAnEdgeCutOffDuringAPurgeCatchesUpOrPurgesEverything() async throws {
        let fleet = try await startFleet()
        let edgeC = fleet.edges[2]
        for uri in ["/one", "/two"] {
            for edge in fleet.edges { _ = try await xCache(edge, uri) }
        }
        func cutOff() async throws {
            _ = try await fleet.control.send(["ACL", "SETUSER", "edge-c", "off"]).get()
            _ = try await fleet.control.send(["CLIENT", "KILL", "USER", "edge-c"]).get()
        }
        func reconnect() async throws {
            _ = try await fleet.control.send(["ACL", "SETUSER", "edge-c", "on"]).get()
        }

        // 1. The log outlives the partition: edge-c applies the purge when it is back.
        try await cutOff()
        let during = try await purge(fleet, #"{"url": "http://cdn.test/one", "scope": "global", "timeout_ms": 500}"#)
        XCTAssertEqual(
            acknowledgedNodes(during).filter { $0 != "edge-c" }, ["edge-a", "edge-b"], "\(during)")
        XCTAssertFalse(acknowledgedNodes(during).contains("edge-c"), "cut off: it cannot have applied it")
        let stale = try await xCache(edgeC, "/one")
        XCTAssertEqual(stale, "HIT", "while cut off, edge-c still serves what it has")
        let sequence = try XCTUnwrap(during["purge_id"] as? Int)
        try await reconnect()
        try await waitUntil("edge-c to acknowledge purge \(sequence) after reconnecting") {
            let acks = try await fleet.control.send(["LRANGE", FleetKeys.acknowledgements(Int64(sequence)), "0", "-1"])
                .get()
            return (acks.array ?? []).contains { $0.string?.hasPrefix("edge-c\t") == true }
        }
        let caughtUp = try await xCache(edgeC, "/one")
        XCTAssertEqual(caughtUp, "MISS")
        let gapsBefore = await edgeC.server.fleet?.gapsHandled
        XCTAssertEqual(gapsBefore, 0)

        // 2. The log was trimmed while it was away: it cannot tell what it missed, so everything
        //    it holds becomes stale (revalidated before it is served again).
        try await cutOff()
        _ = try await purge(fleet, #"{"url": "http://cdn.test/nothing-cached", "scope": "global", "timeout_ms": 200}"#)
        _ = try await fleet.control.send(["XTRIM", FleetKeys.purgeLog, "MAXLEN", "0"]).get()
        let last = try await purge(fleet, #"{"tag": "unused", "scope": "global", "timeout_ms": 200}"#)
        try await reconnect()
        let lastSequence = try XCTUnwrap(last["purge_id"] as? Int)
        try await waitUntil("edge-c to read the log again") {
            let acks = try await fleet.control.send([
                "LRANGE", FleetKeys.acknowledgements(Int64(lastSequence)), "0", "-1",
            ]).get()
            return (acks.array ?? []).contains { $0.string?.hasPrefix("edge-c\t") == true }
        }
        let gaps = await edgeC.server.fleet?.gapsHandled
        XCTAssertEqual(gaps, 1)
        let metrics = await edgeC.server.metricsText()
        XCTAssertTrue(metrics.contains("gateway_fleet_log_gaps_total 1"), metrics)
        let publisherMetrics = await fleet.edges[0].server.metricsText()
        XCTAssertTrue(
            publisherMetrics.contains("gateway_fleet_purges_incomplete_total 3"), "edge-c missed three while cut off")
        let afterGap = try await xCache(edgeC, "/two")
        XCTAssertEqual(afterGap, "REVALIDATED", "soft-purged: checked with the origin before serving")
        let untouched = try await xCache(fleet.edges[0], "/two")
        XCTAssertEqual(untouched, "HIT", "edges that read every purge keep their objects")
        await fleet.stop()
    }

    /// A Redis restart without persistence loses the log and the sequence: every edge sees a new
    /// epoch when it reconnects and, unable to tell what it missed, soft-purges everything.
    func testARedisRestartWithoutItsDataMakesEveryEdgeRevalidate() async throws {
        let fleet = try await startFleet()
        for edge in fleet.edges {
            _ = try await xCache(edge, "/obj")
            let hit = try await xCache(edge, "/obj")
            XCTAssertEqual(hit, "HIT")
        }
        _ = try await purge(fleet, #"{"url": "http://cdn.test/other", "scope": "global"}"#)
        fleet.control.close()
        fleet.redis.stop()
        try await fleet.redis.start()
        let control = try await RedisConnection.connect(to: try fleet.redis.address, on: group.next()).get()
        defer { control.close() }
        _ = try await control.send(["ACL", "SETUSER", "edge-c", "on", ">edge-c-secret", "~*", "&*", "+@all"]).get()
        try await waitUntil("every edge to notice the new Redis") {
            var handled = 0
            for edge in fleet.edges where await edge.server.fleet?.gapsHandled == 1 { handled += 1 }
            return handled == 3
        }
        for edge in fleet.edges {
            let revalidated = try await xCache(edge, "/obj")
            XCTAssertEqual(revalidated, "REVALIDATED", "\(edge.server.snapshot.configuration.node.id)")
        }
        // And purging works again on the new Redis.
        try await waitUntil("three edges alive again") {
            let count = try await control.send(["HLEN", FleetKeys.nodes]).get()
            return count.integer == 3
        }
        let after = try await purge(fleet, #"{"url": "http://cdn.test/obj", "scope": "global"}"#)
        XCTAssertEqual(acknowledgedNodes(after), ["edge-a", "edge-b", "edge-c"], "\(after)")
        await fleet.stop()
    }

    private func admin(_ fleet: Fleet, _ method: HTTPMethod, _ path: String, body: String? = nil) async throws
        -> TestResponse
    {
        let client = try await TestClient.connect(port: fleet.adminPort, group: group)
        let response = try await client.request(
            method, path, headers: [("host", "admin"), ("content-type", "application/json")],
            body: body.map { ByteBuffer(string: $0) })
        await client.close()
        return response
    }

    func testAFleetWarmFillsTheEdgesAskedAndReportsProgress() async throws {
        let fleet = try await startFleet()
        let started = try await admin(
            fleet, .POST, "/admin/cache/warm",
            body:
                #"{"urls": ["http://cdn.test/w1", "http://cdn.test/w2"], "scope": "global", "nodes": ["edge-a", "edge-b"]}"#
        )
        XCTAssertEqual(started.status, .accepted, started.bodyText)
        let answer = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(started.bodyText.utf8)) as? [String: Any])
        XCTAssertEqual(answer["expected"] as? [String], ["edge-a", "edge-b"])
        let progressPath = try XCTUnwrap(answer["progress"] as? String)
        var progress: [String: Any] = [:]
        try await waitUntil("the warm to complete on edge-a and edge-b") {
            let response = try await admin(fleet, .GET, progressPath)
            progress = (try? JSONSerialization.jsonObject(with: Data(response.bodyText.utf8)) as? [String: Any]) ?? [:]
            return progress["complete"] as? Bool == true
        }
        XCTAssertEqual(progress["stored"] as? Int, 4, "\(progress)")
        let nodes = (progress["nodes"] as? [[String: Any]]) ?? []
        XCTAssertEqual(nodes.compactMap { $0["node"] as? String }, ["edge-a", "edge-b"])
        XCTAssertEqual(nodes.compactMap { $0["done"] as? Int }, [2, 2])
        for (edge, expected) in zip(fleet.edges, ["HIT", "HIT", "MISS"]) {
            let status = try await xCache(edge, "/w1")
            XCTAssertEqual(status, expected, "\(edge.server.snapshot.configuration.node.id)")
        }
        XCTAssertEqual(fleet.origin.requests(to: "/w2").count, 2, "fetched once by each edge asked")
        let unknown = try await admin(fleet, .GET, "/admin/cache/warm/999999")
        XCTAssertEqual(unknown.status, .notFound)
        await fleet.stop()
    }

    func testFleetStatisticsAddUpEveryEdge() async throws {
        let fleet = try await startFleet()
        // edge-a: /hot MISS, HIT, HIT and /cold MISS; edge-b: /hot MISS, HIT; edge-c: nothing.
        for uri in ["/hot", "/hot", "/hot", "/cold"] { _ = try await xCache(fleet.edges[0], uri) }
        for uri in ["/hot", "/hot"] { _ = try await xCache(fleet.edges[1], uri) }
        var stats: [String: Any] = [:]
        // Each edge publishes its figures with its heartbeat (every second).
        try await waitUntil("every edge's figures in Redis") {
            let response = try await admin(fleet, .GET, "/admin/cache/stats?scope=global&top=2")
            stats = (try? JSONSerialization.jsonObject(with: Data(response.bodyText.utf8)) as? [String: Any]) ?? [:]
            let requests = stats["requests"] as? [String: Int]
            return stats["nodes_reporting"] as? Int == 3 && (requests?["hit"] ?? 0) + (requests?["miss"] ?? 0) == 6
        }
        let requests = try XCTUnwrap(stats["requests"] as? [String: Int])
        XCTAssertEqual(requests["hit"], 3)
        XCTAssertEqual(requests["miss"], 3)
        XCTAssertEqual(stats["hit_ratio"] as? String, "0.500")
        let top = try XCTUnwrap(stats["top_objects"] as? [[String: Any]])
        XCTAssertEqual(top.first?["object"] as? String, "cdn.test/hot")
        XCTAssertEqual(top.first?["requests"] as? Int, 5)
        XCTAssertEqual(top.count, 2)
        XCTAssertGreaterThan(stats["bytes_served"] as? Int ?? 0, 0)
        XCTAssertEqual(
            stats["bytes_from_origin"] as? Int, "object /hot".utf8.count * 2 + "object /cold".utf8.count,
            "three misses fetched bodies from the origin")
        let times = try XCTUnwrap(stats["response_time_ms"] as? [String: [String: Any]])
        XCTAssertEqual(times["hit"]?["count"] as? Int, 3)
        XCTAssertNotNil(times["hit"]?["p99_at_most"] as? String)
        let regions = try XCTUnwrap(stats["regions"] as? [[String: Any]])
        XCTAssertEqual(regions.compactMap { $0["region"] as? String }, ["ap-south", "eu-west", "us-east"])
        XCTAssertEqual((regions.last?["requests"] as? [String: Int])?["hit"], 2, "us-east is edge-a")
        let regional = try await admin(fleet, .GET, "/admin/cache/stats?scope=region:eu-west")
        let eu = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(regional.bodyText.utf8)) as? [String: Any])
        XCTAssertEqual(eu["nodes_reporting"] as? Int, 1)
        XCTAssertEqual((eu["requests"] as? [String: Int])?["hit"], 1)
        // One node's own view has the same analytics.
        let local = try await admin(fleet, .GET, "/admin/cache/stats")
        let mine = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(local.bodyText.utf8)) as? [String: Any])
        XCTAssertEqual(mine["node"] as? String, "edge-a")
        XCTAssertEqual(((mine["top_objects"] as? [[String: Any]])?.first)?["requests"] as? Int, 3)
        await fleet.stop()
    }

    func testFleetScopesNeedRedisAndAreChecked() async throws {
        let fixture = try await CacheFixture.start(
            withAdmin: true, origin: { _ in .init(headers: [("cache-control", "max-age=60")], body: "x") },
            group: group)
        let refused = try await fixture.admin(.POST, "/admin/cache/purge", body: #"{"all": true, "scope": "global"}"#)
        XCTAssertEqual(refused.status, .conflict)
        XCTAssertTrue(refused.bodyText.contains("no_fleet"), refused.bodyText)
        let bad = try await fixture.admin(.POST, "/admin/cache/purge", body: #"{"all": true, "scope": "planet"}"#)
        XCTAssertEqual(bad.status, .badRequest)
        let local = try await fixture.admin(.POST, "/admin/cache/purge", body: #"{"all": true, "scope": "local"}"#)
        XCTAssertEqual(local.status, .ok)
        await fixture.stop()
    }
}
