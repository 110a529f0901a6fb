import Yams

/// The policies as read, plus every declared name (valid or not), so a route naming a policy that
/// has its own problems is not also told the policy does not exist.
struct RateLimitsRead {
    var policies: [RateLimitPolicyConfig] = []
    var names: Set<String> = []

    /// Policies counting by the authenticated identity: their routes must authenticate.
    var identityKeyed: Set<String> {
        Set(policies.filter { $0.key.contains(.user) || $0.key.contains(.apiKey) }.map(\.name))
    }
}

extension ConfigReader {
    static let rateLimitKeys = [
        "algorithm", "rate", "burst", "key", "mode", "sync_every", "on_redis_error", "cost",
    ]

    /// `rate_limits: { NAME: { algorithm, rate, burst, key, mode, sync_every, on_redis_error, cost } }`.
    mutating func readRateLimits(_ entry: Entry) -> RateLimitsRead {
        var result = RateLimitsRead()
        guard case .mapping(let mapping) = entry.value else {
            error(entry.line, "expected a mapping of policy names to rate limits, got \(Self.describe(entry.value))")
            return result
        }
        for (keyNode, value) in mapping {
            let line = keyNode.position ?? entry.line
            guard let name = scalarText(keyNode, expected: "a policy name") else { continue }
            if ignoredKeys.contains(name) { continue }
            result.names.insert(name)
            guard Self.isValidUpstreamName(name) else {
                error(line, "invalid rate limit name '\(name)': use letters, digits, '_', '.' and '-'")
                continue
            }
            if let policy = readRateLimit(value, name: name) { result.policies.append(policy) }
        }
        return result
    }

    private mutating func readRateLimit(_ node: Node, name: String) -> RateLimitPolicyConfig? {
        let label = "rate limit '\(name)'"
        guard let s = section(node, .rateLimit, context: "in \(label)", keys: Self.rateLimitKeys, what: label) else {
            return nil
        }
        require(["rate"], in: s)
        let algorithm =
            s["algorithm"].flatMap { choice($0.value, RateLimitPolicyConfig.Algorithm.allCases.map(\.rawValue)) }
            .flatMap(RateLimitPolicyConfig.Algorithm.init(rawValue:)) ?? .tokenBucket
        var rate: Rate?
        if let rateEntry = s["rate"], let text = string(rateEntry) {
            rate = UnitParser.parseRate(text)
            if rate == nil { error(rateEntry.line, "expected a rate like 100/s or 6000/min, got '\(text)'") }
        }
        let burst = s["burst"].flatMap { int($0, in: 1...100_000_000) }
        if let burstEntry = s["burst"], algorithm == .slidingWindow || algorithm == .fixedWindow {
            error(burstEntry.keyLine, "'burst' applies to token_bucket and gcra, not \(algorithm.rawValue) in \(label)")
        }
        let key = s["key"].map { readRateLimitKey($0, label: label) } ?? [.clientIP]
        let mode =
            s["mode"].flatMap { choice($0.value, ["exact", "approximate"]) }
            .flatMap(RateLimitPolicyConfig.Mode.init(rawValue:)) ?? .exact
        let syncEvery = s["sync_every"].flatMap { duration($0) } ?? .milliseconds(100)
        if let modeEntry = s["mode"], mode == .approximate, algorithm == .tokenBucket || algorithm == .gcra {
            // Approximate mode adds up per-window counters from every node; a bucket's state is a
            // level that changes with time, which partial sums from several nodes cannot rebuild.
            error(
                modeEntry.line,
                "mode: approximate counts windows: use fixed_window or sliding_window in \(label) (\(algorithm.rawValue) needs mode: exact)"
            )
        }
        if let syncEntry = s["sync_every"], let rate, mode == .approximate,
            syncEvery < .milliseconds(10) || syncEvery >= rate.period
        {
            error(syncEntry.line, "'sync_every' must be at least 10ms and shorter than the rate's period in \(label)")
        }
        let onRedisError =
            s["on_redis_error"].flatMap { choice($0.value, ["fail_open", "fail_closed"]) }
            .flatMap(RateLimitPolicyConfig.OnRedisError.init(rawValue:)) ?? .failOpen
        let cost = s["cost"].flatMap { int($0, in: 1...1_000_000) } ?? 1
        guard let rate else { return nil }
        // The algorithms count in integer milliseconds scaled by the limit, kept exact in the
        // Redis scripts' doubles: the product must stay below 2^51.
        let periodMilliseconds = Int64(rate.period.components.seconds) * 1000
        if Int64(max(rate.count, burst ?? 0)).multipliedReportingOverflow(by: periodMilliseconds).partialValue
            >= (Int64(1) << 51) || Int64(max(rate.count, burst ?? 0)) > (Int64(1) << 40)
        {
            error(s["rate"]?.line, "rate '\(rate.count)/…' is too large to count exactly in \(label)")
            return nil
        }
        return RateLimitPolicyConfig(
            name: name, algorithm: algorithm, rate: rate, burst: burst, key: key, mode: mode, syncEvery: syncEvery,
            onRedisError: onRedisError, cost: cost)
    }

    /// `key: [client_ip, route, header:X-Tenant]`; `user` and `api_key` come with authentication.
    private mutating func readRateLimitKey(_ entry: Entry, label: String) -> [RateLimitPolicyConfig.KeyPart] {
        guard let items = list(entry, nonEmpty: true) else { return [.clientIP] }
        var parts: [RateLimitPolicyConfig.KeyPart] = []
        for item in items {
            guard let text = scalarText(item, expected: "client_ip, user, api_key, route or header:NAME") else {
                continue
            }
            switch text {
            case "client_ip": parts.append(.clientIP)
            case "route": parts.append(.route)
            case "user": parts.append(.user)
            case "api_key": parts.append(.apiKey)
            default:
                if text.hasPrefix("header:"), case let header = String(text.dropFirst(7)), HTTPSyntax.isToken(header) {
                    parts.append(.header(header.lowercased()))
                } else {
                    error(
                        item.position,
                        "expected client_ip, user, api_key, route or header:NAME in the key of \(label), got '\(text)'")
                }
            }
        }
        return parts
    }
}
