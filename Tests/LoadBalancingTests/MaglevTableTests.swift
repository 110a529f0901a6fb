import XCTest

@testable import LoadBalancing

final class MaglevTableTests: XCTestCase {
    private func ids(_ count: Int) -> [String] {
        (0..<count).map { "10.0.\($0 / 200).\($0 % 200 + 1):8080" }
    }

    private func randomKeys(_ count: Int, seed: UInt64) -> [UInt64] {
        var random = FastRandom(seed: seed)
        return (0..<count).map { _ in random.next() }
    }

    private func slotCounts(_ table: MaglevTable) -> [Int] {
        var counts = [Int](repeating: 0, count: table.endpointCount)
        for owner in table.slots {
            counts[Int(owner)] += 1
        }
        return counts
    }

    func testEmptyEndpointListGivesNil() {
        let table = MaglevTable(endpointIDs: [], weights: [])
        XCTAssertNil(table.pick(hash: 42))
        XCTAssertNil(table.pick(hash: 42) { _ in true })
    }

    func testTableSizeIsPrime() {
        XCTAssertEqual(MaglevTable(endpointIDs: ["a"], weights: [1]).tableSize, 65537)
        XCTAssertEqual(MaglevTable(endpointIDs: ["a"], weights: [1], tableSize: 100).tableSize, 101)
        XCTAssertEqual(MaglevTable(endpointIDs: ["a"], weights: [1], tableSize: -3).tableSize, 2)
        let single = MaglevTable(endpointIDs: ["a", "b", "c"], weights: [1, 1, 1], tableSize: 1)
        XCTAssertNotNil(single.pick(hash: 7))
    }

    func testEveryEndpointOwnsSlotsInProportionToItsWeight() {
        let weightSets = [[1, 1, 1, 1, 1, 1, 1, 1, 1, 1], [1, 2, 3, 4], [1, 10], [5, 1, 1, 3, 7, 2, 2, 9]]
        for weights in weightSets {
            let table = MaglevTable(endpointIDs: ids(weights.count), weights: weights)
            let counts = slotCounts(table)
            let total = Double(weights.reduce(0, +))
            var worst = 0.0
            for (index, weight) in weights.enumerated() {
                let expected = Double(table.tableSize) * Double(weight) / total
                let deviation = abs(Double(counts[index]) - expected) / Double(table.tableSize)
                worst = max(worst, deviation)
                // The weighted fill is exact up to the last, partial round: far within 0.5% of the table.
                XCTAssertLessThan(deviation, 0.005, "weights \(weights), endpoint \(index): \(counts[index]) slots")
            }
            print("Maglev weights \(weights): slots \(counts), worst deviation \(worst) of the table")
        }
    }

    func testTableDependsOnlyOnTheSetOfEndpoints() {
        let endpointIDs = ids(12)
        let weights = [3, 1, 1, 2, 5, 1, 1, 4, 1, 2, 1, 1]
        let table = MaglevTable(endpointIDs: endpointIDs, weights: weights)
        var random = FastRandom(seed: 17)
        for _ in 0..<3 {
            let order = Array(endpointIDs.indices).shuffled(using: &random)
            let shuffled = MaglevTable(endpointIDs: order.map { endpointIDs[$0] }, weights: order.map { weights[$0] })
            XCTAssertEqual(shuffled.slots.map { endpointIDs[order[Int($0)]] }, table.slots.map { endpointIDs[Int($0)] })
        }
    }

    /// Pins the placement itself: a change here reshuffles the keys of every sticky session in the fleet.
    func testPlacementIsStableAcrossReleases() {
        let table = MaglevTable(endpointIDs: ids(5), weights: [1, 1, 1, 1, 1])
        XCTAssertEqual(Array(table.slots.prefix(16)), [2, 2, 2, 3, 0, 3, 0, 1, 0, 2, 2, 4, 1, 4, 1, 4])
        XCTAssertEqual(table.pick(hash: StableHash.hash("user-42".utf8)), 4)
    }

