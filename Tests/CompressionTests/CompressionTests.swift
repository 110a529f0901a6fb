import XCTest

@testable import Compression

final class CompressionTests: XCTestCase {
    let text = Array(
        String(repeating: "{\"id\": 12345, \"name\": \"a compressible JSON document\"},\n", count: 400).utf8)

    func testBrotliRoundTripAndShrinks() throws {
        let compressed = try XCTUnwrap(Brotli.compress(text))
        XCTAssertLessThan(compressed.count, text.count / 10)
        XCTAssertEqual(Brotli.decompress(compressed), text)
        XCTAssertEqual(Brotli.decompress(try XCTUnwrap(Brotli.compress([]))), [])
        XCTAssertNil(Brotli.decompress([1, 2, 3, 4, 5]))
    }

    func testGzipRoundTripAndShrinks() throws {
        let compressed = try XCTUnwrap(Gzip.compress(text))
        XCTAssertLessThan(compressed.count, text.count / 10)
        XCTAssertEqual(Array(compressed.prefix(2)), [0x1F, 0x8B], "a gzip member, not a zlib stream")
        XCTAssertEqual(Gzip.decompress(compressed), text)
        XCTAssertNil(Gzip.decompress([0x1F, 0x8B, 0, 0]))
    }

    func testIncompressibleInputStillRoundTrips() throws {
        var generator = SystemRandomNumberGenerator()
        let noise = (0..<10_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        XCTAssertEqual(Brotli.decompress(try XCTUnwrap(Brotli.compress(noise))), noise)
        XCTAssertEqual(Gzip.decompress(try XCTUnwrap(Gzip.compress(noise))), noise)
    }
}
