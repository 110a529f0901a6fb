import Foundation
import NIOConcurrencyHelpers
import NIOPosix
import XCTest

/// The `gateway` binary as users run it: validate, run, refuse bad config, drain on SIGTERM.
final class CommandLineTests: XCTestCase {
    private var binary: String { GatewayProcess.binary }

    private var repositoryRoot: URL { GatewayProcess.repositoryRoot }

    override func setUpWithError() throws {
        try XCTSkipUnless(GatewayProcess.isBuilt, "build the gateway first: \(binary)")
    }

    private func writeTemporary(_ text: String) throws -> String {
        try GatewayProcess.writeTemporary(text)
    }

    private func runToCompletion(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        // Relative certificate paths in conf/ are read from the working directory, as with `make run`.
        process.currentDirectoryURL = repositoryRoot
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, stdout, stderr)
    }

    /// The multi-region demo (origin, Redis, three edges, a director) runs and its own checks pass:
    /// routing by region, one purge acknowledged by every edge, fleet statistics.
    func testTheCDNDemoRunsAndItsChecksPass() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [repositoryRoot.appendingPathComponent("loadtest/cdn-demo.sh").path, "--check"]
        process.environment = ProcessInfo.processInfo.environment.merging(["GATEWAY_BIN": binary]) { _, new in new }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let output = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, output)
        XCTAssertTrue(output.contains("cdn-demo: all checks passed"), output)
        XCTAssertFalse(output.contains("FAIL"), output)
    }

    func testValidateAcceptsTheDemoAndEveryExample() throws {
        // The demo's HTTPS listener names certs/dev/, which the script makes (git-ignored) as `make run` does.
        try DevCertificates.generate(into: repositoryRoot.appendingPathComponent("certs/dev").path)
        let conf = repositoryRoot.appendingPathComponent("conf")
        var files = [conf.appendingPathComponent("gateway.yaml").path]
        let examples = try FileManager.default.contentsOfDirectory(atPath: conf.appendingPathComponent("examples").path)
        files += examples.filter { $0.hasSuffix(".yaml") }.sorted().map {
            conf.appendingPathComponent("examples/\($0)").path
        }
        XCTAssertGreaterThanOrEqual(files.count, 4)
        for file in files {
            let result = try runToCompletion(["validate", file])
            XCTAssertEqual(result.status, 0, "\(file): \(result.stderr)")
            XCTAssertEqual(result.stdout, "ok\n")
        }
    }

    func testValidateReadsTheCertificatesLikeNginxT() throws {
        let path = try writeTemporary(
            """
            listeners:
              - name: secure
                address: 127.0.0.1:8443
                tls:
                  certificates: [{ cert: /nonexistent/site.crt, key: /nonexistent/site.key }]
            upstreams:
              u: { endpoints: [{ address: 127.0.0.1:9001 }] }
            routes:
              - { name: r, upstream: u }
            """)
        let result = try runToCompletion(["validate", path])
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(
            result.stderr,
            "\(path): listener 'secure': cannot use certificate '/nonexistent/site.crt': no such file "
                + "(run certs/gen-dev-certs.sh for the demo's)\n")
    }

    func testValidateReportsEveryProblemWithFileAndLine() throws {
        let path = try writeTemporary(
            """
            listeners:
              - name: a
                address: 127.0.0.1:8080
                timeout: 5s
            upstreams:
              u: { endpoints: [{ address: 127.0.0.1:9001 }] }
            routes:
              - name: r
                upstream: missing
              - name: r
                upstream: u
                timeouts: { request: soon }
            """)
        let result = try runToCompletion(["validate", path])
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(
            result.stderr.split(separator: "\n").map(String.init),
            [
                "\(path):4: unknown key 'timeout' in listener 'a'; did you mean 'timeouts'?",
                "\(path):9: route 'r' names unknown upstream 'missing'",
                "\(path):10: duplicate route name 'r' (first at line 8)",
                "\(path):12: expected a duration like 250ms or 5s, got 'soon'",
            ])
    }

    func testRunRefusesAnInvalidFile() throws {
        let path = try writeTemporary("listeners: []\nbogus: 1\n")
        let result = try runToCompletion(["run", "--config", path])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("\(path):2: unknown key 'bogus'"), result.stderr)
        XCTAssertTrue(result.stderr.contains("configuration is invalid, not starting"))
    }

    func testVersion() throws {
        let result = try runToCompletion(["version"])
        XCTAssertEqual(result.status, 0)
        XCTAssertTrue(result.stdout.hasPrefix("gateway "))
    }

    private func startGateway(_ yaml: String, environment: [String: String] = [:]) async throws -> RunningGateway {
        try await GatewayProcess.start(yaml, environment: environment)
    }

    private func config(upstreamPort: Int) -> String {
        """
        listeners:
          - name: public
            address: 127.0.0.1:0
        upstreams:
          u: { endpoints: [{ address: 127.0.0.1:\(upstreamPort) }] }
        routes:
          - name: all
            match: { path_prefix: / }
            upstream: u
        """
    }

    func testRunServesAndDrainsOnSIGTERM() async throws {
        let upstream = try await TestUpstream()
        let gateway = try await startGateway(config(upstreamPort: upstream.port))
        let client = try await TestClient.connect(port: gateway.port, group: MultiThreadedEventLoopGroup.singleton)
        let response = try await client.request(.GET, "/hello")
        XCTAssertEqual(response.status, .ok)
        XCTAssertTrue(response.bodyText.contains("uri=/hello"))

        gateway.process.terminate()  // SIGTERM
        _ = try await gateway.log.firstLine(containing: "\"message\":\"gateway stopped\"")
        gateway.waitForExit()
        XCTAssertEqual(gateway.process.terminationStatus, 0)
        await upstream.stop()
    }

    func testSIGHUPReloadsTheFileAndAnInvalidOneChangesNothing() async throws {
        let first = try await TestUpstream(name: "first")
        let second = try await TestUpstream(name: "second")
        let gateway = try await startGateway(config(upstreamPort: first.port))
        let client = try await TestClient.connect(port: gateway.port, group: MultiThreadedEventLoopGroup.singleton)
        let before = try await client.request(.GET, "/echo")
        XCTAssertTrue(before.bodyText.contains("upstream=first"), before.bodyText)

        try config(upstreamPort: second.port).write(toFile: gateway.configPath, atomically: true, encoding: .utf8)
        kill(gateway.process.processIdentifier, SIGHUP)
        let applied = try await gateway.log.firstLine(containing: "\"message\":\"configuration applied\"")
        XCTAssertTrue(applied.contains("\"generation\":\"2\""), applied)
        let after = try await client.request(.GET, "/echo")
        XCTAssertTrue(after.bodyText.contains("upstream=second"), after.bodyText)

        try ("bogus: 1\n" + config(upstreamPort: first.port)).write(
            toFile: gateway.configPath, atomically: true, encoding: .utf8)
        kill(gateway.process.processIdentifier, SIGHUP)
        let rejected = try await gateway.log.firstLine(containing: "configuration reload rejected")
        XCTAssertTrue(rejected.contains("\(gateway.configPath):1: unknown key 'bogus'"), rejected)
        _ = try await gateway.log.firstLine(containing: "\"message\":\"configuration unchanged\"")
        let unchanged = try await client.request(.GET, "/echo")
        XCTAssertTrue(unchanged.bodyText.contains("upstream=second"), unchanged.bodyText)

        await client.close()
        gateway.process.terminate()
        gateway.waitForExit()
        XCTAssertEqual(gateway.process.terminationStatus, 0)
        await first.stop()
        await second.stop()
    }

    func testAdminTokenVariableMustBeSet() throws {
        let path = try writeTemporary(
            config(upstreamPort: 9) + "\nadmin:\n  address: 127.0.0.1:0\n  token_env: GATEWAY_TEST_UNSET_TOKEN\n")
        let result = try runToCompletion(["run", "--config", path])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(
            result.stderr.contains("admin.token_env names GATEWAY_TEST_UNSET_TOKEN, which is not set or empty"),
            result.stderr)
    }

    func testAdminAPIAndAccessLogReopenInTheBinary() async throws {
        let upstream = try await TestUpstream()
        let accessLog = NSTemporaryDirectory() + "gateway-cli-access-\(UUID().uuidString).log"
        let gateway = try await startGateway(
            config(upstreamPort: upstream.port) + """

                admin:
                  address: 127.0.0.1:0
                  token_env: GATEWAY_TEST_ADMIN_TOKEN
                logging:
                  access_log: { path: \(accessLog) }
                """, environment: ["GATEWAY_TEST_ADMIN_TOKEN": "cli-token-123"])
        let adminLine = try await gateway.log.firstLine(containing: "\"message\":\"admin listening\"")
        let adminPort = try XCTUnwrap(
            adminLine.range(of: "127.0.0.1:").map { Int(adminLine[$0.upperBound...].prefix { $0.isNumber }) } ?? nil)
        let group = MultiThreadedEventLoopGroup.singleton

        let admin = try await TestClient.connect(port: adminPort, group: group)
        let denied = try await admin.request(.GET, "/admin/health")
        XCTAssertEqual(denied.status, .unauthorized)
        let allowed = try await admin.request(
            .GET, "/admin/health", headers: [("host", "a"), ("authorization", "Bearer cli-token-123")])
        XCTAssertEqual(allowed.status, .ok)

        let client = try await TestClient.connect(port: gateway.port, group: group)
        let first = try await client.request(.GET, "/before-rotation")
        XCTAssertEqual(first.status, .ok)
        // logrotate: move the file away, send SIGUSR1, and the next lines go to a new file.
        let rotated = accessLog + ".1"
        try await waitForFile(accessLog, containing: "/before-rotation")
        try FileManager.default.moveItem(atPath: accessLog, toPath: rotated)
        kill(gateway.process.processIdentifier, SIGUSR1)
        try await waitForFile(accessLog, containing: "")
        let second = try await client.request(.GET, "/after-rotation")
        XCTAssertEqual(second.status, .ok)
        try await waitForFile(accessLog, containing: "/after-rotation")
        let old = try String(contentsOfFile: rotated, encoding: .utf8)
        XCTAssertEqual(old.split(separator: "\n").count, 1)
        XCTAssertTrue(old.contains("/before-rotation"))

        let reload = try await admin.request(
            .POST, "/admin/reload", headers: [("host", "a"), ("authorization", "Bearer cli-token-123")])
        XCTAssertEqual(reload.status, .ok, reload.bodyText)
        XCTAssertTrue(reload.bodyText.contains("\"generation\": 2"), reload.bodyText)

        await admin.close()
        await client.close()
        gateway.process.terminate()
        gateway.waitForExit()
        XCTAssertEqual(gateway.process.terminationStatus, 0)
        await upstream.stop()
    }

    /// The access log is written by a thread of the child process: nothing to await but the file.
    private func waitForFile(_ path: String, containing needle: String) async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            if let text = try? String(contentsOfFile: path, encoding: .utf8), needle.isEmpty || text.contains(needle) {
                return
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        XCTFail("\(path) never contained '\(needle)'")
    }

    func testUpstreamFailuresAreLoggedWithTheRequestID() async throws {
        // A port that was bound and released: connecting to it is refused.
        let probe = try await TestUpstream()
        let deadPort = probe.port
        await probe.stop()
        let gateway = try await startGateway(config(upstreamPort: deadPort))
        let client = try await TestClient.connect(port: gateway.port, group: MultiThreadedEventLoopGroup.singleton)
        let response = try await client.request(.GET, "/x", headers: [("host", "a"), ("x-request-id", "trace-me-42")])
        XCTAssertEqual(response.status, .badGateway)
        let line = try await gateway.log.firstLine(containing: "cannot connect to upstream")
        XCTAssertTrue(line.contains("\"request_id\":\"trace-me-42\""), line)
        XCTAssertTrue(line.contains("\"endpoint\":\"127.0.0.1:\(deadPort)\""), line)
        XCTAssertTrue(line.contains("\"level\":\"warning\""), line)
        gateway.process.terminate()
        gateway.waitForExit()
    }
}

