import GatewayConfig

/// `GET /admin/upstreams`: every upstream's endpoints with what decides whether they get traffic
/// (health from active checks, circuit state, outlier ejection) and what they carry (connections,
/// requests in flight), plus the upstream's bulkheads and resilience counters.
extension AdminAPI {
    func upstreams() async -> Response {
        let snapshot = server.snapshot
        let pools = await server.poolCounts()
        let states = await server.endpointStates()
        let resilience = server.resilienceRuntime
        let failures = await resilience.lastFailures()
        let counters = await server.dataPlaneSample().upstreams
        let upstreams = snapshot.configuration.upstreams.enumerated().map { index, upstream -> JSONValue in
            let health = index < resilience.health.count ? resilience.health[index] : nil
            let endpointStates = states[upstream.name] ?? []
            let endpoints = upstream.endpoints.enumerated().map { position, endpoint -> JSONValue in
                let address = endpoint.address.description
                let counts = pools[address] ?? MetricsSample.PoolSample()
                let state = position < endpointStates.count ? endpointStates[position] : EndpointStateSample()
                var fields: [(String, JSONValue)] = [
                    ("address", .string(address)),
                    ("weight", .int(endpoint.weight)),
                ]
                if let health, position < health.count {
                    fields.append(("health", .string(health[position].isUp ? "healthy" : "unhealthy")))
                    fields.append(("checks_passed", .int(health[position].passed)))
                    fields.append(("checks_failed", .int(health[position].failed)))
                    if let failure = failures[upstream.name]?[address] {
                        fields.append(("last_check_failure", .string(failure)))
                    }
                } else {
                    fields.append(("health", .string("unchecked")))
                }
                fields.append(("circuit", state.circuit.map { .string($0.label) } ?? .string("none")))
                fields.append(("ejected", .bool(state.ejected)))
                fields.append(("in_rotation", .bool(Self.inRotation(health, position, state))))
                fields.append(("connections", .int(counts.open)))
                fields.append(("active_requests", .int(counts.active)))
                return .object(fields)
            }
            let sample = counters[upstream.name] ?? UpstreamMetrics.Sample()
            var fields: [(String, JSONValue)] = [
                ("name", .string(upstream.name)),
                ("endpoints", .array(endpoints)),
                (
                    "counters",
                    .object([
                        ("circuit_opened", .int(sample.circuitOpened)),
                        ("circuit_half_opened", .int(sample.circuitHalfOpened)),
                        ("circuit_closed", .int(sample.circuitClosed)),
                        ("ejections", .int(sample.ejections)),
                        ("retries", .int(sample.retries)),
                        ("retry_budget_exhausted", .int(sample.retryBudgetExhausted)),
                        ("unavailable", .int(sample.unavailable)),
                        ("shed", .int(sample.shed)),
                    ])
                ),
            ]
            var limits: [(String, JSONValue)] = []
            if index < resilience.upstreamConcurrency.count, let bulkhead = resilience.upstreamConcurrency[index] {
                limits.append(("max_concurrent", Self.bulkhead(bulkhead)))
            }
            if index < resilience.upstreamPending.count, let bulkhead = resilience.upstreamPending[index] {
                limits.append(("max_pending", Self.bulkhead(bulkhead)))
            }
            if !limits.isEmpty { fields.append(("limits", .object(limits))) }
            return .object(fields)
        }
        let routeLimits = snapshot.configuration.routes.enumerated().compactMap {
            index, route -> (String, JSONValue)? in
            guard index < resilience.routeConcurrency.count, let bulkhead = resilience.routeConcurrency[index] else {
                return nil
            }
            return (route.name, Self.bulkhead(bulkhead))
        }
        var body: [(String, JSONValue)] = [
            ("generation", .int(snapshot.generation)), ("upstreams", .array(upstreams)),
        ]
        if !routeLimits.isEmpty { body.append(("route_limits", .object(routeLimits))) }
        return .json(200, .object(body))
    }

    private static func inRotation(_ health: [EndpointHealth]?, _ index: Int, _ state: EndpointStateSample) -> Bool {
        if let health, index < health.count, !health[index].isUp { return false }
        return state.circuit != .open && !state.ejected
    }

    private static func bulkhead(_ bulkhead: Bulkhead) -> JSONValue {
        .object([
            ("limit", .int(bulkhead.limit)), ("in_flight", .int(bulkhead.current)),
            ("rejected", .int(bulkhead.rejected)),
        ])
    }
}
