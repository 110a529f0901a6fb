/// Maglev consistent hashing (Eisenbud et al., NSDI 2016, "Maglev: A Fast and Reliable Software Network Load
/// Balancer"), weighted the way Envoy's `MaglevTable` does it. A key's hash selects one slot of a
/// prime-sized lookup table; each endpoint owns a share of the slots proportional to its weight, and adding or
/// removing one endpoint moves only about its own share of keys.
///
/// The table depends only on the set of (id, weight) pairs, not on their order in the config: endpoints are placed
/// in the order of their ids, and each one's slot preferences come from `StableHash` of its id. So every gateway
/// of a fleet with the same endpoints builds the same table and maps a key to the same endpoint.
///
/// Building is O(tableSize · log tableSize) and allocates; do it when the config is compiled, off the event loops.
/// Lookups are O(1), read-only, and the table (4 bytes per slot) can be shared by all loops.
public struct MaglevTable: Sendable {
    /// Endpoint index (into the caller's arrays) owning each slot.
    let slots: [UInt32]
    public let endpointCount: Int

    /// Envoy's upper bound for the table size; beyond it a build costs more than any balance it buys.
    static let maximumTableSize = 5_000_011

    /// - Parameters:
    ///   - endpointIDs: stable identities such as "10.0.0.1:8080". Duplicates are tolerated (they get separate
    ///     shares); only their relative order then depends on the input order.
    ///   - weights: one per id; missing ones count as 1, extra ones are ignored, values < 1 count as 1.
    ///   - tableSize: rounded up to a prime (the permutation below needs it) and clamped to 2...5_000_011. It should
    ///     be much larger than the number of endpoints (the paper uses 100×) for shares to be close to the weights;
    ///     an endpoint beyond the first `tableSize` in id order owns no slot.
    public init(endpointIDs: [String], weights: [Int], tableSize: Int = 65537) {
        endpointCount = endpointIDs.count
        guard !endpointIDs.isEmpty else {
            slots = []
            return
        }
        let size = Self.smallestPrime(atLeast: min(max(tableSize, 2), Self.maximumTableSize))
        let order = endpointIDs.indices.sorted { left, right in
            endpointIDs[left] == endpointIDs[right] ? left < right : endpointIDs[left] < endpointIDs[right]
        }
        var builders = order.map { index in
            SlotPreference(
                endpoint: index,
                id: endpointIDs[index],
                weight: EndpointWeight.clamp(index < weights.count ? weights[index] : 1),
                tableSize: size
            )
        }
        slots = Self.populate(&builders, tableSize: size)
    }

    public var tableSize: Int { slots.count }

    /// - Returns: the endpoint owning the key's slot, or nil for an empty endpoint list.
    public func pick(hash: UInt64) -> Int? {
        guard !slots.isEmpty else { return nil }
        return Int(slots[Int(hash % UInt64(slots.count))])
    }

    /// When the owner is ineligible, walks forward through the table to the next slot whose owner differs and is
    /// eligible. The walk is deterministic, so every gateway sends the key to the same fallback, and the slots of the
    /// table are a pseudo-random mix of owners, so one endpoint's keys spread over the others by weight while keys of
    /// eligible owners do not move at all.
    ///
    /// - Returns: nil when no endpoint is eligible.
    public func pick(hash: UInt64, isEligible: (Int) -> Bool) -> Int? {
        guard !slots.isEmpty else { return nil }
        let size = slots.count
        var slot = Int(hash % UInt64(size))
        var rejected = slots[slot]
        if isEligible(Int(rejected)) {
            return Int(rejected)
        }
        // Walking a whole table when everything is down would cost O(tableSize) per request exactly when the gateway
        // is busiest answering 503s. Slots are a random mix of owners, so a walk of a few times n slots meets an
        // eligible owner unless almost all are down; past that, one O(n) check tells "all down" from "unlucky".
        let probesBeforeCheck = min(size, 2 * endpointCount + 16)
        var checkedForAnyEligible = false
        for probe in 1..<size {
            if probe == probesBeforeCheck && !checkedForAnyEligible {
                checkedForAnyEligible = true
                guard anyEligible(isEligible) else { return nil }
            }
            slot += 1
            if slot == size {
                slot = 0
            }
            let owner = slots[slot]
            if owner == rejected {
                continue
            }
            if isEligible(Int(owner)) {
                return Int(owner)
            }
            rejected = owner
        }
        return nil
    }

    /// A plain loop: handing `isEligible` to `contains(where:)` allocates a reabstraction thunk in debug builds.
    private func anyEligible(_ isEligible: (Int) -> Bool) -> Bool {
        for endpoint in 0..<endpointCount where isEligible(endpoint) {
            return true
        }
        return false
    }

    /// The paper's population loop with Envoy's weighting: in round `r` an endpoint takes its next preferred free
    /// slot only while it has taken fewer than `r · weight / maxWeight` slots, so the heaviest endpoint takes one
    /// slot every round and the others proportionally fewer. Integer arithmetic keeps this exact and portable.
    private static func populate(_ builders: inout [SlotPreference], tableSize: Int) -> [UInt32] {
        let unassigned = UInt32.max
        var slots = [UInt32](repeating: unassigned, count: tableSize)
        let maximumWeight = builders.reduce(1) { max($0, $1.weight) }
        var filled = 0
        var round = 1
        while filled < tableSize {
            for index in builders.indices where filled < tableSize {
                if round * builders[index].weight < builders[index].threshold {
                    continue
                }
                builders[index].threshold += maximumWeight
                // A prime table size makes every preference list a full permutation, so a free slot is always found.
                while slots[builders[index].position] != unassigned {
                    builders[index].advance()
                }
                slots[builders[index].position] = UInt32(truncatingIfNeeded: builders[index].endpoint)
                builders[index].advance()
                filled += 1
            }
            round += 1
        }
        return slots
    }

    static func smallestPrime(atLeast lowerBound: Int) -> Int {
        var candidate = max(lowerBound, 2)
        while !isPrime(candidate) {
            candidate += 1
        }
        return candidate
    }

    private static func isPrime(_ number: Int) -> Bool {
        if number < 4 {
            return number >= 2
        }
        if number % 2 == 0 {
            return false
        }
        var divisor = 3
        while divisor * divisor <= number {
            if number % divisor == 0 {
                return false
            }
            divisor += 2
        }
        return true
    }
}

/// One endpoint's walk through its preference list `(offset + j · skip) mod tableSize`, j = 0, 1, 2, …
private struct SlotPreference {
    let endpoint: Int
    let weight: Int
    let skip: Int
    let tableSize: Int
    var position: Int
    /// Slots taken so far times the maximum weight; compared against `round · weight`.
    var threshold = 0

    /// Offset and skip come from two differently seeded hashes of the id, as in the paper and in Envoy (XXH64 with
    /// seeds 0 and 1), so two endpoints rarely share a preference list.
    init(endpoint: Int, id: String, weight: Int, tableSize: Int) {
        self.endpoint = endpoint
        self.weight = weight
        self.tableSize = tableSize
        let size = UInt64(tableSize)
        self.position = Int(StableHash.hash(id.utf8, seed: 0) % size)
        self.skip = Int(StableHash.hash(id.utf8, seed: 1) % (size - 1)) + 1
    }

    mutating func advance() {
        position += skip
        if position >= tableSize {
            position -= tableSize
        }
    }
}
