import NIOCore
import RateLimiting
import Redis

/// Approximate mode's exchange with Redis, run by one event loop: every tick it sends each due
/// key's unsent counts (one pipelined script call per key) and applies the fleet's totals that
/// come back. Ticks at the shortest `sync_every` of the current policies.
final class ApproximateSync {
    static let script = RedisScript(RateLimitScripts.windowCounterSync)

    private let limiter: ApproximateRateLimiter
    private let redis: any RedisScriptRunner
    private let recordLatency: (Int64) -> Void
    private var interval: TimeAmount
    private var task: Scheduled<Void>?

    init(
        limiter: ApproximateRateLimiter, redis: any RedisScriptRunner, interval: TimeAmount,
        recordLatency: @escaping (Int64) -> Void
    ) {
        self.limiter = limiter
        self.redis = redis
        self.interval = interval
        self.recordLatency = recordLatency
    }

    func start() {
        schedule()
    }

    /// A reload changed the policies' intervals: the next tick uses the new one.
    func setInterval(_ newInterval: TimeAmount) {
        interval = newInterval
    }

    func stop() {
        task?.cancel()
        task = nil
    }

    /// The shortest `sync_every` of the approximate policies, or 100 ms when there are none
    /// (a tick then finds nothing to do).
    static func interval(for policies: [CompiledRateLimit]) -> TimeAmount {
        let shortest = policies.filter { $0.mode == .approximate }.map(\.syncEveryMilliseconds).min() ?? 100
        return .milliseconds(max(10, shortest))
    }

    private func schedule() {
        task = redis.eventLoop.assumeIsolated().scheduleTask(in: interval) {
            self.tick()
            self.schedule()
        }
    }

    private func tick() {
        let now = WallClock.nowMilliseconds()
        let started = NIODeadline.now()
        for request in limiter.dueSyncs(now: now) {
            redis.evaluate(Self.script, keys: [request.redisKey], arguments: request.arguments).assumeIsolated()
                .whenComplete { result in
                    if case .success = result { self.recordLatency((NIODeadline.now() - started).nanoseconds) }
                    self.limiter.finish(request, result: result, receivedAt: WallClock.nowMilliseconds())
                }
        }
    }
}
