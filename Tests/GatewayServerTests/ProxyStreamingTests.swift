import GatewayConfig
import NIOCore
import NIOHTTP1
import NIOPosix
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// Bodies stream through with backpressure: a gigabyte passes in both directions while the
/// process's peak memory grows by far less than the body.
final class ProxyStreamingTests: XCTestCase {
    private var upstream: TestUpstream!
    private var gateway: TestGateway!
    private let clientGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let gigabyte = 1 << 30

    override func setUp() async throws {
        upstream = try await TestUpstream()
        gateway = try await TestGateway.start(
            upstreams: [UpstreamConfig(name: "u", endpoints: [endpoint(upstream)])],
            routes: [prefixRoute("all", "/", upstream: "u")],
            listener: ListenerConfig(
                name: "test", address: HostPort(host: "127.0.0.1", port: 0),
                limits: ListenerLimits(maxBody: nil)))
    }

    override func tearDown() async throws {
        await gateway.stop()
        await upstream.stop()
        try await clientGroup.shutdownGracefully()
    }

    func testGigabyteDownloadStreamsInBoundedMemory() async throws {
        let peakBefore = peakResidentBytes()
        let client = try await TestClient.connect(port: gateway.port, group: clientGroup, countOnly: true)
        let response = try await client.request(.GET, "/bytes/\(gigabyte)")
        XCTAssertEqual(response.status, .ok)
        XCTAssertEqual(client.bodyBytesCounted, gigabyte)
        let growth = peakResidentBytes() - peakBefore
        XCTAssertLessThan(growth, 256 << 20, "peak RSS grew by \(growth >> 20) MiB for a 1 GiB body")
        await client.close()
    }

    func testGigabyteUploadStreamsInBoundedMemory() async throws {
        let peakBefore = peakResidentBytes()
        let client = try await TestClient.connect(port: gateway.port, group: clientGroup)
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/upload")
        head.headers = ["host": "test", "content-length": String(gigabyte)]
        let response = client.expectResponse()
        try await client.channel.writeAndFlush(HTTPClientRequestPart.head(head))
        var chunk = client.channel.allocator.buffer(capacity: 1 << 20)
        chunk.writeRepeatingByte(UInt8(ascii: "u"), count: 1 << 20)
        for _ in 0..<(gigabyte >> 20) {
            // Awaiting each write is the client honouring backpressure from the gateway.
            try await client.channel.writeAndFlush(HTTPClientRequestPart.body(.byteBuffer(chunk)))
        }
        try await client.channel.writeAndFlush(HTTPClientRequestPart.end(nil))
        let answer = try await response.get()
        XCTAssertEqual(answer.bodyText, String(gigabyte))
        let growth = peakResidentBytes() - peakBefore
        XCTAssertLessThan(growth, 256 << 20, "peak RSS grew by \(growth >> 20) MiB for a 1 GiB body")
        await client.close()
    }

    func testSlowClientStopsTheUpstreamInsteadOfFillingMemory() async throws {
        let client = try await RawClient.connect(port: gateway.port, group: clientGroup, autoRead: false)
        try await client.send("GET /bytes/\(gigabyte) HTTP/1.1\r\nHost: a\r\n\r\n")
        client.channel.read()
        try await client.waitFor("200 OK")
        // The client now reads nothing more. There is no event for "stopped", so the test samples
        // twice: between the samples the upstream must not have been allowed to send anything.
        try await Task.sleep(for: .milliseconds(500))
        let first = upstream.streamedBytes
        try await Task.sleep(for: .milliseconds(500))
        let second = upstream.streamedBytes
        XCTAssertEqual(first, second, "upstream kept sending to a client that stopped reading")
        XCTAssertLessThan(first, 64 << 20, "\(first >> 20) MiB were buffered for a stalled client")
        await client.channel.close(promise: nil)
    }

    func testChunkedResponseIsDechunkedForHTTP10Client() async throws {
        let raw = try await RawClient.connect(port: gateway.port, group: clientGroup)
        try await raw.send("GET /chunked HTTP/1.0\r\nHost: a\r\n\r\n")
        let text = try await raw.readUntilClosed()
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 200 OK\r\n"), text)
        XCTAssertTrue(text.hasSuffix("\r\n\r\none,two,three"), text)
        XCTAssertFalse(text.lowercased().contains("transfer-encoding"), text)
        XCTAssertTrue(text.contains("connection: close\r\n"), text)
    }

    func testChunkedResponseIsReframedForClient() async throws {
        let client = try await TestClient.connect(port: gateway.port, group: clientGroup)
        let response = try await client.request(.GET, "/chunked")
        XCTAssertEqual(response.bodyText, "one,two,three")
        XCTAssertEqual(response.header("transfer-encoding"), "chunked")
        await client.close()
    }

    func testBodyOverListenerLimitIs413WhileStreaming() async throws {
        await gateway.stop()
        gateway = try await TestGateway.start(
            upstreams: [UpstreamConfig(name: "u", endpoints: [endpoint(upstream)])],
            routes: [prefixRoute("all", "/", upstream: "u")],
            listener: ListenerConfig(
                name: "test", address: HostPort(host: "127.0.0.1", port: 0), limits: ListenerLimits(maxBody: 1000)))
        let declared = try await TestClient.connect(port: gateway.port, group: clientGroup)
        let tooLong = try await declared.request(.POST, "/upload", body: ByteBuffer(repeating: 1, count: 1001))
        XCTAssertEqual(tooLong.status, .payloadTooLarge)

        let chunked = try await TestClient.connect(port: gateway.port, group: clientGroup)
        let response = try await chunked.request(
            .POST, "/upload", headers: [("host", "a"), ("transfer-encoding", "chunked")],
            body: ByteBuffer(repeating: 1, count: 5000))
        XCTAssertEqual(response.status, .payloadTooLarge)
        XCTAssertTrue(response.bodyText.contains("\"error\":\"payload_too_large\""))

        let fits = try await TestClient.connect(port: gateway.port, group: clientGroup)
        let ok = try await fits.request(.POST, "/upload", body: ByteBuffer(repeating: 1, count: 1000))
        XCTAssertEqual(ok.bodyText, "1000")
    }
}

/// Peak resident set of this process (VmHWM), which includes the gateway, upstream and client.
func peakResidentBytes() -> Int {
    guard let file = fopen("/proc/self/status", "r") else { return 0 }
    defer { fclose(file) }
    var line = [CChar](repeating: 0, count: 256)
    while fgets(&line, Int32(line.count), file) != nil {
        let text = String(decoding: line.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if text.hasPrefix("VmHWM:") {
            let digits = text.filter(\.isNumber)
            return (Int(digits) ?? 0) * 1024
        }
    }
    return 0
}
