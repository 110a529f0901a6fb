import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A real three-master Redis Cluster on 127.0.0.1 (no replicas, no persistence), made with
/// `redis-cli --cluster create`. Each node's data port P and cluster bus port P+10000 were free
/// when chosen; config files live in a temporary directory removed by `stop`.
public final class RedisClusterProcess: @unchecked Sendable {
    // Unchecked: `nodes` changes only in start/kill/stop, which tests call from one task.
    public private(set) var ports: [Int] = []
    public let extraArguments: [String]
    private var nodes: [Int: Process] = [:]
    private var directory: URL?

    public struct StartFailure: Error, CustomStringConvertible {
        public let description: String
    }

    /// `--cluster-require-full-coverage no` is the default here: a killed master must not take
    /// the other masters' slots down with it once the cluster notices.
    public init(extraArguments: [String] = ["--cluster-require-full-coverage", "no"]) {
        self.extraArguments = extraArguments
    }

    public var addresses: [SocketAddress] {
        get throws { try ports.map { try SocketAddress(ipAddress: "127.0.0.1", port: $0) } }
    }

    /// Starts the nodes, joins them into a cluster and waits until every node reports
    /// `cluster_state:ok` with all slots assigned. Ports can be taken between choosing and
    /// binding them (other processes run tests too): then it starts over with new ones.
    public func start() async throws {
        var failures: [String] = []
        for _ in 0..<3 {
            do {
                try await startOnce()
                return
            } catch {
                failures.append("\(error)")
                stop()
            }
        }
        throw StartFailure(description: failures.joined(separator: "; "))
    }

    private func startOnce() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "redis-cluster-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        self.directory = directory
        ports = try Self.freePortPairs(count: 3)
        for port in ports {
            try await startNode(port: port, directory: directory)
        }
        let create = try await Self.run(
            "/usr/bin/redis-cli",
            ["--cluster", "create"] + ports.map { "127.0.0.1:\($0)" } + ["--cluster-replicas", "0", "--cluster-yes"])
        guard create.contains("All 16384 slots covered") else {
            throw StartFailure(description: "redis-cli --cluster create: \(create)")
        }
        try await waitUntilClusterIsOK()
    }

    private func startNode(port: Int, directory: URL) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
        process.arguments =
            [
                "--cluster-enabled", "yes", "--cluster-config-file",
                directory.appendingPathComponent("nodes-\(port).conf").path,
                "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir",
                directory.path, "--loglevel", "notice",
            ] + extraArguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        let ready = OutputWatch(needle: "Ready to accept connections")
        try process.run()
        nodes[port] = process
        Self.drain(output, into: ready)
        try await ready.wait(timeout: .seconds(15), what: "redis-server on port \(port)")
    }

    /// Redis has no event for the cluster converging, so this polls, at a short interval and
    /// with a deadline: every node must know all three nodes and all slots, and say it is ok.
    private func waitUntilClusterIsOK() async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        var last = ""
        for port in ports {
            while true {
                last = try await Self.run("/usr/bin/redis-cli", ["-p", String(port), "CLUSTER", "INFO"])
                if last.contains("cluster_state:ok"), last.contains("cluster_slots_assigned:16384"),
                    last.contains("cluster_known_nodes:3")
                {
                    break
                }
                guard ContinuousClock.now < deadline else {
                    throw StartFailure(description: "the cluster did not become ok on port \(port): \(last)")
                }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    /// SIGKILL one node: it vanishes as in a crash; the others keep running.
    public func kill(port: Int) {
        guard let process = nodes.removeValue(forKey: port) else { return }
        Self.killAndReap(process)
    }

    /// SIGKILL every node (nothing is persisted, and a child may inherit a mask that blocks
    /// SIGTERM), then the config files go.
    public func stop() {
        for process in nodes.values { Self.killAndReap(process) }
        nodes = [:]
        if let directory { try? FileManager.default.removeItem(at: directory) }
        directory = nil
    }

    /// Reaped with waitpid: `Process.waitUntilExit` spins a run loop that does not run in async
    /// tests on Linux, and never returned.
    private static func killAndReap(_ process: Process) {
        let pid = process.processIdentifier
        Foundation.kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    }

    /// Ports P with P+10000 (the cluster bus) also free, all distinct. Both are checked by
    /// binding them; another process can still take one before redis-server binds it, which
    /// `start` answers by trying again.
    static func freePortPairs(count: Int) throws -> [Int] {
        var chosen: [Int] = []
        for _ in 0..<100 where chosen.count < count {
            let port = try RedisServerProcess.freePort()
            let bus = port + 10000
            guard bus <= 65535, !chosen.contains(port), !chosen.contains(bus),
                !chosen.map({ $0 + 10000 }).contains(port),
                canBind(bus)
            else { continue }
            chosen.append(port)
        }
        guard chosen.count == count else { throw StartFailure(description: "no \(count) free port pairs") }
        return chosen
    }

    private static func canBind(_ port: Int) -> Bool {
        do {
            let channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: "127.0.0.1", port: port).wait()
            try? channel.close().wait()
            return true
        } catch {
            return false
        }
    }

    /// Runs a tool to its end and returns what it printed. The end is the output closing (an
    /// event); the exit status is not needed, callers check the text.
    static func run(_ executable: String, _ arguments: [String]) async throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        let watch = OutputWatch(needle: nil)
        try process.run()
        Self.drain(output, into: watch)
        do {
            let text = try await watch.outcome(timeout: .seconds(30), what: executable)
            var status: Int32 = 0
            while waitpid(process.processIdentifier, &status, 0) == -1 && errno == EINTR {}
            return text
        } catch {
            killAndReap(process)
            throw error
        }
    }

    /// Blocking reads on a thread of their own, so the pipe never fills and stalls the child.
    private static func drain(_ pipe: Pipe, into watch: OutputWatch) {
        let handle = pipe.fileHandleForReading
        Thread {
            while true {
                let data = handle.availableData
                if data.isEmpty {
                    watch.ended()
                    return
                }
                watch.append(String(decoding: data, as: UTF8.self))
            }
        }.start()
    }
}

