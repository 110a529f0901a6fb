import RateLimiting
import Redis

/// Approximate mode (window policies) on one event loop: each request is decided here at once
/// from the fleet's totals as Redis last reported them plus this loop's own unsent counts;
/// `ApproximateSync` exchanges counts with Redis every `sync_every`. One per loop, like the
/// upstream pools, so a decision takes no lock: to the fleet, each loop counts as a node.
final class ApproximateRateLimiter {
    private struct Entry {
        var counter: ApproximateWindowCounter
        var policy: CompiledRateLimit
        var redisKey: [UInt8]
        /// Our clock (ms) at the last sync sent for this key.
        var lastSync: Int64 = 0
    }

    /// One sync call: a key's counts to add, sent to Redis as one script call.
    struct SyncRequest {
        let key: String
        let redisKey: [UInt8]
        let arguments: [[UInt8]]
        let sentAt: Int64
    }

    private var entries: [String: Entry] = [:]
    /// Redis's clock minus ours, in ms, as the last sync measured it (windows are Redis's).
    private var clockOffset: Int64 = 0

    var keyCount: Int { entries.count }

    func take(_ policy: CompiledRateLimit, key: String, now: Int64) -> RateLimitDecision {
        let redisNow = now + clockOffset
        // Mutated in place: a copy out of the dictionary would copy the counter's arrays too.
        if let index = entries.index(forKey: key), entries.values[index].policy.limit == policy.limit {
            return entries.values[index].counter.take(cost: policy.cost, now: redisNow)
        }
        var entry = Self.entry(policy, key: key)
        let decision = entry.counter.take(cost: policy.cost, now: redisNow)
        entries[key] = entry
        return decision
    }

    /// What a request of no cost would be told now, without counting anything (the admin API).
    func peek(_ policy: CompiledRateLimit, key: String, now: Int64) -> RateLimitDecision? {
        guard var counter = entries[key]?.counter else { return nil }
        return counter.take(cost: 0, now: now + clockOffset)
    }

    /// Keys whose policy's `sync_every` has passed since their last sync and that have counts to
    /// send or were used within the period (to learn the other nodes' counts); each is marked as
    /// syncing until `finish`.
    func dueSyncs(now: Int64) -> [SyncRequest] {
        var requests: [SyncRequest] = []
        let redisNow = now + clockOffset
        for (key, var entry) in entries where !entry.counter.isSyncing {
            guard now - entry.lastSync >= entry.policy.syncEveryMilliseconds else { continue }
            let recentlyUsed = redisNow - entry.counter.lastTake < entry.policy.limit.periodMilliseconds
            guard !entry.counter.unsent.isEmpty || recentlyUsed, let counts = entry.counter.beginSync() else {
                continue
            }
            // ARGV: period, now (empty: the script asks Redis TIME), then window start and count pairs.
            var arguments: [[UInt8]] = [Array(String(entry.policy.limit.periodMilliseconds).utf8), []]
            for window in counts {
                arguments.append(Array(String(window.windowStart).utf8))
                arguments.append(Array(String(window.count).utf8))
            }
            entry.lastSync = now
            entries[key] = entry
            requests.append(SyncRequest(key: key, redisKey: entry.redisKey, arguments: arguments, sentAt: now))
        }
        return requests
    }

    /// Applies a sync's reply (or its failure) to the key's counter.
    func finish(_ request: SyncRequest, result: Result<RESPValue, Error>, receivedAt: Int64) {
        guard var entry = entries[request.key] else { return }
        if case .success(let reply) = result, let values = reply.array?.compactMap(\.integer), values.count == 3 {
            clockOffset = values[0] - (request.sentAt + receivedAt) / 2
            entry.counter.finishSync(redisNow: values[0], current: Int(values[1]), previous: Int(values[2]))
        } else {
            // Unavailable means the command was never written; anything else may have run.
            var neverSent = false
            if case .failure(let error) = result, case RedisError.unavailable = error { neverSent = true }
            entry.counter.failSync(sent: !neverSent)
        }
        entries[request.key] = entry
    }

    @discardableResult
    func sweep(now: Int64) -> Int {
        let redisNow = now + clockOffset
        entries = entries.filter { !$0.value.counter.isIdle(now: redisNow) }
        return entries.count
    }

    private static func entry(_ policy: CompiledRateLimit, key: String) -> Entry {
        Entry(
            counter: ApproximateWindowCounter(
                limit: policy.limit, algorithm: policy.algorithm == .slidingWindow ? .slidingWindow : .fixedWindow),
            policy: policy, redisKey: CompiledRateLimit.redisKey(key, prefix: "rla:{"))
    }
}
