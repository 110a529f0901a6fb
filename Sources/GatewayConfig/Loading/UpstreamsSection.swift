import Yams

/// The upstreams as read, plus every declared name (valid or not), so a route naming an upstream
/// that has its own problems is not also told the upstream does not exist.
struct UpstreamsRead {
    var configs: [UpstreamConfig]
    var names: Set<String>
}

extension ConfigReader {
    static let upstreamKeys = [
        "endpoints", "protocol", "balance", "hash_on", "pool", "timeouts", "health_check", "circuit_breaker",
        "outlier", "retries", "limits", "tls",
    ]
    static let balanceNames = ["round_robin", "least_request", "consistent_hash"]

    mutating func readUpstreams(_ entry: Entry) -> UpstreamsRead {
        var result = UpstreamsRead(configs: [], names: [])
        guard case .mapping(let mapping) = entry.value else {
            error(entry.line, "expected a mapping of upstream names to upstreams, got \(Self.describe(entry.value))")
            return result
        }
        for (keyNode, value) in mapping {
            let line = keyNode.position ?? entry.line
            guard let name = scalarText(keyNode, expected: "an upstream name") else { continue }
            if ignoredKeys.contains(name) { continue }
            result.names.insert(name)
            guard Self.isValidUpstreamName(name) else {
                error(line, "invalid upstream name '\(name)': use letters, digits, '_', '.' and '-'")
                continue
            }
            if let upstream = readUpstream(value, name: name) { result.configs.append(upstream) }
        }
        return result
    }

    static func isValidUpstreamName(_ name: String) -> Bool {
        !name.isEmpty
            && name.utf8.allSatisfy {
                UnitParser.isASCIIDigit($0) || UnitParser.isASCIILetter($0) || $0 == UInt8(ascii: "_")
                    || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-")
            }
    }

    private mutating func readUpstream(_ node: Node, name: String) -> UpstreamConfig? {
        let label = "upstream '\(name)'"
        guard let s = section(node, .upstream, context: "in \(label)", keys: Self.upstreamKeys, what: label) else {
            return nil
        }
        require(["endpoints"], in: s)
        let endpoints = s["endpoints"].map { readEndpoints($0, label: label) } ?? []
        let protocolVersion = s["protocol"].flatMap {
            choice($0.value, ["http1", "h2c", "h2"], unsupported: .upstreamProtocol)
        }.flatMap(UpstreamProtocol.init(rawValue:))
        let balance = readBalance(s, label: label)
        let pool = s["pool"].map { readPool($0, label: label) } ?? PoolConfig()
        let timeouts = s["timeouts"].map { readUpstreamTimeouts($0, label: label) } ?? UpstreamTimeouts()
        let healthCheck = s["health_check"].flatMap { readHealthCheck($0, label: label) }
        let circuitBreaker = s["circuit_breaker"].flatMap { readCircuitBreaker($0, label: label) }
        let outlier = s["outlier"].flatMap { readOutlier($0, label: label) }
        let retries = s["retries"].flatMap { readRetries($0, label: label) } ?? .implicit
        let limits = s["limits"].map { readLimits($0, label: label, allowsPending: true) } ?? ConcurrencyLimits()
        let tls = s["tls"].flatMap { readUpstreamTLS($0, label: label) }
        if let protocolEntry = s["protocol"] {
            switch protocolVersion {
            case .h2 where s["tls"] == nil:
                error(protocolEntry.line, "h2 is HTTP/2 over TLS: \(label) needs 'tls' (or use h2c for cleartext)")
            case .h2c where s["tls"] != nil:
                error(protocolEntry.line, "h2c is cleartext HTTP/2: use h2 for \(label), which has 'tls'")
            default:
                break
            }
            if protocolVersion == .h2 || protocolVersion == .h2c, let check = s["health_check"] {
                error(
                    check.line,
                    "health_check is not supported for HTTP/2 upstreams yet (checks speak HTTP/1.1); "
                        + "passive checks (circuit_breaker, outlier) work")
            }
        }
        guard !endpoints.isEmpty, let balance else { return nil }
        return UpstreamConfig(
            name: name, endpoints: endpoints, protocolVersion: protocolVersion ?? .http1, balance: balance,
            pool: pool, timeouts: timeouts, healthCheck: healthCheck, circuitBreaker: circuitBreaker,
            outlier: outlier, retries: retries, limits: limits, tls: tls)
    }