    /// Maglev's promise: removing one of N endpoints moves about 1/N of the keys (its own)
    /// plus a little churn between survivors; adding one moves about 1/(N+1) (to the new one).
    func testRemovingOrAddingOneEndpointRemapsAboutItsShare() {
        let keys = randomKeys(100_000, seed: 2016)
        for count in 5...20 {
            let endpointIDs = ids(count + 1)
            let current = Array(endpointIDs.prefix(count))
            let table = MaglevTable(endpointIDs: current, weights: Array(repeating: 1, count: count))
            let removedIndex = count / 2
            let remaining = current.enumerated().filter { $0.offset != removedIndex }.map(\.element)
            let shrunk = MaglevTable(endpointIDs: remaining, weights: Array(repeating: 1, count: count - 1))
            let grown = MaglevTable(endpointIDs: endpointIDs, weights: Array(repeating: 1, count: count + 1))

            var changedOnRemove = 0
            var survivorKeys = 0
            var survivorKeysKept = 0
            var changedOnAdd = 0
            for key in keys {
                guard let before = table.pick(hash: key).map({ current[$0] }),
                    let afterRemove = shrunk.pick(hash: key).map({ remaining[$0] }),
                    let afterAdd = grown.pick(hash: key).map({ endpointIDs[$0] })
                else { return XCTFail("no owner") }
                if before != afterRemove {
                    changedOnRemove += 1
                }
                if before != current[removedIndex] {
                    survivorKeys += 1
                    if before == afterRemove {
                        survivorKeysKept += 1
                    }
                }
                if before != afterAdd {
                    changedOnAdd += 1
                }
            }
            let removeFraction = Double(changedOnRemove) / Double(keys.count)
            let keptFraction = Double(survivorKeysKept) / Double(survivorKeys)
            let addFraction = Double(changedOnAdd) / Double(keys.count)
            let share = 1 / Double(count)
            let newShare = 1 / Double(count + 1)
            print(
                "Maglev N=\(count): remove one → \(fmt(removeFraction)) of keys moved (1/N = \(fmt(share))), "
                    + "survivors kept \(fmt(keptFraction)); add one → \(fmt(addFraction)) moved (1/(N+1) = \(fmt(newShare)))"
            )
            XCTAssertLessThanOrEqual(removeFraction, share + 0.03, "N=\(count) remove")
            XCTAssertGreaterThanOrEqual(keptFraction, 0.97, "N=\(count) survivors")
            XCTAssertEqual(addFraction, newShare, accuracy: 0.03, "N=\(count) add")
        }
    }

    func testIneligibleOwnerFallsBackDeterministicallyAndOthersStay() {
        let endpointIDs = ids(8)
        let table = MaglevTable(endpointIDs: endpointIDs, weights: Array(repeating: 1, count: 8))
        let down = 3
        var fallbackCounts = [Int](repeating: 0, count: 8)
        for key in randomKeys(50_000, seed: 9) {
            guard let owner = table.pick(hash: key), let chosen = table.pick(hash: key, isEligible: { $0 != down })
            else { return XCTFail("no owner") }
            XCTAssertEqual(table.pick(hash: key) { $0 != down }, chosen, "deterministic")
            if owner == down {
                XCTAssertNotEqual(chosen, down)
                fallbackCounts[chosen] += 1
            } else {
                XCTAssertEqual(chosen, owner, "keys of eligible owners must not move")
            }
        }
        // The orphaned keys spread over all the others rather than piling onto one neighbour.
        let orphans = fallbackCounts.reduce(0, +)
        print("Maglev fallback of endpoint \(down)'s \(orphans) keys: \(fallbackCounts)")
        for (index, count) in fallbackCounts.enumerated() where index != down {
            XCTAssertEqual(Double(count), Double(orphans) / 7, accuracy: Double(orphans) / 7 * 0.5, "endpoint \(index)")
        }
    }

    func testAllIneligibleGivesNilAndSingleEligibleIsFound() {
        let table = MaglevTable(endpointIDs: ids(50), weights: Array(repeating: 1, count: 50))
        for key in randomKeys(1000, seed: 10) {
            XCTAssertNil(table.pick(hash: key) { _ in false })
            XCTAssertEqual(table.pick(hash: key) { $0 == 37 }, 37)
        }
        let lone = MaglevTable(endpointIDs: ["only"], weights: [1])
        XCTAssertNil(lone.pick(hash: 5) { _ in false })
        XCTAssertEqual(lone.pick(hash: 5) { _ in true }, 0)
    }

    func testBadWeightsDoNotTrap() {
        let table = MaglevTable(endpointIDs: ["a", "b", "c", "a"], weights: [0, -4], tableSize: 1009)
        XCTAssertEqual(slotCounts(table).reduce(0, +), 1009)
        XCTAssertTrue(slotCounts(table).allSatisfy { $0 > 0 })
        let heavy = MaglevTable(endpointIDs: ["a", "b"], weights: [Int.max, 1], tableSize: 101)
        XCTAssertEqual(slotCounts(heavy), [100, 1])
    }
}

private func fmt(_ value: Double) -> String {
    String(format: "%.4f", value)
}
