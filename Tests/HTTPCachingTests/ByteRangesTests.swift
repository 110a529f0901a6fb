import XCTest

@testable import HTTPCaching

final class ByteRangesTests: XCTestCase {
    func testSingleRanges() {
        XCTAssertEqual(ByteRanges.parse("bytes=0-99", length: 1000), .satisfiable([0...99]))
        XCTAssertEqual(ByteRanges.parse("bytes=900-", length: 1000), .satisfiable([900...999]))
        XCTAssertEqual(ByteRanges.parse("bytes=-100", length: 1000), .satisfiable([900...999]))
        XCTAssertEqual(ByteRanges.parse("bytes=-5000", length: 1000), .satisfiable([0...999]))
        XCTAssertEqual(ByteRanges.parse("bytes=990-5000", length: 1000), .satisfiable([990...999]))
        XCTAssertEqual(ByteRanges.parse(" Bytes=0-0 ", length: 1), .satisfiable([0...0]))
    }

    func testSeveralRangesAreSortedAndMerged() {
        XCTAssertEqual(
            ByteRanges.parse("bytes=500-599, 0-9, 5-20, 21-30", length: 1000), .satisfiable([0...30, 500...599]))
        XCTAssertEqual(ByteRanges.parse("bytes=0-0,-1", length: 10), .satisfiable([0...0, 9...9]))
    }

    func testUnsatisfiable() {
        XCTAssertEqual(ByteRanges.parse("bytes=1000-", length: 1000), .unsatisfiable)
        XCTAssertEqual(ByteRanges.parse("bytes=1000-2000, 3000-", length: 1000), .unsatisfiable)
        XCTAssertEqual(ByteRanges.parse("bytes=-0", length: 1000), .unsatisfiable)
        XCTAssertEqual(ByteRanges.parse("bytes=0-", length: 0), .unsatisfiable)
    }

    func testIgnored() {
        for value in [
            nil, "", "items=0-9", "bytes=", "bytes=a-b", "bytes=9-1", "bytes=0-9;x", "bytes=--1", "bytes=1",
            "bytes=99999999999999999999-", "bytes=" + Array(repeating: "0-1", count: 17).joined(separator: ","),
        ] {
            XCTAssertEqual(ByteRanges.parse(value, length: 1000), .ignore, value ?? "nil")
        }
    }
}
