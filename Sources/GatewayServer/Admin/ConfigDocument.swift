import GatewayConfig

/// The active configuration as the admin API shows it: every value with defaults applied, in the
/// shape and units of the config file, with secrets replaced by "[redacted]".
enum ConfigDocument {
    static let redacted = JSONValue.string("[redacted]")

    static func render(_ config: GatewayConfiguration) -> JSONValue {
        var members: [(String, JSONValue)] = [
            (
                "node",
                .object([
                    ("id", .string(config.node.id)), ("region", config.node.region.map(JSONValue.string) ?? .null),
                ])
            ),
            (
                "runtime",
                .object([
                    ("event_loops", .int(config.runtime.eventLoops)),
                    ("drain_timeout", .string(duration(config.runtime.drainTimeout))),
                ])
            ),
            ("listeners", .array(config.listeners.map(listener))),
            ("upstreams", .object(config.upstreams.map { ($0.name, upstream($0)) })),
            ("routes", .array(config.routes.map(route))),
            ("trusted_proxies", .array(config.trustedProxies.map { .string("\($0)") })),
            ("logging", logging(config.logging)),
        ]
        if let geo = config.geo {
            members.append(
                (
                    "geo",
                    .object([
                        ("default", .string(geo.defaultRegion)),
                        (
                            "regions",
                            .object(geo.regions.map { ($0.name, .array($0.networks.map { .string("\($0)") })) })
                        ),
                    ])
                ))
        }
        if let admin = config.admin {
            members.append(
                (
                    "admin",
                    .object([
                        ("address", .string(admin.address.description)),
                        // The name of the variable, not its value: not a secret.
                        ("token_env", admin.tokenEnvironmentVariable.map(JSONValue.string) ?? .null),
                    ])
                ))
        }
        if !config.rateLimits.isEmpty {
            members.append(("rate_limits", .object(config.rateLimits.map { ($0.name, rateLimit($0)) })))
        }
        if let redis = config.redis {
            members.append(("redis", Self.redis(redis)))
        }
        if let tracing = config.tracing {
            members.append(
                (
                    "tracing",
                    .object([
                        ("otlp_endpoint", .string(tracing.otlpEndpoint)),
                        ("sample_ratio", .double(tracing.sampleRatio)),
                        ("service_name", .string(tracing.serviceName)),
                        ("flush_interval", .string(duration(tracing.flushInterval))),
                        ("export_timeout", .string(duration(tracing.exportTimeout))),
                        ("max_queued_spans", .int(tracing.maxQueuedSpans)),
                    ])
                ))
        }
        if let cache = config.cache {
            members.append(
                (
                    "cache",
                    .object([
                        ("memory", .int(cache.memoryBytes)), ("max_object", .int(cache.maxObjectBytes)),
                        ("eviction", .string(cache.eviction.rawValue)),
                        ("targeted_header", cache.targetedHeader.map(JSONValue.string) ?? .null),
                        ("coalesce_timeout", .string(duration(cache.coalesceTimeout))),
                        (
                            "compression",
                            cache.compression.map { compression in
                                .object([
                                    ("algorithms", .array(compression.algorithms.map(JSONValue.string))),
                                    ("min_size", .int(compression.minSizeBytes)),
                                    ("types", .array(compression.types.map(JSONValue.string))),
                                ])
                            } ?? .null
                        ),
                    ])
                ))
        }
        return .object(members)
    }

    /// Header values that carry credentials (an upstream API key set by a route, say).
    static func isSensitiveHeader(_ name: String) -> Bool {
        let lowered = name.lowercased()
        if ["authorization", "proxy-authorization", "cookie", "set-cookie"].contains(lowered) { return true }
        return ["token", "secret", "password", "api-key", "apikey", "api_key", "credential", "signature"].contains {
            lowered.contains($0)
        }
    }

    static func duration(_ value: Duration) -> String {
        let (seconds, attoseconds) = value.components
        if attoseconds == 0 { return "\(seconds)s" }
        let milliseconds = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        return "\(milliseconds)ms"
    }

    private static func listener(_ listener: ListenerConfig) -> JSONValue {
        .object(
            [
                ("name", .string(listener.name)),
                ("address", .string(listener.address.description)),
                ("protocols", .array(listener.protocols.map { .string($0.rawValue) })),
                ("max_connections", .int(listener.maxConnections)),
                (
                    "timeouts",
                    .object([
                        ("header_read", .string(duration(listener.timeouts.headerRead))),
                        ("body_read", .string(duration(listener.timeouts.bodyRead))),
                        ("idle", .string(duration(listener.timeouts.idle))),
                    ])
                ),
                (
                    "limits",
                    .object([
                        ("max_header_bytes", .int(listener.limits.maxHeaderBytes)),
                        ("max_headers", .int(listener.limits.maxHeaders)),
                        ("max_body", listener.limits.maxBody.map(JSONValue.int) ?? .null),
                    ])
                ),
            ] + listenerTLS(listener))
    }

