import GatewayConfig

/// The resilience sections of an upstream (and a route's limits) in `/admin/config`, in the keys
/// of the config file, with every default filled in.
extension ConfigDocument {
    static func resilience(_ upstream: UpstreamConfig) -> [(String, JSONValue)] {
        var members: [(String, JSONValue)] = []
        if let check = upstream.healthCheck {
            members.append(
                (
                    "health_check",
                    .object([
                        ("path", .string(check.path)), ("interval", .string(duration(check.interval))),
                        ("timeout", .string(duration(check.timeout))), ("healthy", .int(check.healthy)),
                        ("unhealthy", .int(check.unhealthy)),
                        (
                            "expect",
                            check.expect.isEmpty ? .string("2xx") : .array(check.expect.sorted().map(JSONValue.int))
                        ),
                        ("host", check.host.map(JSONValue.string) ?? .null),
                    ])
                ))
        }
        if let breaker = upstream.circuitBreaker {
            members.append(
                (
                    "circuit_breaker",
                    .object([
                        ("consecutive_failures", .int(breaker.consecutiveFailures)),
                        ("error_ratio", breaker.errorRatio.map { .string(String($0)) } ?? .string("off")),
                        ("min_requests", .int(breaker.minRequests)), ("window", .string(duration(breaker.window))),
                        ("open_for", .string(duration(breaker.openFor))),
                        ("max_open_for", .string(duration(breaker.maxOpenFor))),
                        ("half_open_requests", .int(breaker.halfOpenRequests)), ("on", conditions(breaker.on)),
                    ])
                ))
        }
        if let outlier = upstream.outlier {
            members.append(
                (
                    "outlier",
                    .object([
                        ("consecutive_5xx", .int(outlier.consecutive5xx)),
                        ("eject_for", .string(duration(outlier.ejectFor))),
                        ("max_eject_for", .string(duration(outlier.maxEjectFor))),
                        ("max_ejected_percent", .int(outlier.maxEjectedPercent)),
                    ])
                ))
        }
        let retries = upstream.retries
        members.append(
            (
                "retries",
                .object([
                    ("attempts", .int(retries.attempts)), ("on", conditions(retries.on)),
                    ("backoff", .string(duration(retries.backoff))),
                    ("max_backoff", .string(duration(retries.maxBackoff))),
                    ("budget_percent", .int(retries.budgetPercent)),
                    ("per_try_timeout", retries.perTryTimeout.map { .string(duration($0)) } ?? .null),
                    ("max_body", .int(retries.maxBody)),
                ])
            ))
        if !upstream.limits.isEmpty { members.append(("limits", limits(upstream.limits))) }
        return members
    }

    static func limits(_ limits: ConcurrencyLimits) -> JSONValue {
        var members: [(String, JSONValue)] = []
        if let maxConcurrent = limits.maxConcurrent { members.append(("max_concurrent", .int(maxConcurrent))) }
        if let maxPending = limits.maxPending { members.append(("max_pending", .int(maxPending))) }
        return .object(members)
    }

    private static func conditions(_ conditions: FailureConditions) -> JSONValue {
        var names: [JSONValue] = []
        if conditions.connectFailure { names.append(.string("connect_failure")) }
        if conditions.timeout { names.append(.string("timeout")) }
        if conditions.reset { names.append(.string("reset")) }
        if conditions.serverErrors { names.append(.string("5xx")) }
        names += conditions.statuses.sorted().map(JSONValue.int)
        return .array(names)
    }
}
