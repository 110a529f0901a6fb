import Foundation
import XCTest

/// An upstream that is a process of its own (python3's threading HTTP server), so fault tests can
/// kill it with SIGKILL mid-traffic, as an operator's crash would, and start it again on the same
/// port. Every response is written with one send, so a kill never splits a head from its body.
/// `delay_ms` makes every request but `/health` sleep first.
final class PythonUpstream: @unchecked Sendable {
    // @unchecked: `process` is only replaced by `start`/`kill`, which tests call from one task.
    let name: String
    private(set) var port: Int
    private let delayMilliseconds: Int
    private var process: Process?

    private static let script = #"""
        import http.server, socketserver, sys, time
        name, port, delay = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]) / 1000
        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            def do_GET(self):
                if self.path != "/health" and delay > 0:
                    time.sleep(delay)
                body = (name + "\n").encode()
                head = "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nX-Upstream: %s\r\n\r\n" % (len(body), name)
                self.wfile.write(head.encode() + body)
            def log_message(self, *args):
                pass
        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
            allow_reuse_address = True
            request_queue_size = 256
        server = Server(("127.0.0.1", port), Handler)
        print("port", server.server_address[1], "listening.", flush=True)
        server.serve_forever()
        """#

    private init(name: String, port: Int, delayMilliseconds: Int) {
        self.name = name
        self.port = port
        self.delayMilliseconds = delayMilliseconds
    }

    static func start(name: String, delayMilliseconds: Int = 0) async throws -> PythonUpstream {
        let upstream = PythonUpstream(name: name, port: 0, delayMilliseconds: delayMilliseconds)
        try await upstream.start()
        return upstream
    }

    /// Starts the process (again), on the port it had if it had one.
    func start() async throws {
        let scriptPath = NSTemporaryDirectory() + "gateway-test-upstream.py"
        try Self.script.write(toFile: scriptPath, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [scriptPath, name, String(port), String(delayMilliseconds)]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        let lines = LogLines()
        try process.run()
        lines.collect(from: output.fileHandleForReading)
        self.process = process
        // The whole line, newline included: a read may end in the middle of the number.
        let line = try await lines.firstLine(containing: "listening.", timeout: .seconds(20))
        port = try XCTUnwrap(
            line.split(separator: " ").dropFirst().first.flatMap { Int($0) }, "python upstream said: \(line)")
    }

    /// SIGKILL, reaped with waitpid: the kernel closes its sockets, resetting open connections.
    func kill() {
        guard let process else { return }
        self.process = nil
        let pid = process.processIdentifier
        Foundation.kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    }
}