    /// Paths of the CA and client certificate, not their contents.
    private static func upstreamTLS(_ upstream: UpstreamConfig) -> [(String, JSONValue)] {
        var members: [(String, JSONValue)] = []
        if let tls = upstream.tls {
            members.append(
                (
                    "tls",
                    .object([
                        ("verify", .bool(tls.verify)), ("ca", tls.caPath.map(JSONValue.string) ?? .string("system")),
                        ("sni", tls.serverName.map(JSONValue.string) ?? .null),
                        ("cert", tls.certificatePath.map(JSONValue.string) ?? .null),
                        ("key", tls.keyPath.map(JSONValue.string) ?? .null),
                    ])
                ))
        }
        return members
    }

    /// Certificate and key paths, not their contents: the key never leaves the file.
    private static func listenerTLS(_ listener: ListenerConfig) -> [(String, JSONValue)] {
        var members: [(String, JSONValue)] = []
        if let tls = listener.tls {
            let certificates = tls.certificates.map { certificate -> JSONValue in
                .object([
                    ("cert", .string(certificate.certificatePath)), ("key", .string(certificate.keyPath)),
                    ("hosts", .array(certificate.hosts.map(JSONValue.string))),
                ])
            }
            members.append(
                (
                    "tls",
                    .object([("min_version", .string(tls.minVersion.rawValue)), ("certificates", .array(certificates))])
                ))
        }
        if let port = listener.httpsRedirectPort { members.append(("https_redirect", .int(port))) }
        return members
    }

    private static func upstream(_ upstream: UpstreamConfig) -> JSONValue {
        var balance: [(String, JSONValue)] = []
        switch upstream.balance {
        case .roundRobin: balance = [("balance", .string("round_robin"))]
        case .leastRequest: balance = [("balance", .string("least_request"))]
        case .consistentHash(let source):
            let on: JSONValue
            switch source {
            case .clientIP: on = .string("client_ip")
            case .header(let name): on = .object([("header", .string(name))])
            case .cookie(let name): on = .object([("cookie", .string(name))])
            }
            balance = [("balance", .string("consistent_hash")), ("hash_on", on)]
        }
        return .object(
            [
                (
                    "endpoints",
                    .array(
                        upstream.endpoints.map {
                            .object([("address", .string($0.address.description)), ("weight", .int($0.weight))])
                        })
                ),
                ("protocol", .string(upstream.protocolVersion.rawValue)),
            ] + balance + [
                (
                    "pool",
                    .object([
                        ("max_per_endpoint", .int(upstream.pool.maxPerEndpoint)),
                        ("idle_timeout", .string(duration(upstream.pool.idleTimeout))),
                    ])
                ),
                (
                    "timeouts",
                    .object([
                        ("connect", .string(duration(upstream.timeouts.connect))),
                        ("response_header", .string(duration(upstream.timeouts.responseHeader))),
                        ("request", .string(duration(upstream.timeouts.request))),
                    ])
                ),
            ] + resilience(upstream) + upstreamTLS(upstream))
    }

    private static func route(_ route: RouteConfig) -> JSONValue {
        var match: [(String, JSONValue)] = []
        if !route.match.hosts.isEmpty { match.append(("host", .array(route.match.hosts.map(JSONValue.string)))) }
        switch route.match.path {
        case .template(let path)?: match.append(("path", .string(path)))
        case .prefix(let prefix)?: match.append(("path_prefix", .string(prefix)))
        case nil: break
        }
        if !route.match.methods.isEmpty {
            match.append(("methods", .array(route.match.methods.map(JSONValue.string))))
        }
        if !route.match.headers.isEmpty {
            match.append(
                (
                    "headers",
                    .array(
                        route.match.headers.map { header in
                            .object([
                                ("name", .string(header.name)), ("value", header.value.map(JSONValue.string) ?? .null),
                            ])
                        })
                ))
        }
        var members: [(String, JSONValue)] = [("name", .string(route.name)), ("match", .object(match))]
        if let byRegion = route.upstreamByRegion {
            members.append(
                ("upstream_by_region", .object(byRegion.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))
            )
        } else {
            members.append(("upstream", .string(route.upstream)))
        }
        if let ratio = route.traceSampleRatio {
            members.append(("tracing", .object([("sample_ratio", .double(ratio))])))
        }
        switch route.rewrite {
        case .stripPrefix(let prefix)?: members.append(("rewrite", .object([("strip_prefix", .string(prefix))])))
        case .replacePrefix(let prefix)?: members.append(("rewrite", .object([("replace_prefix", .string(prefix))])))
        case nil: break
        }
        members.append(
            (
                "headers",
                .object([
                    ("request", operations(route.headers.request)), ("response", operations(route.headers.response)),
                ])
            ))
        if let timeout = route.requestTimeout {
            members.append(("timeouts", .object([("request", .string(duration(timeout)))])))
        }
        if let cache = route.cache {
            members.append(("cache", routeCache(cache)))
        }
        if !route.rateLimits.isEmpty {
            members.append(("rate_limits", .array(route.rateLimits.map(JSONValue.string))))
        }
        if !route.limits.isEmpty {
            members.append(("limits", limits(route.limits)))
        }
        return .object(members)
    }

