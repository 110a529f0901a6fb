/// One policy's decisions on one event loop: plain integers, reached through the route's policy
/// list, so counting a decision does not hash the policy's name.
final class RateLimitCounters {
    var counts = MetricsSample.RateLimitCounts()
}

/// A route's policy as one loop applies it: the compiled policy and this loop's counters for it.
struct LoopRateLimit {
    let policy: CompiledRateLimit
    let counters: RateLimitCounters
}
