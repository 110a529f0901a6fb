import XCTest

@testable import LoadBalancing

final class SmoothWeightedRoundRobinTests: XCTestCase {
    private func sequence(weights: [Int], picks: Int, isEligible: (Int) -> Bool = { _ in true }) -> [Int?] {
        var balancer = SmoothWeightedRoundRobin(weights: weights)
        return (0..<picks).map { _ in balancer.pick(isEligible: isEligible) }
    }

    func testNginxSequenceForFiveOneOne() {
        // The example of nginx's own commit that introduced smooth weighted round robin: a a b a c a a.
        XCTAssertEqual(sequence(weights: [5, 1, 1], picks: 14), [0, 0, 1, 0, 2, 0, 0, 0, 0, 1, 0, 2, 0, 0])
    }

    func testNginxSequencesForOtherWeights() {
        XCTAssertEqual(sequence(weights: [4, 2, 1], picks: 7), [0, 1, 0, 2, 0, 1, 0])
        XCTAssertEqual(sequence(weights: [2, 1], picks: 6), [0, 1, 0, 0, 1, 0])
        XCTAssertEqual(sequence(weights: [1, 1, 1], picks: 6), [0, 1, 2, 0, 1, 2])
        XCTAssertEqual(sequence(weights: [3], picks: 3), [0, 0, 0])
    }

    func testEveryCycleGivesExactlyTheWeights() {
        let weightSets = [[5, 1, 1], [1, 2, 3, 4], [7, 7, 1], [10, 1], [3, 5, 2, 8, 1, 13], [1]]
        for weights in weightSets {
            var balancer = SmoothWeightedRoundRobin(weights: weights)
            let cycle = weights.reduce(0, +)
            for _ in 0..<3 {
                var counts = [Int](repeating: 0, count: weights.count)
                for _ in 0..<cycle {
                    guard let index = balancer.pick() else { return XCTFail("no pick for \(weights)") }
                    counts[index] += 1
                }
                XCTAssertEqual(counts, weights, "one cycle of \(weights)")
            }
        }
    }

    func testIneligibleEndpointsAreSkippedAndTheRestKeepTheirShares() {
        let picks = sequence(weights: [5, 1, 1], picks: 12) { $0 != 1 }
        XCTAssertEqual(picks, [0, 0, 0, 2, 0, 0, 0, 0, 0, 2, 0, 0])
    }

    func testAnEndpointComingBackIsPickedAgain() {
        var balancer = SmoothWeightedRoundRobin(weights: [1, 1])
        for _ in 0..<5 {
            XCTAssertEqual(balancer.pick { $0 == 0 }, 0)
        }
        var counts = [0, 0]
        for _ in 0..<10 {
            guard let index = balancer.pick() else { return XCTFail("no pick") }
            counts[index] += 1
        }
        XCTAssertEqual(counts, [5, 5])
    }

    func testAllIneligibleGivesNil() {
        var balancer = SmoothWeightedRoundRobin(weights: [2, 3])
        XCTAssertNil(balancer.pick { _ in false })
        // A pick that found nothing must not disturb the sequence.
        XCTAssertEqual(balancer.pick(), 1)
        XCTAssertEqual(balancer.pick(), 0)
    }

    func testEmptyGivesNil() {
        var balancer = SmoothWeightedRoundRobin(weights: [])
        XCTAssertNil(balancer.pick())
        XCTAssertEqual(balancer.endpointCount, 0)
    }

    func testWeightsBelowOneCountAsOne() {
        XCTAssertEqual(sequence(weights: [0, -5, 1], picks: 3), [0, 1, 2])
        var huge = SmoothWeightedRoundRobin(weights: [Int.max, Int.max, 1])
        for _ in 0..<1000 {
            XCTAssertNotNil(huge.pick())
        }
    }
}
