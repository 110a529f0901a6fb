import Foundation
import GatewayConfig
import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOPosix
import XCTest

@testable import GatewayServer

/// HTTP/2 from clients, with curl (nghttp2) as the client: h2 over TLS by ALPN, h2c with prior
/// knowledge next to HTTP/1.1 on one port, request bodies both ways of framing, many streams on
/// one connection, and the same phases as HTTP/1.1 (routing, gateway errors).
final class HTTP2DownstreamTests: XCTestCase {
    private var upstream: TestUpstream?

    override func tearDown() async throws {
        await upstream?.stop()
    }

    private func start(_ listener: ListenerConfig) async throws -> TestGateway {
        let upstream = try await TestUpstream(name: "app")
        self.upstream = upstream
        return try await TestGateway.start(
            upstreams: [UpstreamConfig(name: "u", endpoints: [endpoint(upstream)])],
            routes: [prefixRoute("all", "/api/", upstream: "u", rewrite: .stripPrefix("/api"))], listener: listener)
    }

    private func tlsListener(protocols: [ListenerProtocol]) throws -> ListenerConfig {
        ListenerConfig(
            name: "tls", address: HostPort(host: "127.0.0.1", port: 0), protocols: protocols,
            tls: ListenerTLSConfig(certificates: [
                TLSCertificateConfig(
                    certificatePath: try DevCertificates.path("server.crt"),
                    keyPath: try DevCertificates.path("server.key"))
            ]))
    }

