import Foundation
import NIOCore
import NIOPosix
import TestSupport
import XCTest

@testable import GatewayServer

/// Request-path error lines of the real binary: request and trace id in each, the proxy
/// subsystem's level changed at runtime through the admin API, and a flood kept to the budget.
final class ErrorLogTests: XCTestCase {
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    override func tearDown() async throws {
        try await group.shutdownGracefully()
    }

    func testErrorLinesCarryIdsObeyRuntimeLevelsAndAreRateLimited() async throws {
        guard GatewayProcess.isBuilt else { throw XCTSkip("gateway binary not built") }
        let adminPort = try RedisServerProcess.freePort()
        let closedPort = try RedisServerProcess.freePort()
        let gateway = try await GatewayProcess.start(
            """
            listeners: [{ name: public, address: 127.0.0.1:0 }]
            admin: { address: 127.0.0.1:\(adminPort) }
            upstreams: { down: { endpoints: [{ address: 127.0.0.1:\(closedPort) }] } }
            routes: [{ name: all, match: { path_prefix: / }, upstream: down }]
            logging: { level: info }
            """)
        defer { gateway.kill() }
        let client = try await TestClient.connect(port: gateway.port, group: group)
        let admin = try await TestClient.connect(port: adminPort, group: group)
        func fail(_ id: String, trace: String? = nil) async throws {
            var headers = [("host", "a"), ("x-request-id", id)]
            if let trace { headers.append(("traceparent", trace)) }
            let response = try await client.request(.GET, "/x", headers: headers)
            XCTAssertEqual(response.status, .badGateway)
        }

        // 1. One failure: one line, with the request id, the trace id and the subsystem.
        try await fail("first-0001", trace: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        let line = try await gateway.log.firstLine(containing: "first-0001")
        XCTAssertTrue(line.contains("cannot connect to upstream"), line)
        XCTAssertTrue(line.contains("\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\""), line)
        XCTAssertTrue(line.contains("\"subsystem\":\"proxy\""), line)

        // 2. The proxy subsystem at error: its warnings are not written. The marker request after
        //    the level is back proves the filtered one's line would have come before it.
        let quiet = try await admin.request(
            .PUT, "/admin/logging", headers: [("host", "admin")],
            body: ByteBuffer(string: #"{"subsystem": "proxy", "level": "error"}"#))
        XCTAssertEqual(quiet.status, .ok, quiet.bodyText)
        XCTAssertTrue(quiet.bodyText.contains("\"proxy\": \"error\""), quiet.bodyText)
        try await fail("filtered-0002")
        let back = try await admin.request(
            .PUT, "/admin/logging", headers: [("host", "admin")],
            body: ByteBuffer(string: #"{"subsystem": "proxy", "level": null}"#))
        XCTAssertTrue(back.bodyText.contains("\"proxy\": \"info\""), back.bodyText)
        try await fail("marker-0003")
        _ = try await gateway.log.firstLine(containing: "marker-0003")
        XCTAssertFalse(gateway.log.text.contains("filtered-0002"), "written at level error")
        let unknown = try await admin.request(
            .PUT, "/admin/logging", headers: [("host", "admin")],
            body: ByteBuffer(string: #"{"subsystem": "nope", "level": "debug"}"#))
        XCTAssertEqual(unknown.status, .badRequest)

        // 3. A flood: at most a burst of 50 lines (plus 10 a second), the rest counted.
        for index in 0..<300 { try await fail("flood-\(index)") }
        try await fail("after-flood")
        let written = gateway.log.text.split(separator: "\n").filter { $0.contains("\"request_id\":\"flood-") }.count
        XCTAssertLessThan(written, 120, "the budget held the flood back")
        XCTAssertGreaterThan(written, 0)
        let metrics = try await admin.request(.GET, "/metrics", headers: [("host", "admin")])
        let suppressed = metrics.bodyText.split(separator: "\n")
            .first { $0.hasPrefix("gateway_log_lines_suppressed_total ") }
            .flatMap { Int($0.split(separator: " ").last ?? "") }
        XCTAssertGreaterThanOrEqual(suppressed ?? 0, 300 - written)
        await client.close()
        await admin.close()
    }
}
