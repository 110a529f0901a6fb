import GatewayConfig
import LoadBalancing

/// The upstream's configured balancing strategy as one concrete value per loop. The algorithms sit
/// in stored properties rather than enum payloads: mutating a payload copies it out first, which
/// would copy round robin's state array on every pick.
struct EndpointBalancer {
    private enum Kind {
        case roundRobin
        case leastRequest
        case consistentHash
    }

    private let kind: Kind
    /// Round robin itself, and the spreader for consistent-hash requests that lack the key.
    private var roundRobin: SmoothWeightedRoundRobin
    private let leastRequest: PowerOfTwoChoices?
    private let maglev: MaglevTable?
    private var random = FastRandom()

    init(config: UpstreamConfig) {
        let weights = config.endpoints.map(\.weight)
        roundRobin = SmoothWeightedRoundRobin(weights: weights)
        switch config.balance {
        case .roundRobin:
            kind = .roundRobin
            leastRequest = nil
            maglev = nil
        case .leastRequest:
            kind = .leastRequest
            leastRequest = PowerOfTwoChoices(weights: weights)
            maglev = nil
        case .consistentHash:
            kind = .consistentHash
            leastRequest = nil
            maglev = MaglevTable(endpointIDs: config.endpoints.map(\.address.description), weights: weights)
        }
    }

    /// `hashKey` is used by consistent hashing; a request without the key (no such header or
    /// cookie) is spread by round robin rather than piling onto one endpoint. `isEligible` nil
    /// means every endpoint is (the common case, which then costs no closure call per endpoint).
    mutating func pick(hashKey: UInt64?, activeRequests: (Int) -> Int, isEligible: ((Int) -> Bool)?) -> Int? {
        switch kind {
        case .roundRobin:
            return isEligible.map { roundRobin.pick(isEligible: $0) } ?? roundRobin.pick()
        case .leastRequest:
            return leastRequest?.pick(
                activeRequests: activeRequests, isEligible: isEligible ?? { _ in true }, using: &random)
        case .consistentHash:
            if let hashKey, let maglev {
                return isEligible.map { maglev.pick(hash: hashKey, isEligible: $0) } ?? maglev.pick(hash: hashKey)
            }
            return isEligible.map { roundRobin.pick(isEligible: $0) } ?? roundRobin.pick()
        }
    }
}
