import XCTest

@testable import GatewayConfig

final class RateParserTests: XCTestCase {
    func testUnits() {
        XCTAssertEqual(UnitParser.parseRate("100/s"), Rate(count: 100, period: .seconds(1)))
        XCTAssertEqual(UnitParser.parseRate("6000/min"), Rate(count: 6_000, period: .seconds(60)))
        XCTAssertEqual(UnitParser.parseRate("10/m"), Rate(count: 10, period: .seconds(60)))
        XCTAssertEqual(UnitParser.parseRate("5/h"), Rate(count: 5, period: .seconds(3_600)))
        XCTAssertEqual(UnitParser.parseRate("1/d"), Rate(count: 1, period: .seconds(86_400)))
    }

    func testRejectsMalformed() {
        for text in [
            "", "100", "/s", "0/s", "-1/s", "1.5/s", "100/", "100/ms", "100/sec", "100 /s", "100/s/s", "100/S",
            "99999999999999999999/s",
        ] {
            XCTAssertNil(UnitParser.parseRate(text), text)
        }
    }
}
