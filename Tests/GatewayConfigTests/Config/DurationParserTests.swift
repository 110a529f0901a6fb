import XCTest

@testable import GatewayConfig

final class DurationParserTests: XCTestCase {
    func testSingleUnits() {
        XCTAssertEqual(UnitParser.parseDuration("100us"), .microseconds(100))
        XCTAssertEqual(UnitParser.parseDuration("250ms"), .milliseconds(250))
        XCTAssertEqual(UnitParser.parseDuration("5s"), .seconds(5))
        XCTAssertEqual(UnitParser.parseDuration("2m"), .seconds(120))
        XCTAssertEqual(UnitParser.parseDuration("1h"), .seconds(3_600))
        XCTAssertEqual(UnitParser.parseDuration("1d"), .seconds(86_400))
        XCTAssertEqual(UnitParser.parseDuration("0s"), .zero)
    }

    func testCompositesInDecreasingOrder() {
        XCTAssertEqual(UnitParser.parseDuration("1m30s"), .seconds(90))
        XCTAssertEqual(UnitParser.parseDuration("1h30m"), .seconds(5_400))
        XCTAssertEqual(UnitParser.parseDuration("1d2h3m4s5ms6us"), .microseconds(93_784_005_006))
        XCTAssertEqual(UnitParser.parseDuration("1s500ms"), .milliseconds(1_500))
    }

    func testRejectsMalformed() {
        for text in [
            "", "5", "0", "s", "5 s", " 5s", "5s ", "-5s", "+5s", "1.5s", "5sec", "5S", "5mss", "30s1m", "1s1s",
            "1m30", "5ns", "fast", "1e3s",
        ] {
            XCTAssertNil(UnitParser.parseDuration(text), text)
        }
    }

    func testRejectsOverflow() {
        XCTAssertNil(UnitParser.parseDuration("99999999999999999999s"))
        XCTAssertNil(UnitParser.parseDuration("9223372036854775807d"))
        // Int64 microseconds end 4h15m into day 106751991.
        XCTAssertNil(UnitParser.parseDuration("106751991d5h"))
        XCTAssertNil(UnitParser.parseDuration("106751992d"))
        XCTAssertNotNil(UnitParser.parseDuration("106751991d4h"))
    }

    func testBareNumberDetectionForTheHint() {
        XCTAssertTrue(UnitParser.isBareNumber("30"))
        XCTAssertTrue(UnitParser.isBareNumber("1.5"))
        XCTAssertFalse(UnitParser.isBareNumber("30s"))
        XCTAssertFalse(UnitParser.isBareNumber(""))
    }
}
