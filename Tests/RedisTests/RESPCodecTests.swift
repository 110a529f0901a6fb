import XCTest

@testable import Redis

final class RESPCodecTests: XCTestCase {
    func decodeAll(_ text: String) throws -> [RESPValue] {
        let decoder = RESPDecoder()
        try decoder.feed(Array(text.utf8))
        var values: [RESPValue] = []
        while let value = try decoder.next() { values.append(value) }
        return values
    }

    func testEveryReplyType() throws {
        let wire =
            "+OK\r\n-ERR wrong\r\n:42\r\n:-7\r\n$5\r\nhe\0lo\r\n$0\r\n\r\n$-1\r\n*-1\r\n*0\r\n"
            + "*3\r\n:1\r\n*2\r\n+a\r\n$1\r\nb\r\n$-1\r\n"
        XCTAssertEqual(
            try decodeAll(wire),
            [
                .simpleString("OK"), .error("ERR wrong"), .integer(42), .integer(-7),
                .bulkString(Array("he\0lo".utf8)), .bulkString([]), .null, .null, .array([]),
                .array([.integer(1), .array([.simpleString("a"), .bulkString([98])]), .null]),
            ])
    }

    func testPartialInputFedByteByByte() throws {
        let wire = Array("*2\r\n$3\r\nfoo\r\n:123\r\n+PONG\r\n".utf8)
        let decoder = RESPDecoder()
        var values: [RESPValue] = []
        for (index, byte) in wire.enumerated() {
            try decoder.feed([byte])
            while let value = try decoder.next() {
                values.append(value)
                XCTAssertTrue(index == 18 || index == wire.count - 1, "a reply completed early, at byte \(index)")
            }
        }
        XCTAssertEqual(values, [.array([.bulkString(Array("foo".utf8)), .integer(123)]), .simpleString("PONG")])
    }

    func testMalformedInputIsAnErrorAndStaysOne() throws {
        for wire in ["?what\r\n", ":12a\r\n", "$abc\r\n", "*x\r\n", "$3\r\nfoobar\r\n"] {
            let decoder = RESPDecoder()
            XCTAssertThrowsError(
                try {
                    try decoder.feed(Array(wire.utf8))
                    while try decoder.next() != nil {}
                }(), wire)
            XCTAssertThrowsError(try decoder.next(), "the stream cannot resynchronise: \(wire)")
        }
    }

    func testRandomBytesNeverCrash() {
        var state: UInt64 = 99
        for _ in 0..<2000 {
            let decoder = RESPDecoder()
            let length = Int(state % 40)
            var bytes: [UInt8] = []
            let alphabet = Array("*$:+-\r\n0123456789-ab".utf8)
            for _ in 0..<length {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                bytes.append(alphabet[Int(state >> 33) % alphabet.count])
            }
            _ = try? decoder.feed(bytes)
            while (try? decoder.next()) != nil {}
        }
    }

    func testCommandsAreEncodedAsArraysOfBulkStrings() throws {
        let encoded = try RESPEncoder.encode([Array("SET".utf8), Array("k\r\n".utf8), [0, 255]])
        XCTAssertEqual(encoded, Array("*3\r\n$3\r\nSET\r\n$3\r\nk\r\n\r\n$2\r\n".utf8) + [0, 255] + Array("\r\n".utf8))
        let decoder = RESPDecoder()
        try decoder.feed(encoded)
        XCTAssertEqual(
            try decoder.next(),
            .array([.bulkString(Array("SET".utf8)), .bulkString(Array("k\r\n".utf8)), .bulkString([0, 255])]))
        XCTAssertEqual(try RESPEncoder.encode(["PING"]), Array("*1\r\n$4\r\nPING\r\n".utf8))
    }
}
