/// nginx's smooth weighted round robin (`ngx_http_upstream_get_peer`): deterministic, interleaves picks instead of
/// sending bursts to the heaviest endpoint (weights 5,1,1 → a a b a c a a), and gives every endpoint exactly its
/// weight's share of each cycle of `sum(weights)` picks while the eligible set does not change.
///
/// One instance per event loop: `pick` mutates the running weights in place. A copy shares storage until its first
/// pick (copy-on-write), so copy once when handing an instance to a loop, not per request.
public struct SmoothWeightedRoundRobin: Sendable {
    private let weights: [Int]
    /// nginx's `current_weight`. Over all endpoints it always sums to zero: each pick adds the eligible total and
    /// subtracts it from the winner. So every value stays within a few multiples of the weight sum, which the clamp
    /// on weights keeps tiny compared to `Int.max`.
    private var currentWeights: [Int]

    /// - Parameter weights: one per endpoint; values < 1 count as 1 (see `EndpointWeight`). Empty is allowed.
    public init(weights: [Int]) {
        self.weights = weights.map(EndpointWeight.clamp)
        self.currentWeights = Array(repeating: 0, count: weights.count)
    }

    public var endpointCount: Int { weights.count }

    /// - Parameter isEligible: whether an endpoint may take this request (health, circuit state). Ineligible endpoints
    ///   neither receive nor accumulate weight, exactly as nginx treats peers that are down.
    /// - Returns: the endpoint index, or nil when no endpoint is eligible.
    public mutating func pick(isEligible: (Int) -> Bool) -> Int? {
        var best = -1
        var bestCurrent = 0
        var eligibleTotal = 0
        for index in weights.indices where isEligible(index) {
            let weight = weights[index]
            currentWeights[index] &+= weight
            eligibleTotal &+= weight
            // Strictly greater keeps the first of equal candidates, which is what makes the sequence match nginx.
            if best < 0 || currentWeights[index] > bestCurrent {
                best = index
                bestCurrent = currentWeights[index]
            }
        }
        guard best >= 0 else { return nil }
        currentWeights[best] &-= eligibleTotal
        return best
    }

    public mutating func pick() -> Int? {
        pick(isEligible: { _ in true })
    }
}
