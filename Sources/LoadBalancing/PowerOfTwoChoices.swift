/// Least request with the power of two choices, as Envoy's default `LEAST_REQUEST`: draw two distinct endpoints at
/// random, each with probability proportional to its weight, and send the request to the one with fewer in-flight
/// requests per unit of weight. Two random choices avoid both the herd effect of "global least loaded" (every loop
/// piling onto the same idle endpoint with stale counts) and the blindness of pure random (Mitzenmacher, 2001).
///
/// Immutable after `init`, so one instance can be shared by reference across loops; only the generator is per loop.
public struct PowerOfTwoChoices: Sendable {
    @usableFromInline let weights: [Int]
    /// `cumulativeWeights[i]` is the sum of `weights[0...i]`: a weighted draw is then one binary search.
    @usableFromInline let cumulativeWeights: [Int]
    @usableFromInline let totalWeight: Int

    /// Rejection sampling over all endpoints is exact and O(log n) while most endpoints are eligible; after this many
    /// misses the draw falls back to an exact O(n) scan of the eligible ones, which bounds the cost when most are down.
    @usableFromInline static let rejectionAttempts = 4

    /// In-flight counts are clamped so that `active * weight` cannot overflow; no real endpoint gets near it.
    @usableFromInline static let maximumActiveRequests = 1 << 40

    /// - Parameter weights: one per endpoint; values < 1 count as 1 (see `EndpointWeight`). Empty is allowed.
    public init(weights: [Int]) {
        let clamped = weights.map(EndpointWeight.clamp)
        var running = 0
        self.weights = clamped
        self.cumulativeWeights = clamped.map { weight in
            running += weight
            return running
        }
        self.totalWeight = running
    }

    public var endpointCount: Int { weights.count }

    /// - Parameters:
    ///   - activeRequests: in-flight requests of an endpoint (negative counts as 0).
    ///   - isEligible: whether an endpoint may take this request; must answer consistently within one pick.
    ///   - rng: the loop's generator (`FastRandom`).
    /// - Returns: the endpoint index, or nil when no endpoint is eligible. With a single eligible endpoint, that one.
    ///   On equal load the first drawn candidate wins; which one is first is itself random.
    @inlinable
    public func pick<R: RandomNumberGenerator>(
        activeRequests: (Int) -> Int,
        isEligible: (Int) -> Bool,
        using rng: inout R
    ) -> Int? {
        guard let first = drawEligible(excluding: nil, isEligible: isEligible, using: &rng) else { return nil }
        guard let second = drawEligible(excluding: first, isEligible: isEligible, using: &rng) else { return first }
        let firstActive = min(max(activeRequests(first), 0), Self.maximumActiveRequests)
        let secondActive = min(max(activeRequests(second), 0), Self.maximumActiveRequests)
        // active/weight compared by cross-multiplying: exact, and no division on the hot path.
        return secondActive * weights[first] < firstActive * weights[second] ? second : first
    }

    /// A weighted draw among eligible endpoints other than `excluded`; exact in distribution on both paths.
    @inlinable
    func drawEligible<R: RandomNumberGenerator>(
        excluding excluded: Int?,
        isEligible: (Int) -> Bool,
        using rng: inout R
    ) -> Int? {
        let excludedWeight = excluded.map { weights[$0] } ?? 0
        let excludedStart = excluded.map { cumulativeWeights[$0] - weights[$0] } ?? 0
        let range = totalWeight - excludedWeight
        if range > 0 {
            for _ in 0..<Self.rejectionAttempts {
                var point = Int.random(in: 0..<range, using: &rng)
                // Drawing from the total minus the excluded weight and skipping over its interval samples the others
                // exactly in proportion to their weights, without rejecting the excluded one.
                if point >= excludedStart {
                    point += excludedWeight
                }
                let candidate = endpoint(atWeightPoint: point)
                if isEligible(candidate) {
                    return candidate
                }
            }
        }
        var eligibleWeight = 0
        for index in weights.indices where index != excluded && isEligible(index) {
            eligibleWeight += weights[index]
        }
        guard eligibleWeight > 0 else { return nil }
        var point = Int.random(in: 0..<eligibleWeight, using: &rng)
        for index in weights.indices where index != excluded && isEligible(index) {
            if point < weights[index] {
                return index
            }
            point -= weights[index]
        }
        // Only reachable if `isEligible` changed its answers during this pick.
        return nil
    }

    /// The endpoint whose weight interval contains `point` (0 ≤ point < totalWeight): the first index whose
    /// cumulative weight exceeds it.
    @inlinable
    func endpoint(atWeightPoint point: Int) -> Int {
        var low = 0
        var high = cumulativeWeights.count - 1
        while low < high {
            let middle = low + (high - low) / 2
            if cumulativeWeights[middle] > point {
                high = middle
            } else {
                low = middle + 1
            }
        }
        return low
    }
}