    private static func redis(_ redis: RedisConfig) -> JSONValue {
        .object([
            ("mode", .string(redis.mode.rawValue)),
            ("addresses", .array(redis.addresses.map { .string($0.description) })),
            ("username", redis.username.map(JSONValue.string) ?? .null),
            // The name of the variable, not the password.
            ("password_env", redis.passwordEnvironmentVariable.map(JSONValue.string) ?? .null),
            ("database", .int(redis.database)),
            (
                "timeouts",
                .object([
                    ("connect", .string(duration(redis.connectTimeout))),
                    ("command", .string(duration(redis.commandTimeout))),
                ])
            ),
            ("expected_nodes", .int(redis.expectedNodes)),
        ])
    }

    static func rateLimit(_ policy: RateLimitPolicyConfig) -> JSONValue {
        let seconds = policy.rate.period.components.seconds
        let unit = seconds == 1 ? "s" : seconds == 60 ? "min" : seconds == 3600 ? "h" : "d"
        var members: [(String, JSONValue)] = [
            ("algorithm", .string(policy.algorithm.rawValue)), ("rate", .string("\(policy.rate.count)/\(unit)")),
        ]
        if let burst = policy.burst { members.append(("burst", .int(burst))) }
        members += [
            (
                "key",
                .array(
                    policy.key.map { part in
                        switch part {
                        case .clientIP: .string("client_ip")
                        case .route: .string("route")
                        case .header(let name): .string("header:\(name)")
                        case .user: .string("user")
                        case .apiKey: .string("api_key")
                        }
                    })
            ),
            ("mode", .string(policy.mode.rawValue)), ("sync_every", .string(duration(policy.syncEvery))),
            ("on_redis_error", .string(policy.onRedisError.rawValue)), ("cost", .int(policy.cost)),
        ]
        return .object(members)
    }

    private static func routeCache(_ cache: RouteCacheConfig) -> JSONValue {
        let query: JSONValue
        switch cache.query {
        case .ignore: query = .string("ignore")
        case .all: query = .string("all")
        case .only(let names): query = .array(names.map(JSONValue.string))
        }
        return .object([
            ("default_ttl", cache.defaultTTL.map { .string(duration($0)) } ?? .null),
            ("max_ttl", cache.maxTTL.map { .string(duration($0)) } ?? .null),
            ("stale_while_revalidate", .string(duration(cache.staleWhileRevalidate))),
            ("stale_if_error", .string(duration(cache.staleIfError))),
            ("key", .object([("query", query)])),
            ("add_etag", .bool(cache.addETag)),
            ("ignore_set_cookie", .bool(cache.ignoreSetCookie)),
        ])
    }

    private static func operations(_ operations: HeaderOperations) -> JSONValue {
        func fields(_ fields: [HeaderField]) -> JSONValue {
            .object(fields.map { ($0.name, isSensitiveHeader($0.name) ? redacted : .string($0.value)) })
        }
        return .object([
            ("set", fields(operations.set)), ("add", fields(operations.add)),
            ("remove", .array(operations.remove.map(JSONValue.string))),
        ])
    }

    private static func logging(_ logging: LoggingConfig) -> JSONValue {
        var members: [(String, JSONValue)] = [("level", .string(logging.level.rawValue))]
        if let accessLog = logging.accessLog {
            members.append(
                (
                    "access_log",
                    .object([
                        ("path", .string(accessLog.destination.description)), ("format", .string("json")),
                        ("buffer", .int(accessLog.bufferBytes)),
                    ])
                ))
        }
        return .object(members)
    }
}
