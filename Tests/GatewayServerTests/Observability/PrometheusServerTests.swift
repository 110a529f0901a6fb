import Foundation
import GatewayConfig
import Logging
import NIOCore
import NIOPosix
import XCTest

@testable import GatewayServer

/// A real Prometheus (Debian's `prometheus`) scrapes the admin listener and answers queries about
/// the gateway; `promtool` checks every rules file in conf/ and lints the exposition.
final class PrometheusServerTests: XCTestCase {
    private let clientGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let token = "scrape-token-0123456789"

    override func tearDown() async throws {
        try await clientGroup.shutdownGracefully()
    }

    private var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
    }

    /// CI installs the tools (`make test` does); a developer machine without them skips.
    private func tool(_ name: String) throws -> String {
        for directory in ["/usr/bin", "/usr/local/bin", "/bin"]
        where FileManager.default.isExecutableFile(
            atPath: "\(directory)/\(name)")
        {
            return "\(directory)/\(name)"
        }
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            XCTFail("\(name) is not installed; make test installs it")
        }
        throw XCTSkip("\(name) is not installed (apt-get install prometheus)")
    }

    private func run(_ executable: String, _ arguments: [String], input: String? = nil) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        let stdin = Pipe()
        process.standardInput = stdin
        try process.run()
        if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
        try stdin.fileHandleForWriting.close()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    func testPromtoolAcceptsEveryRulesFileInConf() throws {
        let promtool = try tool("promtool")
        let conf = repositoryRoot.appendingPathComponent("conf")
        let files = (FileManager.default.enumerator(atPath: conf.path)?.allObjects as? [String] ?? [])
            .filter { $0.hasSuffix(".yml") || $0.hasSuffix(".yaml") }
            .map { conf.appendingPathComponent($0).path }
            .filter { (try? String(contentsOfFile: $0, encoding: .utf8))?.contains("\ngroups:") == true }
        XCTAssertFalse(files.isEmpty, "no rules files found under conf/")
        for file in files {
            let (status, output) = try run(promtool, ["check", "rules", file])
            XCTAssertEqual(status, 0, "\(file): \(output)")
        }
    }

    func testPrometheusScrapesTheAdminListenerAndAnswersAboutIt() async throws {
        let prometheus = try tool("prometheus")
        let promtool = try tool("promtool")
        let upstream = try await TestUpstream()
        let gateway = try await TestGateway.start(
            upstreams: [UpstreamConfig(name: "u", endpoints: [endpoint(upstream)])],
            routes: [prefixRoute("all", "/", upstream: "u")])
        let adminConfig = AdminConfig(address: HostPort(host: "127.0.0.1", port: 0), tokenEnvironmentVariable: "T")
        let admin = AdminServer(
            config: adminConfig, api: AdminAPI(server: gateway.server, reloader: nil, token: token),
            logger: Logger(label: "admin"))
        let adminAddress = try await admin.start()
        let adminPort = try XCTUnwrap(adminAddress?.port)

        let client = try await TestClient.connect(port: gateway.port, group: clientGroup)
        for index in 0..<7 {
            let response = try await client.request(.GET, "/item/\(index)")
            XCTAssertEqual(response.status, .ok)
        }

        // The exposition passes promtool's linter (help text, types, names).
        let exposition = await gateway.server.metricsText()
        let (lintStatus, lint) = try run(promtool, ["check", "metrics"], input: exposition)
        XCTAssertEqual(lintStatus, 0, lint)

        let directory = NSTemporaryDirectory() + "gateway-prometheus-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let rules = repositoryRoot.appendingPathComponent("conf/prometheus/gateway-rules.yml").path
        try """
        global: { scrape_interval: 1s, evaluation_interval: 1s }
        rule_files: ["\(rules)"]
        scrape_configs:
          - job_name: gateway
            metrics_path: /metrics
            authorization: { credentials: "\(token)" }
            static_configs: [{ targets: ["127.0.0.1:\(adminPort)"] }]
        """.write(toFile: directory + "/prometheus.yml", atomically: true, encoding: .utf8)
        let webPort = try await freePort()
        let server = Process()
        server.executableURL = URL(fileURLWithPath: prometheus)
        server.arguments = [
            "--config.file=\(directory)/prometheus.yml", "--storage.tsdb.path=\(directory)/data",
            "--web.listen-address=127.0.0.1:\(webPort)", "--log.level=warn",
        ]
        FileManager.default.createFile(atPath: directory + "/prometheus.log", contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/prometheus.log"))
        server.standardOutput = log
        server.standardError = log
        try server.run()
        defer {
            server.terminate()
            server.waitUntilExit()
        }

        // Scrapes happen every second: ask until the answer is there (a minute at most).
        let answer = try await query(
            "sum(gateway_requests_total{route=\"all\",status_class=\"2xx\"})", port: webPort, until: "\"7\"")
        XCTAssertTrue(answer.contains("\"7\""), answer)
        let up = try await query("up{job=\"gateway\"}", port: webPort, until: "\"1\"")
        XCTAssertTrue(up.contains("\"1\""), up)
        let generation = try await query("gateway_config_generation", port: webPort, until: "\"1\"")
        XCTAssertTrue(generation.contains("\"1\""), generation)
        let loaded = try await get("/api/v1/rules", port: webPort)
        XCTAssertTrue(loaded.contains("GatewayConfigReloadFailed"), loaded)

        await client.close()
        await admin.stop()
        await gateway.stop()
        await upstream.stop()
    }

    private func query(_ expression: String, port: Int, until needle: String) async throws -> String {
        let encoded = expression.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? expression
        let deadline = ContinuousClock.now + .seconds(60)
        var last = ""
        while ContinuousClock.now < deadline {
            last = (try? await get("/api/v1/query?query=\(encoded)", port: port)) ?? ""
            if last.contains(needle) { return last }
            try await Task.sleep(for: .milliseconds(200))
        }
        return last
    }

    private func get(_ uri: String, port: Int) async throws -> String {
        let client = try await TestClient.connect(port: port, group: clientGroup)
        let body = try await client.request(.GET, uri, headers: [("host", "127.0.0.1:\(port)")]).bodyText
        await client.close()
        return body
    }

    /// A port the OS just handed out and took back; Prometheus binds it a moment later.
    private func freePort() async throws -> Int {
        let channel = try await ServerBootstrap(group: clientGroup).bind(host: "127.0.0.1", port: 0).get()
        let port = try XCTUnwrap(channel.localAddress?.port)
        try await channel.close()
        return port
    }
}
