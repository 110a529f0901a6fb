import XCTest

@testable import LoadBalancing

final class PowerOfTwoChoicesTests: XCTestCase {
    func testSameSeedGivesTheSamePicks() {
        let balancer = PowerOfTwoChoices(weights: [1, 2, 3, 4, 5])
        let active = [3, 0, 7, 2, 9]
        func run(seed: UInt64) -> [Int?] {
            var random = FastRandom(seed: seed)
            return (0..<1000).map { _ in
                balancer.pick(activeRequests: { active[$0] }, isEligible: { $0 != 2 }, using: &random)
            }
        }
        XCTAssertEqual(run(seed: 99), run(seed: 99))
        XCTAssertNotEqual(run(seed: 99), run(seed: 100))
    }

    func testPrefersTheLessLoadedRelativeToWeight() {
        var random = FastRandom(seed: 1)
        // With two eligible endpoints both are always the candidates, so the less loaded one must win every time.
        let equal = PowerOfTwoChoices(weights: [1, 1])
        let weighted = PowerOfTwoChoices(weights: [3, 1])
        for _ in 0..<1000 {
            XCTAssertEqual(equal.pick(activeRequests: { [10, 0][$0] }, isEligible: { _ in true }, using: &random), 1)
            XCTAssertEqual(equal.pick(activeRequests: { [0, 10][$0] }, isEligible: { _ in true }, using: &random), 0)
            // 3 in flight on weight 3 (1 per unit) beats 2 in flight on weight 1 (2 per unit).
            XCTAssertEqual(weighted.pick(activeRequests: { [3, 2][$0] }, isEligible: { _ in true }, using: &random), 0)
            // 4 in flight on weight 3 (4/3 per unit) loses to 1 in flight on weight 1 (1 per unit).
            XCTAssertEqual(weighted.pick(activeRequests: { [4, 1][$0] }, isEligible: { _ in true }, using: &random), 1)
        }
    }

    func testNeverPicksTheMostLoadedOfThree() {
        // Candidates are distinct, so the endpoint with the most in flight can only lose.
        let balancer = PowerOfTwoChoices(weights: [1, 1, 1])
        var random = FastRandom(seed: 5)
        for _ in 0..<10_000 {
            let pick = balancer.pick(activeRequests: { [1, 100, 2][$0] }, isEligible: { _ in true }, using: &random)
            XCTAssertNotEqual(pick, 1)
        }
    }

    /// With equal load the first candidate wins, so the shares are the weighted draw itself: p_i = w_i / sum(w).
    /// Each share is a binomial proportion with standard deviation sqrt(p(1 - p) / n); the tolerance is 5 of those
    /// (a false failure about once in 1.7 million per endpoint, and the seed is fixed anyway).
    func testSharesFollowWeightsUnderEqualLoad() {
        let weights = [1, 2, 3, 4, 10]
        let balancer = PowerOfTwoChoices(weights: weights)
        var random = FastRandom(seed: 2024)
        let picks = 200_000
        var counts = [Int](repeating: 0, count: weights.count)
        for _ in 0..<picks {
            guard let index = balancer.pick(activeRequests: { _ in 0 }, isEligible: { _ in true }, using: &random)
            else { return XCTFail("no pick") }
            counts[index] += 1
        }
        let total = Double(weights.reduce(0, +))
        for (index, weight) in weights.enumerated() {
            let expected = Double(weight) / total
            let tolerance = 5 * (expected * (1 - expected) / Double(picks)).squareRoot()
            let measured = Double(counts[index]) / Double(picks)
            print(
                "P2C equal load: endpoint \(index) weight \(weight) share \(measured) expected \(expected) ± \(tolerance)"
            )
            XCTAssertEqual(measured, expected, accuracy: tolerance, "endpoint \(index)")
        }
    }

    /// Requests that never finish: the in-flight count per unit of weight is what P2C equalizes, so after many picks
    /// the counts track the weights closely (far closer than a random draw would).
    func testBalancesInFlightRequestsByWeight() {
        let weights = [1, 2, 3, 4, 10]
        let balancer = PowerOfTwoChoices(weights: weights)
        var random = FastRandom(seed: 11)
        var active = [Int](repeating: 0, count: weights.count)
        let picks = 20_000
        for _ in 0..<picks {
            guard let index = balancer.pick(activeRequests: { active[$0] }, isEligible: { _ in true }, using: &random)
            else { return XCTFail("no pick") }
            active[index] += 1
        }
        let total = Double(weights.reduce(0, +))
        for (index, weight) in weights.enumerated() {
            let expected = Double(picks) * Double(weight) / total
            print("P2C in flight: endpoint \(index) weight \(weight) holds \(active[index]), proportional \(expected)")
            XCTAssertEqual(Double(active[index]), expected, accuracy: expected * 0.02 + 5, "endpoint \(index)")
        }
    }

    func testSingleEligibleEndpointIsReturnedDirectly() {
        let balancer = PowerOfTwoChoices(weights: [5, 1, 5])
        var random = FastRandom(seed: 3)
        for _ in 0..<1000 {
            XCTAssertEqual(balancer.pick(activeRequests: { _ in 1000 }, isEligible: { $0 == 1 }, using: &random), 1)
        }
        let lone = PowerOfTwoChoices(weights: [7])
        XCTAssertEqual(lone.pick(activeRequests: { _ in 3 }, isEligible: { _ in true }, using: &random), 0)
        XCTAssertNil(lone.pick(activeRequests: { _ in 3 }, isEligible: { _ in false }, using: &random))
    }

    func testNoneEligibleOrEmptyGivesNil() {
        var random = FastRandom(seed: 4)
        let balancer = PowerOfTwoChoices(weights: [1, 2, 3])
        XCTAssertNil(balancer.pick(activeRequests: { _ in 0 }, isEligible: { _ in false }, using: &random))
        let empty = PowerOfTwoChoices(weights: [])
        XCTAssertNil(empty.pick(activeRequests: { _ in 0 }, isEligible: { _ in true }, using: &random))
    }

    /// Most endpoints down exercises the exact fallback scan; the survivors must still share by weight.
    func testIneligibleAreNeverPickedAndSurvivorsShareByWeight() {
        let weights = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 6]
        let balancer = PowerOfTwoChoices(weights: weights)
        var random = FastRandom(seed: 8)
        var counts = [Int](repeating: 0, count: weights.count)
        let picks = 50_000
        for _ in 0..<picks {
            guard let index = balancer.pick(activeRequests: { _ in 0 }, isEligible: { $0 >= 16 }, using: &random)
            else { return XCTFail("no pick") }
            counts[index] += 1
        }
        XCTAssertEqual(counts[0..<16].reduce(0, +), 0)
        // Shares 1/4 and 3/4 among the survivors; 5 standard deviations of the proportion as above.
        let tolerance = 5 * (0.25 * 0.75 / Double(picks)).squareRoot()
        XCTAssertEqual(Double(counts[16]) / Double(picks), 0.25, accuracy: tolerance)
    }

    func testWeightsBelowOneCountAsOneAndHugeCountsDoNotTrap() {
        let balancer = PowerOfTwoChoices(weights: [0, -1, Int.max])
        var random = FastRandom(seed: 6)
        for _ in 0..<1000 {
            let pick = balancer.pick(
                activeRequests: { [Int.max, -7, Int.min][$0] }, isEligible: { _ in true }, using: &random)
            XCTAssertNotNil(pick)
        }
    }
}