struct RunningGateway {
    let process: Process
    let stderr: Pipe
    let log: LogLines
    let port: Int
    let configPath: String

    func waitForExit() {
        process.waitUntilExit()
    }

    /// SIGTERM, a graceful stop (the drain, the access log flushed), and reap.
    func terminate() {
        let pid = process.processIdentifier
        Foundation.kill(pid, SIGTERM)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    }

    /// SIGKILL and reap with waitpid (`waitUntilExit` needs a run loop async tests do not run).
    func kill() {
        let pid = process.processIdentifier
        Foundation.kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    }
}

/// Lines of a child's stderr as they arrive, with an awaitable "first line containing".
final class LogLines: Sendable {
    private let state = NIOLockedValueBox((text: "", waiters: [(String, CheckedContinuation<String, Error>)]()))

    /// Reads the pipe on a thread of its own with blocking reads until the child closes it.
    /// `FileHandle.readabilityHandler` would be simpler, but tearing its dispatch source down races
    /// libdispatch's epoll bookkeeping on Linux and crashed the test process in
    /// `_dispatch_event_loop_drain` (swift-corelibs-libdispatch#949, swift-corelibs-foundation#3276).
    func collect(from handle: FileHandle) {
        let reader = Thread { [self] in
            while true {
                let data = handle.availableData
                if data.isEmpty { return }
                self.append(data)
            }
        }
        reader.name = "child stderr"
        reader.start()
    }

