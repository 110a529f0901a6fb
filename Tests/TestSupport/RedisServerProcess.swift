import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A real `redis-server` on 127.0.0.1 and a port the OS handed out, with no persistence. Ready
/// when it says so on stdout (an event, not a poll).
public final class RedisServerProcess: @unchecked Sendable {
    // Unchecked: `process` is replaced only by start/stop, which tests call from one task.
    public let port: Int
    public let extraArguments: [String]
    private var process: Process?

    public struct StartFailure: Error, CustomStringConvertible {
        public let description: String
    }

    public init(extraArguments: [String] = []) throws {
        self.port = try Self.freePort()
        self.extraArguments = extraArguments
    }

    public var address: SocketAddress {
        get throws { try SocketAddress(ipAddress: "127.0.0.1", port: port) }
    }

    public static func freePort() throws -> Int {
        let group = MultiThreadedEventLoopGroup.singleton
        let channel = try ServerBootstrap(group: group).bind(host: "127.0.0.1", port: 0).wait()
        defer { try? channel.close().wait() }
        guard let port = channel.localAddress?.port else { throw StartFailure(description: "no free port") }
        return port
    }

    public func start() async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
        process.arguments =
            ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "notice"]
            + extraArguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        let ready = ReadySignal(needle: "Ready to accept connections")
        try process.run()
        self.process = process
        let reader = Thread {
            while true {
                let data = output.fileHandleForReading.availableData
                if data.isEmpty {
                    ready.ended()
                    return
                }
                ready.append(String(decoding: data, as: UTF8.self))
            }
        }
        reader.start()
        try await ready.wait(timeout: .seconds(15))
    }

    /// SIGKILL: the server vanishes as in a crash.
    public func kill() {
        signal(SIGKILL)
    }

    /// Also SIGKILL: nothing is persisted, and the child may inherit a signal mask that blocks
    /// SIGTERM (the test process's), which left servers running.
    public func stop() {
        signal(SIGKILL)
    }

    /// Signals and reaps the child with waitpid: `Process.waitUntilExit` spins a run loop that
    /// does not run in async tests on Linux, and never returned.
    private func signal(_ number: Int32) {
        guard let process else { return }
        self.process = nil
        let pid = process.processIdentifier
        Foundation.kill(pid, number)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    }
}

/// Resolved once stdout contains the needle; failed if the process ends first or time runs out.
private final class ReadySignal: Sendable {
    private let state = NIOLockedValueBox(
        (text: "", done: false, continuation: CheckedContinuation<Void, Error>?.none))
    let needle: String

    init(needle: String) { self.needle = needle }

    func append(_ chunk: String) {
        let continuation = state.withLockedValue { state -> CheckedContinuation<Void, Error>? in
            state.text += chunk
            guard !state.done, state.text.contains(needle) else { return nil }
            state.done = true
            defer { state.continuation = nil }
            return state.continuation
        }
        continuation?.resume()
    }

    func ended() {
        fail(RedisServerProcess.StartFailure(description: "redis-server exited: \(state.withLockedValue { $0.text })"))
    }

    private func fail(_ error: Error) {
        let continuation = state.withLockedValue { state -> CheckedContinuation<Void, Error>? in
            guard !state.done else { return nil }
            state.done = true
            defer { state.continuation = nil }
            return state.continuation
        }
        continuation?.resume(throwing: error)
    }

    func wait(timeout: Duration) async throws {
        let watchdog = Task {
            try await Task.sleep(for: timeout)
            self.fail(RedisServerProcess.StartFailure(description: "redis-server did not become ready in \(timeout)"))
        }
        defer { watchdog.cancel() }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            let alreadyDone = state.withLockedValue { state -> Bool in
                if state.done { return true }
                state.continuation = continuation
                return false
            }
            if alreadyDone {
                // Either ready before we waited, or failed: the text says which.
                if state.withLockedValue({ $0.text.contains(needle) }) {
                    continuation.resume()
                } else {
                    continuation.resume(throwing: RedisServerProcess.StartFailure(description: "redis-server failed"))
                }
            }
        }
    }
}
