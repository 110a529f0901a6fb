import TestSupport
import XCTest

@testable import HTTPCaching

final class HTTPDateTests: XCTestCase {
    /// RFC 9110 5.6.7's example instant in its three forms.
    func testTheThreeFormsOfTheRFCExample() {
        let expected: Int64 = 784_111_777
        XCTAssertEqual(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT"), expected)
        XCTAssertEqual(HTTPDate.parse("Sunday, 06-Nov-94 08:49:37 GMT"), expected)
        XCTAssertEqual(HTTPDate.parse("Sun Nov  6 08:49:37 1994"), expected)
        XCTAssertEqual(HTTPDate.format(expected), "Sun, 06 Nov 1994 08:49:37 GMT")
    }

    func testFormatAndParseRoundTripAcrossYearsAndLeapDays() {
        var generator = SplitMix64(seed: 42)
        for _ in 0..<2000 {
            let instant = Int64(generator.next() % 8_000_000_000)  // until about 2223
            XCTAssertEqual(HTTPDate.parse(HTTPDate.format(instant)), instant, HTTPDate.format(instant))
        }
        XCTAssertEqual(HTTPDate.format(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT")
        XCTAssertEqual(HTTPDate.parse("Tue, 29 Feb 2000 00:00:00 GMT"), 951_782_400)
        XCTAssertEqual(HTTPDate.format(0), "Thu, 01 Jan 1970 00:00:00 GMT")
    }

    /// Found by fuzz/run.sh (FuzzCacheHeaders): a year before 1000 was written with three digits,
    /// which no HTTP-date parser reads back.
    func testYearsBeforeOneThousandAreWrittenWithFourDigits() {
        let parsed = HTTPDate.parse("Sun Nov  6 08:49:37 0997")
        XCTAssertEqual(parsed, -30_678_102_623)
        let formatted = parsed.map(HTTPDate.format)
        XCTAssertEqual(formatted, "Mon, 06 Nov 0997 08:49:37 GMT")
        XCTAssertEqual(formatted.flatMap(HTTPDate.parse), parsed)
    }

    func testInvalidDatesAreRejected() {
        for text in [
            "0", "", "-1", "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 31 Feb 1994 08:49:37 GMT",
            "Sun, 29 Feb 1900 08:49:37 GMT", "Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 6 Nov 1994 08:49:37 GMT",
            "Xyz, 06 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 GMT ", "Sun, 06 Foo 1994 08:49:37 GMT",
        ] {
            XCTAssertNil(HTTPDate.parse(text), text)
        }
    }

    func testTwoDigitYearsOfTheObsoleteForm() {
        XCTAssertEqual(HTTPDate.parse("Thursday, 01-Jan-70 00:00:00 GMT"), 0)
        XCTAssertEqual(HTTPDate.parse("Wednesday, 01-Jan-25 00:00:00 GMT"), 1_735_689_600)
    }
}