    /// Everything the child wrote so far.
    var text: String { state.withLockedValue { $0.text } }

    func append(_ data: Data) {
        guard !data.isEmpty else { return }
        let chunk = String(decoding: data, as: UTF8.self)
        let ready = state.withLockedValue { state -> [(String, CheckedContinuation<String, Error>)] in
            state.text += chunk
            var ready: [(String, CheckedContinuation<String, Error>)] = []
            state.waiters.removeAll { waiter in
                guard let line = Self.line(containing: waiter.0, in: state.text) else { return false }
                ready.append((line, waiter.1))
                return true
            }
            return ready
        }
        for (line, continuation) in ready { continuation.resume(returning: line) }
    }

    struct Timeout: Error {}

    /// Waits for the line; after `timeout` every waiter fails, so a child that never logs it fails
    /// the test instead of hanging it.
    func firstLine(containing needle: String, timeout: Duration = .seconds(20)) async throws -> String {
        let watchdog = Task { [self] in
            try await Task.sleep(for: timeout)
            self.failWaiters()
        }
        defer { watchdog.cancel() }
        return try await withCheckedThrowingContinuation { continuation in
            let line = state.withLockedValue { state -> String? in
                if let line = Self.line(containing: needle, in: state.text) { return line }
                state.waiters.append((needle, continuation))
                return nil
            }
            if let line { continuation.resume(returning: line) }
        }
    }

    private func failWaiters() {
        let waiters = state.withLockedValue { state in
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for (_, continuation) in waiters { continuation.resume(throwing: Timeout()) }
    }

    private static func line(containing needle: String, in text: String) -> String? {
        text.split(separator: "\n").first { $0.contains(needle) }.map(String.init)
    }
}
