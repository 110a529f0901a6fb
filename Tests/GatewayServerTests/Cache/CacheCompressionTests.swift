import Compression
import GatewayConfig
import NIOCore
import NIOHTTP1
import NIOPosix
import XCTest

@testable import GatewayServer

/// Stored responses kept encoded once (br, gzip) and negotiated per client.
final class CacheCompressionTests: XCTestCase {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let json = String(repeating: #"{"id": 12345, "name": "compressible"},"#, count: 200)

    override func tearDown() async throws {
        try await group.shutdownGracefully()
    }

    private func start() async throws -> CacheFixture {
        let json = self.json
        return try await CacheFixture.start(
            cache: CacheConfig(compression: CompressionConfig()),
            origin: { request in
                var headers = [("cache-control", "max-age=60"), ("etag", "\"j1\"")]
                switch request.uri {
                case "/image": headers.append(("content-type", "image/png"))
                case "/small": return .init(headers: headers + [("content-type", "application/json")], body: "{}")
                case "/gzipped":
                    var response = ScriptedOrigin.Response(
                        headers: headers + [("content-type", "application/json"), ("content-encoding", "gzip")])
                    response.binaryBody = Gzip.compress(Array(json.utf8))
                    return response
                case "/notransform": headers += [("content-type", "text/plain"), ("cache-control", "no-transform")]
                default: headers.append(("content-type", "application/json; charset=utf-8"))
                }
                return .init(headers: headers, body: json)
            }, group: group)
    }

    private func storeAndCompress(_ fixture: CacheFixture, _ path: String, count: Int) async throws {
        _ = try await fixture.get(path)
        try await bounded(
            fixture.gateway.server.cache.compressionsFinished(count, on: group.next()), "compression of \(path)"
        ).get()
    }

    func testClientsGetTheCodingTheyPrefer() async throws {
        let fixture = try await start()
        try await storeAndCompress(fixture, "/data", count: 1)

        let brotli = try await fixture.get("/data", [("accept-encoding", "gzip, deflate, br")])
        XCTAssertEqual(brotli.header("content-encoding"), "br")
        XCTAssertEqual(brotli.header("vary"), "Accept-Encoding")
        XCTAssertEqual(brotli.header("etag"), "\"j1-br\"")
        XCTAssertLessThan(brotli.body.readableBytes, json.utf8.count / 5)
        XCTAssertEqual(brotli.header("content-length"), String(brotli.body.readableBytes))
        XCTAssertEqual(Brotli.decompress(Array(brotli.body.readableBytesView)), Array(json.utf8))

        let gzip = try await fixture.get("/data", [("accept-encoding", "gzip;q=1.0, br;q=0.5")])
        XCTAssertEqual(gzip.header("content-encoding"), "gzip")
        XCTAssertEqual(gzip.header("etag"), "\"j1-gzip\"")
        XCTAssertEqual(Gzip.decompress(Array(gzip.body.readableBytesView)), Array(json.utf8))

        let identity = try await fixture.get("/data")
        XCTAssertNil(identity.header("content-encoding"))
        XCTAssertEqual(identity.header("vary"), "Accept-Encoding")
        XCTAssertEqual(identity.header("etag"), "\"j1\"")
        XCTAssertEqual(identity.bodyText, json)

        let head = try await fixture.client.request(
            .HEAD, "/data", headers: [("host", "test"), ("accept-encoding", "br")])
        XCTAssertEqual(head.header("content-length"), brotli.header("content-length"))
        XCTAssertEqual(fixture.origin.requestCount, 1)
        await fixture.stop()
    }

    func testConditionalAndRangeRequestsOnEncodedEntries() async throws {
        let fixture = try await start()
        try await storeAndCompress(fixture, "/data", count: 1)
        let notModified = try await fixture.get("/data", [("accept-encoding", "br"), ("if-none-match", "\"j1-br\"")])
        XCTAssertEqual(notModified.status, .notModified)
        XCTAssertEqual(notModified.header("etag"), "\"j1-br\"")
        XCTAssertNil(notModified.header("content-encoding"))
        // A range is cut from the identity body, never from an encoded one.
        let range = try await fixture.get("/data", [("accept-encoding", "br"), ("range", "bytes=0-9")])
        XCTAssertEqual(range.status, .partialContent)
        XCTAssertNil(range.header("content-encoding"))
        XCTAssertEqual(range.bodyText, String(json.prefix(10)))
        await fixture.stop()
    }

    func testWhatIsNotCompressed() async throws {
        let fixture = try await start()
        for (index, path) in ["/image", "/small", "/gzipped", "/notransform"].enumerated() {
            try await storeAndCompress(fixture, path, count: index + 1)
            let response = try await fixture.get(path, [("accept-encoding", "br, gzip")])
            XCTAssertEqual(response.header("x-cache"), "HIT", path)
            XCTAssertNil(response.header("vary"), path)
            if path == "/gzipped" {
                XCTAssertEqual(response.header("content-encoding"), "gzip", "the origin's coding is kept, not doubled")
                XCTAssertEqual(Gzip.decompress(Array(response.body.readableBytesView)), Array(json.utf8))
            } else {
                XCTAssertNil(response.header("content-encoding"), path)
            }
        }
        await fixture.stop()
    }
}
