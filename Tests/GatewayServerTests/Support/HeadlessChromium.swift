import Foundation

/// Debian's `chromium` in headless mode: loads a page, runs its scripts, and prints the DOM or
/// takes a screenshot. Console messages (and uncaught script errors) arrive on stderr.
enum HeadlessChromium {
    struct Result {
        let stdout: String
        let stderr: String
        let status: Int32
    }

    struct NotInstalled: Error, CustomStringConvertible {
        var description: String { "chromium is not installed (make test installs it: apt-get install chromium)" }
    }

    static var binary: String? {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// `--virtual-time-budget` lets the page's timers and fetches run for that long (virtual time
    /// waits for the network) before the DOM is dumped or the screenshot taken.
    static func run(_ arguments: [String], url: String, budgetMilliseconds: Int = 5000) async throws -> Result {
        guard let binary else { throw NotInstalled() }
        let profile = NSTemporaryDirectory() + "chromium-profile-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: profile) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments =
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--no-default-browser-check", "--disable-extensions", "--user-data-dir=\(profile)",
                "--enable-logging=stderr", "--v=0", "--virtual-time-budget=\(budgetMilliseconds)",
            ] + arguments + [url]
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes to the end on threads of their own (a full pipe would stall chromium),
        // and bound the whole run.
        let pid = process.processIdentifier
        let watchdog = DispatchWorkItem { kill(pid, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + 90, execute: watchdog)
        async let stdout = read(out.fileHandleForReading)
        async let stderr = read(err.fileHandleForReading)
        let (outText, errText) = await (stdout, stderr)
        // Foundation's Process reaps the child itself; wait for that rather than race it with waitpid.
        let status = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                while process.isRunning { usleep(10_000) }
                continuation.resume(returning: process.terminationStatus)
            }
        }
        watchdog.cancel()
        return Result(stdout: outText, stderr: errText, status: status)
    }

    private static func read(_ handle: FileHandle) async -> String {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                let data = handle.readDataToEndOfFile()
                continuation.resume(returning: String(decoding: data, as: UTF8.self))
            }
        }
    }
}