    /// Runs curl to completion (bounded by its --max-time) and returns what it printed.
    static func curl(_ arguments: [String]) async throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = ["-sS", "--no-progress-meter", "--max-time", "20"] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        return await withCheckedContinuation { continuation in
            // Blocking reads on a thread of their own; curl's --max-time bounds the wait.
            Thread {
                let data = output.fileHandleForReading.readDataToEndOfFile()
                var status: Int32 = 0
                while waitpid(process.processIdentifier, &status, 0) == -1 && errno == EINTR {}
                continuation.resume(returning: String(decoding: data, as: UTF8.self))
            }.start()
        }
    }

    func testH2OverTLSIsNegotiatedByALPNAndProxied() async throws {
        let gateway = try await start(try tlsListener(protocols: [.h2, .http1]))
        let base = "https://localhost:\(gateway.port)"
        let ca = try DevCertificates.path("ca.crt")
        let h2 = try await Self.curl([
            "--http2", "--cacert", ca, "-H", "X-Test: yes", "-w", "\nversion=%{http_version} status=%{http_code}\n",
            "\(base)/api/echo",
        ])
        XCTAssertTrue(h2.contains("version=2 status=200"), h2)
        XCTAssertTrue(h2.contains("upstream=app"), h2)
        XCTAssertTrue(h2.contains("h:x-test=yes"), "request fields reach the upstream: \(h2)")
        XCTAssertTrue(h2.contains("h:host=localhost:\(gateway.port)"), ":authority becomes Host: \(h2)")
        XCTAssertTrue(h2.contains("h:x-forwarded-proto=https"), h2)
        let http1 = try await Self.curl([
            "--http1.1", "--cacert", ca, "-w", "\nversion=%{http_version} status=%{http_code}\n", "\(base)/api/x",
        ])
        XCTAssertTrue(
            http1.contains("version=1.1 status=200"), "HTTP/1.1 clients still work on the same port: \(http1)")
        let notFound = try await Self.curl([
            "--http2", "--cacert", ca, "-w", "\nversion=%{http_version} status=%{http_code}\n", "\(base)/nowhere",
        ])
        XCTAssertTrue(notFound.contains("version=2 status=404"), notFound)
        XCTAssertTrue(notFound.contains("\"error\":\"no_route\""), "gateway errors are the same JSON: \(notFound)")
        await gateway.stop()
    }

    func testH2CWithPriorKnowledgeSharesAPortWithHTTP1() async throws {
        let gateway = try await start(
            ListenerConfig(name: "clear", address: HostPort(host: "127.0.0.1", port: 0), protocols: [.http1, .h2c]))
        let base = "http://127.0.0.1:\(gateway.port)"
        let h2c = try await Self.curl([
            "--http2-prior-knowledge", "-w", "\nversion=%{http_version} status=%{http_code}\n", "\(base)/api/a",
        ])
        XCTAssertTrue(h2c.contains("version=2 status=200"), h2c)
        let http1 = try await Self.curl(["-w", "\nversion=%{http_version} status=%{http_code}\n", "\(base)/api/b"])
        XCTAssertTrue(http1.contains("version=1.1 status=200"), http1)
        await gateway.stop()
    }

    func testRequestBodiesAndLargeResponsesStreamOverH2() async throws {
        let gateway = try await start(
            ListenerConfig(name: "clear", address: HostPort(host: "127.0.0.1", port: 0), protocols: [.h2c]))
        let base = "http://127.0.0.1:\(gateway.port)"
        let body = String(repeating: "x", count: 100_000)
        let bodyFile = NSTemporaryDirectory() + "h2-body-\(UUID().uuidString)"
        try body.write(toFile: bodyFile, atomically: true, encoding: .utf8)
        // With a length (curl sends content-length) and without (chunked on the HTTP/1.1 side).
        let upload = try await Self.curl([
            "--http2-prior-knowledge", "--data-binary", "@\(bodyFile)", "-w", "\nstatus=%{http_code}\n",
            "\(base)/api/upload",
        ])
        XCTAssertTrue(upload.contains("100000\nstatus=200"), upload)
        let streamed = try await Self.curl([
            "--http2-prior-knowledge", "-H", "Transfer-Encoding:", "-H", "Content-Length:", "--data-binary",
            "@\(bodyFile)", "-w", "\nstatus=%{http_code}\n", "\(base)/api/upload",
        ])
        XCTAssertTrue(streamed.contains("100000\nstatus=200"), streamed)
        let download = try await Self.curl([
            "--http2-prior-knowledge", "-o", "/dev/null", "-w", "size=%{size_download} status=%{http_code}\n",
            "\(base)/api/bytes/3000000",
        ])
        XCTAssertTrue(download.contains("size=3000000 status=200"), download)
        let chunked = try await Self.curl([
            "--http2-prior-knowledge", "-w", "\nstatus=%{http_code}\n", "\(base)/api/chunked",
        ])
        XCTAssertTrue(
            chunked.contains("one,two,three\nstatus=200"), "a chunked upstream body is de-chunked: \(chunked)")
        try? FileManager.default.removeItem(atPath: bodyFile)
        await gateway.stop()
    }

    func testFinishedStreamsAndConnectionsAreFreed() async throws {
        let gateway = try await start(try tlsListener(protocols: [.h2, .http1]))
        let before = ProxyHandler.liveHandlers.load(ordering: .relaxed)
        let base = "https://localhost:\(gateway.port)"
        let tls = ["--cacert", try DevCertificates.path("ca.crt"), "-s", "-o", "/dev/null", "-w", "%{http_code}\n"]
        // 200 streams on one h2 connection, then 20 HTTP/1.1 connections each closed after its request.
        let streams = try await Self.curl(["--http2"] + tls + (0..<200).map { "\(base)/api/s\($0)" })
        XCTAssertEqual(streams.split(separator: "\n").filter { $0 == "200" }.count, 200, streams)
        let connections = try await Self.curl(
            ["--http1.1", "-H", "connection: close"] + tls + (0..<20).map { "\(base)/api/c\($0)" })
        XCTAssertEqual(connections.split(separator: "\n").filter { $0 == "200" }.count, 20, connections)
        // Each stream and connection had a handler; once closed, every one must be gone (a handler
        // kept alive by its own pipeline once leaked ~5 KiB per HTTP/2 request).
        try await waitUntil("every handler freed (\(ProxyHandler.liveHandlers.load(ordering: .relaxed) - before) left)")
        {
            ProxyHandler.liveHandlers.load(ordering: .relaxed) <= before
        }
        await gateway.stop()
    }

    func testManyConcurrentStreamsOnOneConnection() async throws {
        let gateway = try await start(try tlsListener(protocols: [.h2]))
        let base = "https://localhost:\(gateway.port)"
        // curl --parallel multiplexes the URLs as streams of one TLS connection (h2 by ALPN).
        var arguments = [
            "--http2", "--cacert", try DevCertificates.path("ca.crt"), "--parallel", "--parallel-max", "50", "-w",
            "%{http_version}:%{http_code}:%{num_connects}\n",
        ]
        for index in 0..<100 {
            arguments += ["-o", "/dev/null", "\(base)/api/slow/\(index % 5 * 20)"]
        }
        let output = try await Self.curl(arguments)
        let lines = output.split(separator: "\n")
        XCTAssertEqual(lines.filter { $0.hasPrefix("2:200:") }.count, 100, output)
        XCTAssertLessThanOrEqual(
            lines.filter { $0.hasSuffix(":1") }.count, 2, "the streams share one or two connections: \(output)")
        // At most 50 at once: upstream connections are reused from stream to stream, not one per request.
        XCTAssertLessThanOrEqual(upstream?.connectionsAccepted ?? 0, 60)
        await gateway.stop()
    }

    func testADrainLetsOpenStreamsFinishAfterAGoAway() async throws {
        let gateway = try await start(
            ListenerConfig(name: "clear", address: HostPort(host: "127.0.0.1", port: 0), protocols: [.h2c]))
        let url = "http://127.0.0.1:\(gateway.port)/api/slow/400"
        let arguments = ["--http2-prior-knowledge", "-w", "\nstatus=%{http_code} version=%{http_version}\n", url]
        let inFlight = Task { @Sendable in try await HTTP2DownstreamTests.curl(arguments) }
        let upstream = try XCTUnwrap(upstream)
        try await bounded(upstream.requestsReceived(1), "the request at the upstream").get()
        await gateway.stop()
        let output = try await inFlight.value
        XCTAssertTrue(
            output.contains("slow\nstatus=200 version=2"), "the open stream finished during the drain: \(output)")
    }

    /// CVE-2023-44487: a client opening streams and resetting them at once, as fast as it can.
    /// The connection must be closed after a bounded number of resets, not served forever.
    func testRapidResetIsCutOff() async throws {
        let gateway = try await start(
            ListenerConfig(name: "clear", address: HostPort(host: "127.0.0.1", port: 0), protocols: [.h2c]))
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOHTTP2Handler(mode: .client))
                }
            }
            .connect(host: "127.0.0.1", port: gateway.port).get()
        let headers = HPACKHeaders([
            (":method", "GET"), (":path", "/api/slow/1000"), (":scheme", "http"), (":authority", "a"),
        ])
        var sent = 0
        for index in 0..<5000 {
            let stream = HTTP2StreamID(1 + 2 * index)
            let open = HTTP2Frame(
                streamID: stream, payload: .headers(.init(headers: headers, endStream: true)))
            let reset = HTTP2Frame(streamID: stream, payload: .rstStream(.cancel))
            channel.write(open, promise: nil)
            do {
                try await channel.writeAndFlush(reset).get()
            } catch {
                break  // the server closed the connection
            }
            sent += 1
            if !channel.isActive { break }
        }
        try await bounded(channel.closeFuture, "the server to close the connection", timeout: .seconds(10)).get()
        XCTAssertLessThan(sent, 5000, "the connection was closed before all 5000 resets went out")
        print("rapid reset: connection closed after \(sent) open+reset pairs")
        XCTAssertLessThanOrEqual(upstream?.requests ?? 0, 300, "few of the reset streams reached the upstream")
        try await group.shutdownGracefully()
        await gateway.stop()
    }

    func testAHeaderListOverTheListenersLimitIsRefusedAndTheServerCarriesOn() async throws {
        var listener = ListenerConfig(name: "clear", address: HostPort(host: "127.0.0.1", port: 0), protocols: [.h2c])
        listener.limits.maxHeaderBytes = 4096
        let gateway = try await start(listener)
        let base = "http://127.0.0.1:\(gateway.port)"
        let huge = String(repeating: "h", count: 8000)
        let refused = try await Self.curl([
            "--http2-prior-knowledge", "-H", "X-Huge: \(huge)", "-w", "\nstatus=%{http_code}\n", "\(base)/api/x",
        ])
        XCTAssertFalse(refused.contains("status=200"), "a header list over 4 KiB is not served: \(refused)")
        XCTAssertEqual(upstream?.requests, 0)
        let fine = try await Self.curl(["--http2-prior-knowledge", "-w", "\nstatus=%{http_code}\n", "\(base)/api/x"])
        XCTAssertTrue(fine.contains("status=200"), fine)
        await gateway.stop()
    }
}