    private mutating func readEndpoints(_ entry: Entry, label: String) -> [EndpointConfig] {
        guard let items = list(entry, nonEmpty: true) else { return [] }
        var result: [EndpointConfig] = []
        var firstLine: [HostPort: Position] = [:]
        for item in items {
            let context = "in endpoint of \(label)"
            guard let s = section(item, .endpoint, context: context, keys: ["address", "weight"], what: "an endpoint")
            else { continue }
            require(["address"], in: s)
            let weight = s["weight"].flatMap { int($0, in: 1...1000) }
            guard let addressEntry = s["address"], let address = hostPort(addressEntry, ports: 1...65_535) else {
                continue
            }
            if let line = firstLine[address] {
                error(addressEntry.line, "duplicate endpoint \(address) in \(label) (first at line \(line))")
                continue
            }
            firstLine[address] = addressEntry.line
            result.append(EndpointConfig(address: address, weight: weight ?? 1))
        }
        return result
    }

    /// `balance` and `hash_on` together: hashing needs a key, and a key without hashing is a
    /// sign the author expected stickiness they will not get.
    private mutating func readBalance(_ s: Section, label: String) -> BalanceStrategy? {
        var name: String? = "round_robin"
        if let balance = s["balance"] { name = choice(balance.value, Self.balanceNames) }
        let hashSource = s["hash_on"].flatMap { readHashOn($0, label: label) }
        switch name {
        case "round_robin", "least_request":
            if let hashOn = s["hash_on"] {
                error(hashOn.keyLine, "'hash_on' only applies to balance: consistent_hash")
                return nil
            }
            return name == "round_robin" ? .roundRobin : .leastRequest
        case "consistent_hash":
            guard s["hash_on"] != nil else {
                error(s["balance"]?.line ?? s.line, "balance: consistent_hash needs 'hash_on' in \(label)")
                return nil
            }
            return hashSource.map { .consistentHash($0) }
        default:
            return nil
        }
    }

    private mutating func readHashOn(_ entry: Entry, label: String) -> HashSource? {
        let expected = "client_ip, {header: NAME} or {cookie: NAME}"
        if case .scalar(let scalar) = entry.value, !Self.isNull(scalar) {
            if scalar.string == "client_ip" { return .clientIP }
            error(entry.line, "expected \(expected), got '\(scalar.string)'")
            return nil
        }
        guard case .mapping = entry.value else {
            error(entry.line, "expected \(expected), got \(Self.describe(entry.value))")
            return nil
        }
        guard let s = section(entry, .hashOn, context: "in hash_on of \(label)", keys: ["header", "cookie"]) else {
            return nil
        }
        switch (s["header"], s["cookie"]) {
        case (let header?, nil):
            return headerName(header).map { .header($0.lowercased()) }
        case (nil, let cookie?):
            return headerName(cookie, what: "cookie name").map { .cookie($0) }
        case (_?, let cookie?):
            error(cookie.keyLine, "'hash_on' takes one of 'header' or 'cookie', not both")
            return nil
        case (nil, nil):
            error(s.line, "'hash_on' needs 'header' or 'cookie' in \(label)")
            return nil
        }
    }

    private mutating func readPool(_ entry: Entry, label: String) -> PoolConfig {
        let defaults = PoolConfig()
        guard
            let s = section(
                entry, .pool, context: "in pool of \(label)", keys: ["max_per_endpoint", "idle_timeout"])
        else { return defaults }
        return PoolConfig(
            maxPerEndpoint: s["max_per_endpoint"].flatMap { int($0, in: 1...Int.max) } ?? defaults.maxPerEndpoint,
            idleTimeout: s["idle_timeout"].flatMap { duration($0) } ?? defaults.idleTimeout)
    }

    private mutating func readUpstreamTimeouts(_ entry: Entry, label: String) -> UpstreamTimeouts {
        let defaults = UpstreamTimeouts()
        let keys = ["connect", "response_header", "request"]
        guard let s = section(entry, .upstreamTimeouts, context: "in timeouts of \(label)", keys: keys) else {
            return defaults
        }
        return UpstreamTimeouts(
            connect: s["connect"].flatMap { duration($0) } ?? defaults.connect,
            responseHeader: s["response_header"].flatMap { duration($0) } ?? defaults.responseHeader,
            request: s["request"].flatMap { duration($0) } ?? defaults.request)
    }
}
