import XCTest

@testable import Redis

/// The slot function against the Cluster specification's own examples; agreement with a real
/// cluster's CLUSTER KEYSLOT is checked in RedisClusterClientTests.
final class HashSlotTests: XCTestCase {
    func testCRC16IsTheXMODEMVariant() {
        XCTAssertEqual(HashSlot.crc16(Array("123456789".utf8)), 0x31C3)
        XCTAssertEqual(HashSlot.crc16([UInt8]()), 0)
        XCTAssertEqual(HashSlot.crc16(Array("foo".utf8)), 0xAF96)
    }

    func testSlotsOfPlainKeys() {
        XCTAssertEqual(HashSlot.slot(of: "foo"), 12182)
        XCTAssertEqual(HashSlot.slot(of: "bar"), 5061)
        XCTAssertEqual(HashSlot.slot(of: "hello"), 866)
        XCTAssertEqual(HashSlot.slot(of: "123456789"), 0x31C3 % 16384)
        XCTAssertEqual(HashSlot.slot(of: ""), 0)
    }

    func testHashTags() {
        XCTAssertEqual(HashSlot.slot(of: "{user1000}.following"), HashSlot.slot(of: "{user1000}.followers"))
        XCTAssertEqual(HashSlot.slot(of: "{user1000}.following"), HashSlot.slot(of: "user1000"))
        // Only the first { counts, and the first } after it.
        XCTAssertEqual(HashSlot.slot(of: "foo{{bar}}zap"), HashSlot.slot(of: "{bar"))
        XCTAssertEqual(HashSlot.slot(of: "foo{bar}{zap}"), HashSlot.slot(of: "bar"))
        // An empty tag, or none closed, means the whole key is hashed.
        XCTAssertEqual(HashSlot.slot(of: "foo{}{bar}"), Int(HashSlot.crc16(Array("foo{}{bar}".utf8)) % 16384))
        XCTAssertEqual(HashSlot.slot(of: "foo{}{bar}"), 8363)
        XCTAssertEqual(HashSlot.slot(of: "foo{bar"), Int(HashSlot.crc16(Array("foo{bar".utf8)) % 16384))
        XCTAssertEqual(HashSlot.slot(of: "foo}bar{"), Int(HashSlot.crc16(Array("foo}bar{".utf8)) % 16384))
        XCTAssertEqual(Array(HashSlot.hashedPart(of: Array("a{b}c".utf8))), Array("b".utf8))
        XCTAssertEqual(Array(HashSlot.hashedPart(of: Array("{}".utf8))), Array("{}".utf8))
        XCTAssertEqual(Array(HashSlot.hashedPart(of: Array("}{".utf8))), Array("}{".utf8))
    }

    func testBinaryKeys() {
        let key: [UInt8] = [0, 255, UInt8(ascii: "{"), 1, 2, UInt8(ascii: "}"), 0]
        XCTAssertEqual(HashSlot.slot(of: key), HashSlot.slot(of: [1, 2]))
    }

    func testEveryKeyOfOneCallMustShareASlot() throws {
        XCTAssertNil(try HashSlot.commonSlot(of: []))
        let keys = ["{user1000}.following", "{user1000}.followers", "user1000"].map { Array($0.utf8) }
        XCTAssertEqual(try HashSlot.commonSlot(of: keys), HashSlot.slot(of: "user1000"))
        XCTAssertThrowsError(try HashSlot.commonSlot(of: [Array("foo".utf8), Array("bar".utf8)])) { error in
            guard case RedisError.protocolError(let message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.hasPrefix("CROSSSLOT"), message)
        }
    }
}
