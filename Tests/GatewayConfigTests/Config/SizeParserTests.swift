import XCTest

@testable import GatewayConfig

final class SizeParserTests: XCTestCase {
    func testUnits() {
        XCTAssertEqual(UnitParser.parseSize("0"), 0)
        XCTAssertEqual(UnitParser.parseSize("512"), 512)
        XCTAssertEqual(UnitParser.parseSize("512B"), 512)
        XCTAssertEqual(UnitParser.parseSize("32KiB"), 32 * 1024)
        XCTAssertEqual(UnitParser.parseSize("10MiB"), 10 * 1024 * 1024)
        XCTAssertEqual(UnitParser.parseSize("2GiB"), 2 * 1024 * 1024 * 1024)
        XCTAssertEqual(UnitParser.parseSize("1KB"), 1_000)
        XCTAssertEqual(UnitParser.parseSize("5MB"), 5_000_000)
        XCTAssertEqual(UnitParser.parseSize("3GB"), 3_000_000_000)
    }

    func testRejectsMalformed() {
        for text in ["", "KiB", "1.5MiB", "10 MiB", "10kib", "10Mb", "10K", "10TiB", "-1", "+1", "1MiB1", "ten"] {
            XCTAssertNil(UnitParser.parseSize(text), text)
        }
    }

    func testRejectsOverflow() {
        XCTAssertEqual(UnitParser.parseSize("9223372036854775807"), Int.max)
        XCTAssertNil(UnitParser.parseSize("9223372036854775808"))
        XCTAssertNil(UnitParser.parseSize("8589934592GiB"))
        XCTAssertEqual(UnitParser.parseSize("8589934591GiB"), 8_589_934_591 << 30)
        guard case .failure(.tooLarge) = UnitParser.parseSizeDetailed("99999999999999999999KB") else {
            return XCTFail("expected tooLarge")
        }
    }
}
