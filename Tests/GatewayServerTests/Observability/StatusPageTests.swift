import Foundation
import NIOCore
import NIOPosix
import TestSupport
import XCTest

/// The status page of the real binary in headless Chromium, after real traffic: the token is
/// needed, given once, and the page then shows routes, circuit states and counts, without a
/// script error.
final class StatusPageTests: XCTestCase {
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    override func tearDown() async throws {
        try await group.shutdownGracefully()
    }

    func testTheStatusPageShowsRoutesCircuitsAndTrafficOnceGivenTheToken() async throws {
        guard GatewayProcess.isBuilt else { throw XCTSkip("gateway binary not built") }
        let origin = try await ScriptedOrigin { request in
            request.uri.hasPrefix("/static")
                ? .init(headers: [("cache-control", "max-age=60")], body: "asset") : .init(body: "ok")
        }
        let adminPort = try RedisServerProcess.freePort()
        let closed = try ClosedPort()
        let closedPort = closed.port
        defer { withExtendedLifetime(closed) {} }
        let token = "status-\(UUID().uuidString)"
        let gateway = try await GatewayProcess.start(
            """
            runtime: { event_loops: 1 }
            listeners: [{ name: public, address: 127.0.0.1:0 }]
            admin: { address: 127.0.0.1:\(adminPort), token_env: STATUS_PAGE_TOKEN }
            upstreams:
              app:
                endpoints: [{ address: 127.0.0.1:\(origin.port) }]
                circuit_breaker: { consecutive_failures: 5 }
              down:
                endpoints: [{ address: 127.0.0.1:\(closedPort) }]
                circuit_breaker: { consecutive_failures: 1, open_for: 5m }
            rate_limits:
              tight: { rate: 3/min, burst: 3, key: [client_ip] }
            routes:
              - { name: api, match: { path_prefix: /api }, upstream: app, rate_limits: [tight] }
              - { name: static, match: { path_prefix: /static }, upstream: app, cache: { default_ttl: 1m } }
              - { name: broken, match: { path_prefix: /broken }, upstream: down }
            """, environment: ["STATUS_PAGE_TOKEN": token])
        defer { gateway.kill() }
        let client = try await TestClient.connect(port: gateway.port, group: group)
        var statuses: [UInt] = []
        for path in ["/api/1", "/api/2", "/api/3", "/api/4", "/static/logo.png", "/static/logo.png", "/broken/x"] {
            statuses.append(try await client.request(.GET, path).head.status.code)
        }
        await client.close()
        XCTAssertEqual(statuses, [200, 200, 200, 429, 200, 200, 502])
        let page = "http://127.0.0.1:\(adminPort)/admin/"

        // Without the token: the page asks for it and shows no figures.
        let anonymous = try await HeadlessChromium.run(["--dump-dom"], url: page)
        XCTAssertTrue(anonymous.stdout.contains(#"<form id="login">"#), anonymous.stdout)
        XCTAssertTrue(anonymous.stdout.contains(#"<main id="status" hidden="">"#), anonymous.stdout)

        // With the token (given once in the fragment, then kept in session storage).
        let loaded = try await HeadlessChromium.run(["--dump-dom"], url: page + "#token=\(token)")
        let dom = loaded.stdout
        XCTAssertEqual(loaded.status, 0, loaded.stderr)
        XCTAssertTrue(dom.contains(#"<form id="login" hidden="">"#), dom)
        XCTAssertTrue(dom.contains(#"<section id="problems" hidden="">"#), "no problem reported: \(dom)")
        XCTAssertEqual(Self.attribute("data-requests", ofRowWith: #"data-route="api""#, in: dom), "4")
        XCTAssertEqual(Self.attribute("data-requests", ofRowWith: #"data-route="static""#, in: dom), "2")
        XCTAssertEqual(Self.attribute("data-requests", ofRowWith: #"data-route="broken""#, in: dom), "1")
        XCTAssertEqual(Self.attribute("data-circuit", ofRowWith: #"data-upstream="app""#, in: dom), "closed")
        XCTAssertEqual(Self.attribute("data-circuit", ofRowWith: #"data-upstream="down""#, in: dom), "open")
        XCTAssertTrue(dom.contains(#"<span id="total-requests">7</span>"#), dom)
        XCTAssertTrue(dom.contains(#"<span id="node">"#), dom)
        XCTAssertTrue(dom.contains(#"<p id="limited">1</p>"#), dom)
        XCTAssertTrue(dom.contains("/static/logo.png"), "the top objects: \(dom)")
        let consoleLines = loaded.stderr.split(separator: "\n").filter {
            $0.contains(":CONSOLE") || $0.contains("Uncaught")
        }
        XCTAssertEqual(consoleLines, [], "no console output, no script error")

        // A screenshot, for people reviewing the page (kept under .build/test-artifacts).
        let directory = GatewayProcess.repositoryRoot.appendingPathComponent(".build/test-artifacts")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let screenshot = directory.appendingPathComponent("status-page.png").path
        try? FileManager.default.removeItem(atPath: screenshot)
        let shot = try await HeadlessChromium.run(
            ["--screenshot=\(screenshot)", "--window-size=1280,1100", "--hide-scrollbars"],
            url: page + "#token=\(token)")
        XCTAssertEqual(shot.status, 0, shot.stderr)
        let png = try Data(contentsOf: URL(fileURLWithPath: screenshot))
        XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47], "a PNG")
        XCTAssertGreaterThan(png.count, 20_000, "more than a blank page")
    }

    /// The value of `name` on the first `<tr>` that has `marker` among its attributes.
    private static func attribute(_ name: String, ofRowWith marker: String, in dom: String) -> String? {
        for row in dom.components(separatedBy: "<tr ").dropFirst() {
            let tag = row.prefix { $0 != ">" }
            guard tag.contains(marker), let start = tag.range(of: name + "=\"") else { continue }
            return String(tag[start.upperBound...].prefix { $0 != "\"" })
        }
        return nil
    }
}
