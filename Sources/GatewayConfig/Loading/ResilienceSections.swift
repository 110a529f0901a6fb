import Yams

/// The resilience sections of an upstream (`health_check`, `circuit_breaker`, `outlier`,
/// `retries`, `limits`) and a route's `limits`.
extension ConfigReader {
    mutating func readHealthCheck(_ entry: Entry, label: String) -> HealthCheckConfig? {
        let keys = ["path", "interval", "timeout", "healthy", "unhealthy", "expect", "host"]
        guard let s = section(entry, .healthCheck, context: "in health_check of \(label)", keys: keys) else {
            return nil
        }
        var config = HealthCheckConfig()
        if let e = s["path"], let path = string(e) {
            if path.first == "/", path.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) {
                config.path = path
            } else {
                error(e.line, "health_check path must start with '/' and contain no spaces or control characters")
            }
        }
        if let interval = s["interval"].flatMap({ duration($0) }) { config.interval = interval }
        if let timeout = s["timeout"].flatMap({ duration($0) }) { config.timeout = timeout }
        if let healthy = s["healthy"].flatMap({ int($0, in: 1...100) }) { config.healthy = healthy }
        if let unhealthy = s["unhealthy"].flatMap({ int($0, in: 1...100) }) { config.unhealthy = unhealthy }
        if let e = s["expect"], let items = list(e, nonEmpty: true) {
            config.expect = Set(items.compactMap { status($0) })
        }
        if let e = s["host"], let host = name(e) { config.host = host }
        if config.timeout > config.interval {
            error(s["timeout"]?.line ?? s.line, "health_check timeout must not exceed its interval in \(label)")
        }
        return config
    }

    mutating func readCircuitBreaker(_ entry: Entry, label: String) -> CircuitBreakerConfig? {
        let keys = [
            "consecutive_failures", "error_ratio", "min_requests", "window", "open_for", "max_open_for",
            "half_open_requests", "on",
        ]
        guard let s = section(entry, .circuitBreaker, context: "in circuit_breaker of \(label)", keys: keys) else {
            return nil
        }
        var config = CircuitBreakerConfig()
        if let n = s["consecutive_failures"].flatMap({ int($0, in: 1...100_000) }) { config.consecutiveFailures = n }
        if let e = s["error_ratio"] {
            // `error_ratio: null` (or `off`) keeps only the consecutive-failures rule.
            if case .scalar(let scalar) = e.value, Self.isNull(scalar) || scalar.string == "off" {
                config.errorRatio = nil
            } else if let ratio = ratio(e) {
                config.errorRatio = ratio
            }
        }
        if let n = s["min_requests"].flatMap({ int($0, in: 1...1_000_000) }) { config.minRequests = n }
        if let window = s["window"].flatMap({ duration($0) }) { config.window = window }
        (config.openFor, config.maxOpenFor) = growing(
            s, "open_for", "max_open_for", defaults: (config.openFor, config.maxOpenFor), label: label)
        if let n = s["half_open_requests"].flatMap({ int($0, in: 1...10_000) }) { config.halfOpenRequests = n }
        if let e = s["on"], let on = failureConditions(e) { config.on = on }
        return config
    }

    mutating func readOutlier(_ entry: Entry, label: String) -> OutlierConfig? {
        let keys = ["consecutive_5xx", "eject_for", "max_eject_for", "max_ejected_percent"]
        guard let s = section(entry, .outlier, context: "in outlier of \(label)", keys: keys) else { return nil }
        var config = OutlierConfig()
        if let n = s["consecutive_5xx"].flatMap({ int($0, in: 1...100_000) }) { config.consecutive5xx = n }
        (config.ejectFor, config.maxEjectFor) = growing(
            s, "eject_for", "max_eject_for", defaults: (config.ejectFor, config.maxEjectFor), label: label)
        if let n = s["max_ejected_percent"].flatMap({ int($0, in: 0...100) }) { config.maxEjectedPercent = n }
        return config
    }

    mutating func readRetries(_ entry: Entry, label: String) -> RetryConfig? {
        let keys = ["attempts", "on", "backoff", "max_backoff", "budget_percent", "per_try_timeout", "max_body"]
        guard let s = section(entry, .retries, context: "in retries of \(label)", keys: keys) else { return nil }
        var config = RetryConfig()
        if let n = s["attempts"].flatMap({ int($0, in: 0...10) }) { config.attempts = n }
        if let e = s["on"], let on = failureConditions(e) { config.on = on }
        if let backoff = s["backoff"].flatMap({ duration($0, positive: false) }) {
            config.backoff = backoff
            config.maxBackoff = backoff * 10
        }
        if let e = s["max_backoff"], let maxBackoff = duration(e, positive: false) {
            if maxBackoff < config.backoff {
                error(e.line, "max_backoff must be at least backoff in \(label)")
            } else {
                config.maxBackoff = maxBackoff
            }
        }
        if let n = s["budget_percent"].flatMap({ int($0, in: 0...100) }) { config.budgetPercent = n }
        if let timeout = s["per_try_timeout"].flatMap({ duration($0) }) { config.perTryTimeout = timeout }
        if let maxBody = s["max_body"].flatMap({ size($0) }) { config.maxBody = maxBody }
        return config
    }

    mutating func readLimits(_ entry: Entry, label: String, allowsPending: Bool) -> ConcurrencyLimits {
        let keys = allowsPending ? ["max_concurrent", "max_pending"] : ["max_concurrent"]
        let kind: SectionKind = allowsPending ? .upstreamLimits : .routeLimits
        guard let s = section(entry, kind, context: "in limits of \(label)", keys: keys) else {
            return ConcurrencyLimits()
        }
        return ConcurrencyLimits(
            maxConcurrent: s["max_concurrent"].flatMap { int($0, in: 1...10_000_000) },
            maxPending: s["max_pending"].flatMap { int($0, in: 0...10_000_000) })
    }

    /// A duration that grows with repetition (`open_for`, `eject_for`) and its cap: the cap follows
    /// a base set above it, and a cap set below the base is an error.
    private mutating func growing(
        _ s: Section, _ baseKey: String, _ capKey: String, defaults: (Duration, Duration), label: String
    ) -> (Duration, Duration) {
        var (base, cap) = defaults
        if let value = s[baseKey].flatMap({ duration($0) }) {
            base = value
            cap = max(cap, value)
        }
        if let e = s[capKey], let value = duration(e) {
            if value < base {
                error(e.line, "\(capKey) must be at least \(baseKey) in \(label)")
            } else {
                cap = value
            }
        }
        return (base, cap)
    }

    /// `on: [connect_failure, timeout, reset, 5xx, 503]`.
    private mutating func failureConditions(_ entry: Entry) -> FailureConditions? {
        guard let items = list(entry, nonEmpty: true) else { return nil }
        var conditions = FailureConditions()
        let words = ["connect_failure", "timeout", "reset", "5xx"]
        for item in items {
            guard let text = scalarText(item, expected: "one of \(words.joined(separator: ", ")) or a status") else {
                continue
            }
            switch text {
            case "connect_failure": conditions.connectFailure = true
            case "timeout": conditions.timeout = true
            case "reset": conditions.reset = true
            case "5xx": conditions.serverErrors = true
            default:
                if let code = Int(text), (100...599).contains(code) {
                    conditions.statuses.insert(code)
                } else {
                    error(
                        item.position,
                        "expected one of \(words.joined(separator: ", ")) or a status 100-599, got '\(text)'"
                            + Suggestion.hint(for: text, in: words))
                }
            }
        }
        return conditions
    }

    private mutating func status(_ node: Node) -> Int? {
        guard let text = scalarText(node, expected: "a status code") else { return nil }
        guard let code = Int(text), (100...599).contains(code) else {
            error(node.position, "expected a status code 100-599, got '\(text)'")
            return nil
        }
        return code
    }

    /// A number in (0, 1].
    private mutating func ratio(_ entry: Entry) -> Double? {
        guard let text = scalarText(entry.value, expected: "a ratio like 0.5") else { return nil }
        guard let value = Double(text), value > 0, value <= 1 else {
            error(entry.line, "'\(entry.key)' must be a number greater than 0 and at most 1, got '\(text)'")
            return nil
        }
        return value
    }
}