/// A child's output as it arrives: resolved once it contains the needle (or, without one, once
/// it ends); failed if it ends first or time runs out.
private final class OutputWatch: Sendable {
    private struct State {
        var text = ""
        var outcome: Result<String, Error>?
        var continuation: CheckedContinuation<String, Error>?
    }

    private let state = NIOLockedValueBox(State())
    private let needle: String?

    init(needle: String?) { self.needle = needle }

    func append(_ chunk: String) {
        settle { state in
            state.text += chunk
            guard let needle, state.text.contains(needle) else { return nil }
            return .success(state.text)
        }
    }

    func ended() {
        settle { state in
            guard needle != nil else { return .success(state.text) }
            return .failure(RedisClusterProcess.StartFailure(description: "the process exited: \(state.text)"))
        }
    }

    private func settle(_ decide: (inout State) -> Result<String, Error>?) {
        let (continuation, outcome) = state.withLockedValue {
            state -> (CheckedContinuation<String, Error>?, Result<String, Error>?) in
            guard state.outcome == nil, let outcome = decide(&state) else { return (nil, nil) }
            state.outcome = outcome
            defer { state.continuation = nil }
            return (state.continuation, outcome)
        }
        if let continuation, let outcome { continuation.resume(with: outcome) }
    }

    func wait(timeout: Duration, what: String) async throws {
        _ = try await outcome(timeout: timeout, what: what)
    }

    /// The output so far once the watch resolves.
    func outcome(timeout: Duration, what: String) async throws -> String {
        let watchdog = Task {
            try await Task.sleep(for: timeout)
            self.settle { state in
                .failure(
                    RedisClusterProcess.StartFailure(description: "\(what) did not finish in \(timeout): \(state.text)")
                )
            }
        }
        defer { watchdog.cancel() }
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<String, Error>) in
            let outcome = state.withLockedValue { state -> Result<String, Error>? in
                if let outcome = state.outcome { return outcome }
                state.continuation = continuation
                return nil
            }
            if let outcome { continuation.resume(with: outcome) }
        }
    }
}
