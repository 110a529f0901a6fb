import XCTest

@testable import GatewayConfig

final class CIDRParserTests: XCTestCase {
    private let mapped: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF]

    func testIPv4IsStoredMapped() throws {
        let cidr = try XCTUnwrap(UnitParser.parseCIDR("10.0.0.0/8"))
        XCTAssertEqual(cidr.network, mapped + [10, 0, 0, 0])
        XCTAssertEqual(cidr.prefixLength, 104)
        XCTAssertEqual(cidr.description, "10.0.0.0/8")
    }

    func testBareAddressIsAFullLengthPrefix() throws {
        XCTAssertEqual(UnitParser.parseCIDR("127.0.0.1")?.prefixLength, 128)
        XCTAssertEqual(UnitParser.parseCIDR("127.0.0.1")?.description, "127.0.0.1/32")
        let v6 = try XCTUnwrap(UnitParser.parseCIDR("::1"))
        XCTAssertEqual(v6.network, [UInt8](repeating: 0, count: 15) + [1])
        XCTAssertEqual(v6.prefixLength, 128)
    }

    func testIPv6Networks() throws {
        let cidr = try XCTUnwrap(UnitParser.parseCIDR("2001:db8::/32"))
        XCTAssertEqual(cidr.network, [0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 12))
        XCTAssertEqual(cidr.prefixLength, 32)
        XCTAssertEqual(UnitParser.parseCIDR("::/0")?.prefixLength, 0)
        XCTAssertEqual(UnitParser.parseCIDR("0.0.0.0/0")?.prefixLength, 96)
        XCTAssertEqual(UnitParser.parseCIDR("1:2:3:4:5:6:7:8/128")?.network.last, 8)
    }

    func testRejectsHostBitsWithACanonicalHint() {
        XCTAssertNil(UnitParser.parseCIDR("10.0.0.1/8"))
        XCTAssertEqual(UnitParser.parseCIDRDetailed("10.1.2.3/16"), .failure(.hostBitsSet(canonical: "10.1.0.0/16")))
        XCTAssertEqual(
            UnitParser.parseCIDRDetailed("2001:db8::1/32"), .failure(.hostBitsSet(canonical: "2001:db8::/32")))
    }

    func testRejectsMalformed() {
        for text in [
            "", "/8", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0.0/-1", "10.0.0.0/8/8", "10.0.0/8", "256.0.0.0/8",
            "1:2:3:4:5:6:7:8:9", "1::2::3", ":::", "12345::", "g::", "10.0.0.0/08x", "::ffff:1.2.3/128", "fe80::1%eth0",
        ] {
            XCTAssertNil(UnitParser.parseCIDR(text), text)
        }
    }

    func testContains() throws {
        let v4 = try XCTUnwrap(UnitParser.parseCIDR("192.168.0.0/16"))
        XCTAssertTrue(v4.contains(mapped + [192, 168, 3, 4]))
        XCTAssertFalse(v4.contains(mapped + [192, 169, 0, 0]))
        XCTAssertFalse(v4.contains([192, 168, 3, 4]))
        let everything = try XCTUnwrap(UnitParser.parseCIDR("::/0"))
        XCTAssertTrue(everything.contains(mapped + [8, 8, 8, 8]))
        let odd = try XCTUnwrap(UnitParser.parseCIDR("10.0.0.0/9"))
        XCTAssertTrue(odd.contains(mapped + [10, 127, 255, 255]))
        XCTAssertFalse(odd.contains(mapped + [10, 128, 0, 0]))
    }

    func testFormatIPv6() {
        XCTAssertEqual(IPAddress.formatIPv6([UInt8](repeating: 0, count: 16)), "::")
        XCTAssertEqual(IPAddress.formatIPv6([UInt8](repeating: 0, count: 15) + [1]), "::1")
        XCTAssertEqual(IPAddress.formatIPv6([0, 1] + [UInt8](repeating: 0, count: 14)), "1::")
        XCTAssertEqual(IPAddress.formatIPv6([0, 1, 0, 0, 0, 2] + [UInt8](repeating: 0, count: 10)), "1:0:2::")
    }
}
