import NIOConcurrencyHelpers
import RateLimiting
import Redis
import Synchronization

/// Approximate mode (window policies): each request is decided here at once from the fleet's
/// totals as last reported by Redis plus this node's own unsent counts; `ApproximateSync`
/// exchanges counts with Redis every `sync_every`. Shared by the event loops and sharded like the
/// embedded limiter.
final class ApproximateRateLimiter: Sendable {
    private struct Entry {
        var counter: ApproximateWindowCounter
        var policy: CompiledRateLimit
        var redisKey: [UInt8]
        /// Our clock (ms) at the last sync sent for this key.
        var lastSync: Int64 = 0
    }

    // Unchecked: `entries` is mutable and only touched inside `lock.withLock`.
    private final class Shard: @unchecked Sendable {
        let lock = NIOLock()
        var entries: [String: Entry] = [:]
    }

    /// One sync call: a key's counts to add, sent to Redis as one script call.
    struct SyncRequest {
        let key: String
        let redisKey: [UInt8]
        let arguments: [[UInt8]]
        let sentAt: Int64
    }

    private let shards: [Shard] = (0..<16).map { _ in Shard() }
    /// Redis's clock minus ours, in ms, as the last sync measured it (windows are Redis's).
    private let clockOffset = Atomic<Int64>(0)

    func take(_ policy: CompiledRateLimit, key: String, now: Int64) -> RateLimitDecision {
        let redisNow = now + clockOffset.load(ordering: .relaxed)
        let shard = shard(for: key)
        return shard.lock.withLock {
            var entry =
                shard.entries[key].flatMap { $0.policy.limit == policy.limit ? $0 : nil }
                ?? Self.entry(policy, key: key)
            entry.policy = policy
            let decision = entry.counter.take(cost: policy.cost, now: redisNow)
            shard.entries[key] = entry
            return decision
        }
    }

    /// What a request of no cost would be told now, without counting anything (the admin API).
    func peek(_ policy: CompiledRateLimit, key: String, now: Int64) -> RateLimitDecision? {
        let redisNow = now + clockOffset.load(ordering: .relaxed)
        let shard = shard(for: key)
        return shard.lock.withLock {
            guard var counter = shard.entries[key]?.counter else { return nil }
            return counter.take(cost: 0, now: redisNow)
        }
    }

    /// Keys whose policy's `sync_every` has passed since their last sync and that have counts to
    /// send or were used within the period (to learn the other nodes' counts); each is marked as
    /// syncing until `finish`.
    func dueSyncs(now: Int64) -> [SyncRequest] {
        var requests: [SyncRequest] = []
        let redisNow = now + clockOffset.load(ordering: .relaxed)
        for shard in shards {
            shard.lock.withLock {
                for (key, var entry) in shard.entries where !entry.counter.isSyncing {
                    let interval = entry.policy.syncEveryMilliseconds
                    guard now - entry.lastSync >= interval else { continue }
                    let recentlyUsed = redisNow - entry.counter.lastTake < entry.policy.limit.periodMilliseconds
                    guard !entry.counter.unsent.isEmpty || recentlyUsed else { continue }
                    guard let counts = entry.counter.beginSync() else { continue }
                    var arguments: [[UInt8]] = [Array(String(entry.policy.limit.periodMilliseconds).utf8), []]
                    for window in counts {
                        arguments.append(Array(String(window.windowStart).utf8))
                        arguments.append(Array(String(window.count).utf8))
                    }
                    entry.lastSync = now
                    shard.entries[key] = entry
                    requests.append(SyncRequest(key: key, redisKey: entry.redisKey, arguments: arguments, sentAt: now))
                }
            }
        }
        return requests
    }

    /// Applies a sync's reply (or its failure) to the key's counter.
    func finish(_ request: SyncRequest, result: Result<RESPValue, Error>, receivedAt: Int64) {
        let totals: (now: Int64, current: Int, previous: Int)?
        if case .success(let reply) = result, let values = reply.array?.compactMap(\.integer), values.count == 3 {
            totals = (values[0], Int(values[1]), Int(values[2]))
            clockOffset.store(values[0] - (request.sentAt + receivedAt) / 2, ordering: .relaxed)
        } else {
            totals = nil
        }
        let shard = shard(for: request.key)
        shard.lock.withLock {
            guard var entry = shard.entries[request.key] else { return }
            if let totals {
                entry.counter.finishSync(redisNow: totals.now, current: totals.current, previous: totals.previous)
            } else {
                // Unavailable means the command was never written; anything else may have run.
                var neverSent = false
                if case .failure(let error) = result, case RedisError.unavailable = error { neverSent = true }
                entry.counter.failSync(sent: !neverSent)
            }
            shard.entries[request.key] = entry
        }
    }

    @discardableResult
    func sweep(now: Int64) -> Int {
        let redisNow = now + clockOffset.load(ordering: .relaxed)
        var remaining = 0
        for shard in shards {
            remaining += shard.lock.withLock {
                shard.entries = shard.entries.filter { !$0.value.counter.isIdle(now: redisNow) }
                return shard.entries.count
            }
        }
        return remaining
    }

    private func shard(for key: String) -> Shard {
        shards[Int(UInt(bitPattern: key.hashValue) % UInt(shards.count))]
    }

    private static func entry(_ policy: CompiledRateLimit, key: String) -> Entry {
        Entry(
            counter: ApproximateWindowCounter(
                limit: policy.limit, algorithm: policy.algorithm == .slidingWindow ? .slidingWindow : .fixedWindow),
            policy: policy, redisKey: CompiledRateLimit.redisKey(key, prefix: "rla:{"))
    }
}
