import XCTest

@testable import GatewayServer

final class JSONParserTests: XCTestCase {
    func parse(_ text: String) throws -> JSONValue { try JSONParser.parse(Array(text.utf8)) }

    func testValues() throws {
        XCTAssertEqual(
            try parse(#" {"a": [1, -2, true, false, null], "b": {"c": "d\n\"\u00e9\ud83d\ude00"}} "#),
            .object([
                ("a", .array([.int(1), .int(-2), .bool(true), .bool(false), .null])),
                ("b", .object([("c", .string("d\n\"é😀"))])),
            ]))
        XCTAssertEqual(try parse("[]"), .array([]))
        XCTAssertEqual(try parse("{}"), .object([]))
    }

    func testRejects() {
        for text in [
            "", "{", "[1,]", "{\"a\" 1}", "{\"a\":1,}", "1.5", "1e3", "\"a", "\"\\x\"", "tru", "[1] 2", "{a:1}",
            "\"\u{01}\"", String(repeating: "[", count: 40) + String(repeating: "]", count: 40),
        ] {
            XCTAssertThrowsError(try parse(text), text)
        }
    }
}
