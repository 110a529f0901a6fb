import GatewayConfig
import RateLimiting
import Redis

/// A policy as the data plane uses it, compiled once per snapshot.
final class CompiledRateLimit: Sendable {
    let name: String
    let algorithm: RateLimitPolicyConfig.Algorithm
    let limit: RateLimit
    let key: [RateLimitPolicyConfig.KeyPart]
    let cost: Int
    let onRedisError: RateLimitPolicyConfig.OnRedisError
    let mode: RateLimitPolicyConfig.Mode
    let syncEveryMilliseconds: Int64
    /// While Redis is unreachable, a fail_open policy holds each node to this share of the limit
    /// (`redis.expected_nodes`), so the fleet stays near the limit.
    let fallbackLimit: RateLimit
    /// The Lua script of the algorithm, for exact mode through Redis.
    let script: RedisScript
    /// amount, period ms, burst, cost: the script's arguments, encoded once.
    let scriptArguments: [[UInt8]]

    init(_ config: RateLimitPolicyConfig, expectedNodes: Int = 1) {
        name = config.name
        algorithm = config.algorithm
        limit = RateLimit(
            amount: config.rate.count, periodMilliseconds: Int64(config.rate.period.components.seconds) * 1000,
            burst: config.burst)
        key = config.key
        cost = config.cost
        onRedisError = config.onRedisError
        mode = config.mode
        syncEveryMilliseconds =
            Int64(config.syncEvery.components.seconds) * 1000
            + config.syncEvery.components.attoseconds / 1_000_000_000_000_000
        let nodes = max(1, expectedNodes)
        fallbackLimit = RateLimit(
            amount: max(1, limit.amount / nodes), periodMilliseconds: limit.periodMilliseconds,
            burst: max(1, limit.burst / nodes))
        script = AlgorithmScripts.script(for: config.algorithm)
        scriptArguments = [
            String(limit.amount), String(limit.periodMilliseconds), String(limit.burst), String(config.cost),
        ].map { Array($0.utf8) }
    }

    /// The policies of each route, index-aligned with `snapshot.routes`.
    static func perRoute(_ configuration: GatewayConfiguration) -> [[CompiledRateLimit]] {
        var byName: [String: CompiledRateLimit] = [:]
        let nodes = configuration.redis?.expectedNodes ?? 1
        for policy in configuration.rateLimits {
            byName[policy.name] = CompiledRateLimit(policy, expectedNodes: nodes)
        }
        return configuration.routes.map { route in route.rateLimits.compactMap { byName[$0] } }
    }

    /// The counting key: the policy's name and each key part's value for this request.
    func key(
        for head: RequestHead, client: ClientAddress, route: String, trustedProxies: [CIDR],
        identity: RequestIdentity? = nil
    ) -> String {
        var text = name
        for part in key {
            text += "|"
            switch part {
            case .clientIP: text += Self.clientIP(head, client: client, trustedProxies: trustedProxies)
            case .route: text += route
            case .header(let name): text += head.values(named: name).joined(separator: ",")
            case .user: text += identity?.user ?? ""
            case .apiKey: text += identity?.consumer ?? ""
            }
        }
        return text
    }

    /// The peer, or behind trusted proxies, the right-most `X-Forwarded-For` entry that is not
    /// one of them (entries further left are whatever the client claimed).
    static func clientIP(_ head: RequestHead, client: ClientAddress, trustedProxies: [CIDR]) -> String {
        guard client.isTrustedProxy else { return client.ip }
        let entries = head.values(named: "x-forwarded-for").flatMap { $0.split(separator: ",") }
        for entry in entries.reversed() {
            let text = entry.trimmingSpaces()
            guard let bytes = UnitParser.parseIPAddress(text) else { return client.ip }
            if !trustedProxies.contains(where: { $0.contains(bytes) }) { return String(text) }
        }
        return client.ip
    }

    /// The Redis key of a counting key: a hash tag around all of it, so in a Cluster each
    /// key's state lives in one slot.
    static func redisKey(_ key: String, prefix: StaticString = "rl:{") -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(key.utf8.count + prefix.utf8CodeUnitCount + 1)
        prefix.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: key.utf8)
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }
}
