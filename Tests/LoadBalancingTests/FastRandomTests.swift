import XCTest

@testable import LoadBalancing

final class FastRandomTests: XCTestCase {
    /// The reference xoshiro256** outputs for state {1, 2, 3, 4} (as in the authors' C code and rand_xoshiro).
    func testXoshiroKnownAnswers() {
        var random = FastRandom(state0: 1, state1: 2, state2: 3, state3: 4)
        let expected: [UInt64] = [
            11520, 0, 1_509_978_240, 1_215_971_899_390_074_240, 1_216_172_134_540_287_360,
            607_988_272_756_665_600, 16_172_922_978_634_559_625, 8_476_171_486_693_032_832,
            10_595_114_339_597_558_777, 2_904_607_092_377_533_576,
        ]
        XCTAssertEqual((0..<expected.count).map { _ in random.next() }, expected)
    }

    func testSplitMixKnownAnswers() {
        var expander = SplitMix64(state: 0)
        XCTAssertEqual(expander.next(), 0xE220_A839_7B1D_CDAF)
        XCTAssertEqual(expander.next(), 0x6E78_9E6A_A1B9_65F4)
        XCTAssertEqual(expander.next(), 0x06C4_5D18_8009_454F)
    }

    func testSameSeedSameSequenceDifferentSeedDifferentSequence() {
        var first = FastRandom(seed: 42)
        var second = FastRandom(seed: 42)
        var other = FastRandom(seed: 43)
        let a = (0..<100).map { _ in first.next() }
        XCTAssertEqual(a, (0..<100).map { _ in second.next() })
        XCTAssertNotEqual(a, (0..<100).map { _ in other.next() })
    }

    func testSystemSeededGeneratorsDiffer() {
        var first = FastRandom()
        var second = FastRandom()
        XCTAssertNotEqual((0..<4).map { _ in first.next() }, (0..<4).map { _ in second.next() })
    }

    func testBoundedDrawsCoverTheRangeEvenly() {
        var random = FastRandom(seed: 1)
        var counts = [Int](repeating: 0, count: 10)
        let draws = 100_000
        for _ in 0..<draws {
            counts[Int.random(in: 0..<10, using: &random)] += 1
        }
        // 5 standard deviations of a binomial(100_000, 0.1) count: sqrt(100_000 · 0.1 · 0.9) ≈ 95.
        for count in counts {
            XCTAssertEqual(Double(count), Double(draws) / 10, accuracy: 5 * 95)
        }
    }
}
