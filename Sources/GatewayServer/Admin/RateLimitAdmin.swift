import GatewayConfig
import NIOCore
import RateLimiting
import Redis

/// `GET /admin/ratelimits`: the policies with their decisions so far, and with
/// `?policy=NAME&key=VALUE` where a key stands now, asked of whatever decides it (Redis for exact
/// mode, this node's synced counters for approximate mode, the embedded limiter without Redis)
/// without counting anything.
struct RateLimitAdmin {
    let server: GatewayServer

    typealias Response = AdminAPI.Response

    private static func percentDecoded(_ text: Substring) -> String? {
        PercentDecoding.decode(text.utf8).flatMap { String(validating: $0, as: UTF8.self) }
    }

    func handle(query: String) async -> Response {
        var parameters: [String: String] = [:]
        for parameter in query.split(separator: "&") {
            let parts = parameter.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = parts.first.flatMap({ Self.percentDecoded($0) }),
                let value = Self.percentDecoded(parts.count > 1 ? parts[1] : "")
            else {
                return .error(400, "invalid_request", "The query is not valid percent-encoding.")
            }
            parameters[name] = value
        }
        let configuration = server.snapshot.configuration
        guard let policyName = parameters["policy"] else {
            if parameters["key"] != nil {
                return .error(400, "invalid_request", "'key' needs 'policy' (which policy's count to show).")
            }
            return await overview(configuration)
        }
        guard let policy = configuration.rateLimits.first(where: { $0.name == policyName }) else {
            return .error(404, "not_found", "No rate limit policy named '\(policyName)'.")
        }
        guard let key = parameters["key"] else {
            return .error(
                400, "invalid_request",
                "Give the key's value: the values of the policy's key parts joined with '|', e.g. key=203.0.113.7.")
        }
        return await state(
            of: CompiledRateLimit(policy, expectedNodes: configuration.redis?.expectedNodes ?? 1), key: key)
    }

    private func overview(_ configuration: GatewayConfiguration) async -> Response {
        let sample = await server.dataPlaneSample()
        let policies = configuration.rateLimits.map { policy -> JSONValue in
            let counts = sample.rateLimits[policy.name] ?? MetricsSample.RateLimitCounts()
            var members: [(String, JSONValue)] = [("name", .string(policy.name))]
            if case .object(let settings) = ConfigDocument.rateLimit(policy) { members += settings }
            members += [
                (
                    "routes",
                    .array(configuration.routes.filter { $0.rateLimits.contains(policy.name) }.map { .string($0.name) })
                ),
                (
                    "decisions",
                    .object([
                        ("allowed", .int(counts.allowed)), ("limited", .int(counts.limited)),
                        ("redis_errors", .int(counts.redisErrors)),
                    ])
                ),
            ]
            return .object(members)
        }
        let backend: JSONValue
        if let redis = configuration.redis {
            let connected = await redisConnected()
            backend = .object([
                ("kind", .string("redis")), ("mode", .string(redis.mode.rawValue)),
                ("connected", connected.map(JSONValue.bool) ?? .null),
            ])
        } else {
            backend = .object([("kind", .string("local"))])
        }
        return .json(200, .object([("backend", backend), ("policies", .array(policies))]))
    }

    private func redisConnected() async -> Bool? {
        guard let loop = server.loopContexts().first else { return nil }
        return try? await loop.eventLoop.submit { loop.value.redis?.isConnected ?? false }.get()
    }

    private func state(of policy: CompiledRateLimit, key value: String) async -> Response {
        let countingKey = policy.name + "|" + value
        let loops = server.loopContexts()
        guard let loop = loops.first else {
            return .error(503, "not_running", "The data plane is not running.")
        }
        let now = WallClock.nowMilliseconds()
        let source: String
        let decision: RateLimitDecision?
        if server.snapshot.configuration.redis != nil {
            switch policy.mode {
            case .approximate:
                // Each event loop counts on its own; the one that has counted the most speaks.
                source = "approximate: fleet totals as last synced plus this node's unsent counts"
                var views: [RateLimitDecision] = []
                for loop in loops {
                    let view = try? await loop.eventLoop.submit {
                        loop.value.approximateLimiter?.peek(policy, key: countingKey, now: now)
                    }.get()
                    if let view = view ?? nil { views.append(view) }
                }
                decision = views.min { $0.remaining < $1.remaining }
            case .exact:
                source = "redis"
                let reply = await Self.askRedis(policy, key: countingKey, loop: loop)
                switch reply {
                case .success(let parsed): decision = parsed
                case .failure(let error):
                    return .error(503, "redis_unavailable", "Redis did not answer: \(error).")
                }
            }
        } else {
            source = "local"
            decision = server.rateLimiter.peek(policy, key: countingKey, now: now)
        }
        var members: [(String, JSONValue)] = [
            ("policy", .string(policy.name)), ("key", .string(value)), ("source", .string(source)),
        ]
        if let decision {
            members += [
                ("limit", .int(decision.limit)), ("remaining", .int(decision.remaining)),
                ("used", .int(max(0, decision.limit - decision.remaining))),
                ("reset_ms", .int(Int(decision.resetMilliseconds))),
            ]
        } else {
            members.append(("seen", .bool(false)))
        }
        return .json(200, .object(members))
    }

    /// The policy's script with a cost of 0: it answers the current state and counts nothing.
    private static func askRedis(_ policy: CompiledRateLimit, key: String, loop: NIOLoopBound<LoopContext>) async
        -> Result<RateLimitDecision, Error>
    {
        var arguments = policy.scriptArguments
        arguments[3] = Array("0".utf8)
        do {
            let reply = try await loop.eventLoop.flatSubmit { () -> EventLoopFuture<RESPValue> in
                guard let redis = loop.value.redis else {
                    return loop.eventLoop.makeFailedFuture(RedisError.unavailable("no redis configured"))
                }
                return redis.evaluate(policy.script, keys: [CompiledRateLimit.redisKey(key)], arguments: arguments)
            }.get()
            guard let decision = RateLimitReply.decision(reply) else {
                return .failure(RedisError.protocolError("unexpected reply \(reply)"))
            }
            return .success(decision)
        } catch {
            return .failure(error)
        }
    }
}
