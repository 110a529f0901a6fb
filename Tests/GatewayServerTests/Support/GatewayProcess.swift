import Foundation
import XCTest

/// The `gateway` binary as users run it: `gateway run --config FILE`, stderr collected.
enum GatewayProcess {
    static var binary: String {
        if let path = ProcessInfo.processInfo.environment["GATEWAY_BIN"] { return path }
        return repositoryRoot.appendingPathComponent(".build/debug/gateway").path
    }

    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
    }

    static var isBuilt: Bool { FileManager.default.isExecutableFile(atPath: binary) }

    static func writeTemporary(_ text: String) throws -> String {
        let path = NSTemporaryDirectory() + "gateway-test-\(UUID().uuidString).yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Starts `gateway run` on a config with a port-0 listener; returns once it logged the port it
    /// listens on.
    static func start(_ yaml: String, environment: [String: String] = [:]) async throws -> RunningGateway {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        let configPath = try writeTemporary(yaml)
        process.arguments = ["run", "--config", configPath]
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let err = Pipe()
        process.standardError = err
        let log = LogLines()
        try process.run()
        log.collect(from: err.fileHandleForReading)
        let listening = try await log.firstLine(containing: "\"message\":\"listening\"")
        let port = try XCTUnwrap(
            listening.range(of: "127.0.0.1:").map { Int(listening[$0.upperBound...].prefix { $0.isNumber }) } ?? nil)
        return RunningGateway(process: process, stderr: err, log: log, port: port, configPath: configPath)
    }
}
