import GatewayConfig
import NIOConcurrencyHelpers
import RateLimiting

/// The embedded limiter (no Redis): one state machine per policy and key, shared by the event
/// loops and sharded so they rarely meet on a lock. Idle keys are swept once their state is back
/// to "fresh" (the algorithms then decide exactly as for a new key), so memory follows the
/// number of active keys.
final class LocalRateLimiter: Sendable {
    fileprivate enum State {
        case tokenBucket(TokenBucket)
        case gcra(GCRA)
        case fixedWindow(FixedWindow)
        case slidingWindow(SlidingWindow)
    }

    private struct Entry {
        var state: State
        var limit: RateLimit
        /// After this instant the state equals a fresh one and can be dropped.
        var idleAfter: Int64
    }

    // Unchecked: `entries` is mutable and only touched inside `lock.withLock`.
    private final class Shard: @unchecked Sendable {
        let lock = NIOLock()
        var entries: [String: Entry] = [:]
    }

    private let shards: [Shard] = (0..<16).map { _ in Shard() }

    /// Counts a request against `limit` (the policy's own unless a share of it is given, as
    /// fail_open does while Redis is away).
    func take(_ policy: CompiledRateLimit, key: String, now: Int64, limit: RateLimit? = nil, cost: Int? = nil)
        -> RateLimitDecision
    {
        let limit = limit ?? policy.limit
        let shard = shards[Int(UInt(bitPattern: key.hashValue) % UInt(shards.count))]
        return shard.lock.withLock {
            var current =
                shard.entries[key].flatMap { $0.limit == limit ? $0 : nil }
                ?? Entry(state: Self.fresh(policy.algorithm, limit: limit, now: now), limit: limit, idleAfter: now)
            let decision = current.state.take(cost: cost ?? policy.cost, now: now)
            current.idleAfter = now + max(decision.resetMilliseconds, limit.periodMilliseconds * 2)
            shard.entries[key] = current
            return decision
        }
    }

    /// What a request of no cost would be told now (the admin API); nil for a key never counted.
    func peek(_ policy: CompiledRateLimit, key: String, now: Int64) -> RateLimitDecision? {
        let shard = shards[Int(UInt(bitPattern: key.hashValue) % UInt(shards.count))]
        return shard.lock.withLock {
            guard var entry = shard.entries[key], entry.limit == policy.limit else { return nil }
            return entry.state.take(cost: 0, now: now)
        }
    }

    /// Drops keys whose state is fresh again; returns how many remain.
    @discardableResult
    func sweep(now: Int64) -> Int {
        var remaining = 0
        for shard in shards {
            remaining += shard.lock.withLock {
                shard.entries = shard.entries.filter { $0.value.idleAfter > now }
                return shard.entries.count
            }
        }
        return remaining
    }

    private static func fresh(_ algorithm: RateLimitPolicyConfig.Algorithm, limit: RateLimit, now: Int64) -> State {
        switch algorithm {
        case .tokenBucket: return .tokenBucket(TokenBucket(limit: limit, now: now))
        case .gcra: return .gcra(GCRA(limit: limit))
        case .fixedWindow: return .fixedWindow(FixedWindow(limit: limit))
        case .slidingWindow: return .slidingWindow(SlidingWindow(limit: limit))
        }
    }
}

extension LocalRateLimiter.State {
    fileprivate mutating func take(cost: Int, now: Int64) -> RateLimitDecision {
        switch self {
        case .tokenBucket(var machine):
            defer { self = .tokenBucket(machine) }
            return machine.take(cost: cost, now: now)
        case .gcra(var machine):
            defer { self = .gcra(machine) }
            return machine.take(cost: cost, now: now)
        case .fixedWindow(var machine):
            defer { self = .fixedWindow(machine) }
            return machine.take(cost: cost, now: now)
        case .slidingWindow(var machine):
            defer { self = .slidingWindow(machine) }
            return machine.take(cost: cost, now: now)
        }
    }

}
