/// `GET /admin/stats`: the node's traffic and process figures as JSON, for the status page and
/// scripts: cumulative counts since start (the page turns two readings into rates, as Prometheus
/// does), per route in config order, with the latency histogram's bucket counts.
struct TrafficDocument {
    let server: GatewayServer

    func render() async -> JSONValue {
        let snapshot = server.snapshot
        let sample = await server.dataPlaneSample()
        let events = server.processMetrics.events.withLockedValue { $0 }
        var total = RouteMetrics.Sample()
        for route in sample.routes.values { total.merge(route) }
        // Config order, then what no route answered (404s, malformed requests) as "".
        var routes: [JSONValue] = snapshot.configuration.routes.map { config in
            Self.route(
                name: config.name, upstream: .string(config.upstream), sample: sample.routes[config.name] ?? .init())
        }
        routes.append(Self.route(name: "", upstream: .null, sample: sample.routes[""] ?? .init()))
        let node = snapshot.configuration.node
        var reload: JSONValue = .null
        if let last = events.lastReload {
            reload = .object([
                ("result", .string(last.applied ? "applied" : "rejected")),
                ("at", .string(WallClockText.iso8601(milliseconds: last.atMilliseconds))),
                ("generation", .int(last.generation)),
                ("problems", .array(last.problems.map(JSONValue.string))),
            ])
        }
        return .object([
            ("node", .string(node.id)),
            ("region", node.region.map(JSONValue.string) ?? .null),
            ("version", .string(GatewayVersion.current)),
            ("started_at", .string(WallClockText.iso8601(milliseconds: events.startedAtMilliseconds))),
            ("now", .string(WallClockText.iso8601(milliseconds: WallClock.nowMilliseconds()))),
            ("generation", .int(snapshot.generation)),
            (
                "reloads",
                .object([
                    ("applied", .int(events.reloadsApplied)), ("rejected", .int(events.reloadsRejected)),
                    ("last", reload),
                ])
            ),
            (
                "connections",
                .object([
                    ("open", .int(sample.openConnections.values.reduce(0, +))),
                    ("accepted", .int(sample.acceptedConnections)),
                ])
            ),
            ("duration_bounds_seconds", .array(DurationHistogram.boundsInSeconds.map(JSONValue.double))),
            ("total", .object(Self.counts(total))),
            ("routes", .array(routes)),
            (
                "rate_limits",
                .array(
                    sample.rateLimits.sorted { $0.key < $1.key }.map { policy, counts in
                        .object([
                            ("policy", .string(policy)), ("allowed", .int(counts.allowed)),
                            ("limited", .int(counts.limited)), ("redis_errors", .int(counts.redisErrors)),
                        ])
                    })
            ),
            (
                "auth",
                .object([
                    ("successes", .int(sample.authSuccesses)),
                    ("failures", .int(sample.authFailures.reduce(0, +))),
                ])
            ),
            ("purges", .object([("targets", .int(events.purgeTargets))])),
        ])
    }

    private static func route(name: String, upstream: JSONValue, sample: RouteMetrics.Sample) -> JSONValue {
        .object([("name", .string(name)), ("upstream", upstream)] + counts(sample))
    }

    /// Requests by status class (1xx…5xx, all methods), latency bucket counts (not cumulative; one
    /// past the bounds for +Inf), bytes and cache outcomes.
    private static func counts(_ sample: RouteMetrics.Sample) -> [(String, JSONValue)] {
        let classes = StatusClass.allCases.map { status in
            MethodClass.allCases.reduce(0) { $0 + sample.requests($1, status) }
        }
        return [
            ("requests", .int(classes.reduce(0, +))),
            ("status_classes", .array(classes.map(JSONValue.int))),
            ("duration_counts", .array(sample.duration.counts.map(JSONValue.int))),
            ("received_bytes", .int(sample.receivedBytes)),
            ("sent_bytes", .int(sample.sentBytes)),
            (
                "cache",
                .object(CacheOutcome.allCases.map { ($0.rawValue.lowercased(), .int(sample.cache($0))) })
            ),
        ]
    }
}
