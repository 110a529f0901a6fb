import XCTest

@testable import LoadBalancing

final class StableHashTests: XCTestCase {
    /// Published XXH64 vectors (seed 0). If one of these changes, every sticky key of the fleet moves.
    func testKnownAnswers() {
        let vectors: [(String, UInt64)] = [
            ("", 0xEF46_DB37_51D8_E999),
            ("a", 0xD24E_C4F1_A98C_6E5B),
            ("as", 0x1C33_0FB2_D66B_E179),
            ("asd", 0x631C_37CE_72A9_7393),
            ("abc", 0x44BC_2CF5_AD77_0999),
            ("asdf", 0x4158_72F5_99CE_A71E),
            ("Call me Ishmael.", 0x6D04_390F_C9D6_1A90),
            ("Nobody inspects the spammish repetition", 0xFBCE_A83C_8A37_8BF1),
            ("Some years ago--never mind how long precisely-", 0x8F26_F2B9_86AF_DC52),
        ]
        for (input, expected) in vectors {
            XCTAssertEqual(StableHash.hash(input.utf8), expected, "xxh64(\"\(input)\")")
            XCTAssertEqual(StableHash.hash(input[...]), expected, "xxh64(\"\(input)\") as Substring")
            XCTAssertEqual(StableHash.hash(Array(input.utf8)), expected, "xxh64(\"\(input)\") as [UInt8]")
        }
    }

    /// The sanity vectors of xxHash's own CLI (xsum_sanity_check): lengths 0, 1, 14 and 101, seeds 0 and PRIME32_1.
    func testReferenceSanityVectors() {
        let prime: UInt32 = 2_654_435_761
        var generator = prime
        var buffer = [UInt8]()
        for _ in 0..<101 {
            buffer.append(UInt8(truncatingIfNeeded: generator >> 24))
            generator = generator &* generator
        }
        let vectors: [(Int, UInt64, UInt64)] = [
            (0, 0, 0xEF46_DB37_51D8_E999),
            (0, UInt64(prime), 0xAC75_FDA2_929B_17EF),
            (1, 0, 0x4FCE_394C_C889_52D8),
            (1, UInt64(prime), 0x7398_40CB_819F_A723),
            (14, 0, 0xCFFA_8DB8_81BC_3A3D),
            (14, UInt64(prime), 0x5B96_1158_5EFC_C9CB),
            (101, 0, 0x0EAB_5433_84F8_78AD),
            (101, UInt64(prime), 0xCAA6_5939_306F_1E21),
        ]
        for (length, seed, expected) in vectors {
            XCTAssertEqual(StableHash.hash(buffer[0..<length], seed: seed), expected, "length \(length) seed \(seed)")
            XCTAssertEqual(
                StableHash.hash(buffer[0..<length].lazy.map { $0 }, seed: seed),
                expected,
                "streamed, length \(length) seed \(seed)"
            )
        }
    }

    func testStreamingMatchesOneShotForEveryTailLength() {
        var random = FastRandom(seed: 7)
        for length in 0...200 {
            let bytes = (0..<length).map { _ in UInt8.random(in: .min ... .max, using: &random) }
            // `lazy.map` has no contiguous storage, which forces the byte-by-byte path.
            XCTAssertEqual(StableHash.hash(bytes.lazy.map { $0 }), StableHash.hash(bytes), "length \(length)")
        }
    }

    func testSubstringHashesItsOwnBytesOnly() {
        let header = "session=abc123; theme=dark"
        guard let end = header.firstIndex(of: ";") else { return XCTFail("no separator") }
        let value = header[header.index(header.startIndex, offsetBy: 8)..<end]
        XCTAssertEqual(StableHash.hash(value), StableHash.hash("abc123".utf8))
    }

    func testIPv4AndIPv6BytesHashDistinctly() {
        let v4: [UInt8] = [10, 0, 0, 1]
        let v6: [UInt8] = [0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 11) + [1]
        XCTAssertNotEqual(StableHash.hash(v4), StableHash.hash(v6))
        XCTAssertEqual(StableHash.hash(v4), StableHash.hash([10, 0, 0, 1] as [UInt8]))
    }
}
