import GatewayConfig
import NIOCore
import NIOHTTP1
import NIOPosix
import XCTest

@testable import GatewayServer

/// Range requests answered from stored full objects.
final class CacheRangeTests: XCTestCase {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    /// 1000 bytes: "0000000000111..." so every slice says where it came from.
    let body = (0..<100).map { String(repeating: String($0 % 10), count: 10) }.joined()

    override func tearDown() async throws {
        try await group.shutdownGracefully()
    }

    private func start() async throws -> CacheFixture {
        let body = self.body
        return try await CacheFixture.start(
            origin: { _ in
                .init(
                    headers: [("cache-control", "max-age=60"), ("etag", "\"r1\""), ("content-type", "text/plain")],
                    body: body)
            }, group: group)
    }

    private func slice(_ range: ClosedRange<Int>) -> String {
        String(body.dropFirst(range.lowerBound).prefix(range.count))
    }

    func testARangeOnAMissFetchesTheWholeObjectAndAnswersThePart() async throws {
        let fixture = try await start()
        let miss = try await fixture.get("/file", [("range", "bytes=10-29")])
        XCTAssertEqual(miss.status, .partialContent)
        XCTAssertEqual(miss.bodyText, slice(10...29))
        XCTAssertEqual(miss.header("content-range"), "bytes 10-29/1000")
        XCTAssertEqual(miss.header("x-cache"), "MISS")
        XCTAssertNil(fixture.origin.requests.first?.headers.first(name: "range"), "the cache fetches the whole object")
        let hit = try await fixture.get("/file", [("range", "bytes=-5")])
        XCTAssertEqual(hit.status, .partialContent)
        XCTAssertEqual(hit.bodyText, slice(995...999))
        XCTAssertEqual(hit.header("x-cache"), "HIT")
        XCTAssertEqual(hit.header("content-length"), "5")
        XCTAssertEqual(fixture.origin.requestCount, 1)
        await fixture.stop()
    }

    func testSeveralRangesMakeAMultipartAnswer() async throws {
        let fixture = try await start()
        _ = try await fixture.get("/file")
        let response = try await fixture.get("/file", [("range", "bytes=0-9, 500-509")])
        XCTAssertEqual(response.status, .partialContent)
        let contentType = try XCTUnwrap(response.header("content-type"))
        XCTAssertTrue(contentType.hasPrefix("multipart/byteranges; boundary="), contentType)
        let boundary = String(contentType.dropFirst("multipart/byteranges; boundary=".count))
        let text = response.bodyText
        XCTAssertTrue(
            text.contains(
                "--\(boundary)\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-9/1000\r\n\r\n\(slice(0...9))"))
        XCTAssertTrue(text.contains("Content-Range: bytes 500-509/1000\r\n\r\n\(slice(500...509))"))
        XCTAssertTrue(text.hasSuffix("\r\n--\(boundary)--\r\n"))
        XCTAssertEqual(response.header("content-length"), String(response.body.readableBytes))
        await fixture.stop()
    }

    func testUnsatisfiableAndIgnoredRanges() async throws {
        let fixture = try await start()
        _ = try await fixture.get("/file")
        let unsatisfiable = try await fixture.get("/file", [("range", "bytes=5000-")])
        XCTAssertEqual(unsatisfiable.status, .rangeNotSatisfiable)
        XCTAssertEqual(unsatisfiable.header("content-range"), "bytes */1000")
        XCTAssertEqual(unsatisfiable.body.readableBytes, 0)
        let malformed = try await fixture.get("/file", [("range", "bytes=x-y")])
        XCTAssertEqual(malformed.status, .ok)
        XCTAssertEqual(malformed.body.readableBytes, 1000)
        await fixture.stop()
    }

    func testIfRangeNeedsTheCurrentVersion() async throws {
        let fixture = try await start()
        _ = try await fixture.get("/file")
        let current = try await fixture.get("/file", [("range", "bytes=0-0"), ("if-range", "\"r1\"")])
        XCTAssertEqual(current.status, .partialContent)
        let old = try await fixture.get("/file", [("range", "bytes=0-0"), ("if-range", "\"r0\"")])
        XCTAssertEqual(old.status, .ok)
        XCTAssertEqual(old.body.readableBytes, 1000)
        let weak = try await fixture.get("/file", [("range", "bytes=0-0"), ("if-range", "W/\"r1\"")])
        XCTAssertEqual(weak.status, .ok, "If-Range compares strongly")
        await fixture.stop()
    }
}
