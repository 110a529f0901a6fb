import GatewayConfig

/// Circuit breakers, outlier ejection, retries, health checks and bulkheads as Prometheus
/// families: counters from the loops' upstream samples, gauges from the current state.
enum ResilienceExposition {
    static func render(
        upstreams: [String: UpstreamMetrics.Sample], states: [String: [EndpointStateSample]],
        configuration: GatewayConfiguration, resilience: ResilienceRuntime
    ) -> String {
        var out = PrometheusText()
        let names = upstreams.keys.sorted()
        out.family(
            "gateway_upstream_circuit_transitions_total", type: "counter",
            help: "Circuit breaker state changes (summed over event loops), by upstream and new state.")
        for name in names {
            guard let sample = upstreams[name] else { continue }
            for (state, count) in [
                ("open", sample.circuitOpened), ("half_open", sample.circuitHalfOpened),
                ("closed", sample.circuitClosed),
            ] where count > 0 {
                out.sample("gateway_upstream_circuit_transitions_total", [("upstream", name), ("to", state)], count)
            }
        }
        counter(
            &out, "gateway_upstream_ejections_total", "Endpoints ejected by outlier detection, by upstream.", names,
            upstreams, \.ejections)
        counter(
            &out, "gateway_upstream_retries_total", "Retries of upstream requests on another endpoint, by upstream.",
            names, upstreams, \.retries)
        counter(
            &out, "gateway_upstream_retry_budget_exhausted_total",
            "Retries not made because the upstream's retry budget was spent, by upstream.", names, upstreams,
            \.retryBudgetExhausted)
        counter(
            &out, "gateway_upstream_unavailable_total",
            "Requests answered 503 because no endpoint was in rotation, by upstream.", names, upstreams, \.unavailable)
        counter(
            &out, "gateway_upstream_shed_total",
            "Requests refused by an upstream's max_concurrent or max_pending, by upstream.", names, upstreams, \.shed)

        out.family(
            "gateway_upstream_endpoint_circuit_state", type: "gauge",
            help: "Circuit state of an endpoint on the worst event loop: 0 closed, 1 half-open, 2 open.")
        for (upstream, endpoints) in states.sorted(by: { $0.key < $1.key }) {
            guard let config = configuration.upstreams.first(where: { $0.name == upstream }) else { continue }
            for (index, state) in endpoints.enumerated() where index < config.endpoints.count {
                guard let circuit = state.circuit else { continue }
                out.sample(
                    "gateway_upstream_endpoint_circuit_state",
                    [("upstream", upstream), ("endpoint", config.endpoints[index].address.description)],
                    circuit.rawValue)
            }
        }
        out.family(
            "gateway_upstream_endpoint_ejected", type: "gauge",
            help: "1 while outlier detection has an endpoint ejected (on any event loop).")
        for (upstream, endpoints) in states.sorted(by: { $0.key < $1.key }) {
            guard let config = configuration.upstreams.first(where: { $0.name == upstream }),
                config.outlier != nil
            else { continue }
            for (index, state) in endpoints.enumerated() where index < config.endpoints.count {
                out.sample(
                    "gateway_upstream_endpoint_ejected",
                    [("upstream", upstream), ("endpoint", config.endpoints[index].address.description)],
                    state.ejected ? 1 : 0)
            }
        }
        out.family(
            "gateway_upstream_endpoint_healthy", type: "gauge",
            help: "1 while active health checks find an endpoint healthy, 0 while they take it out of rotation.")
        var checks = PrometheusText()
        checks.family(
            "gateway_upstream_health_checks_total", type: "counter",
            help: "Active health checks, by upstream, endpoint and result.")
        for (index, upstream) in configuration.upstreams.enumerated() where index < resilience.health.count {
            for endpoint in resilience.health[index] ?? [] {
                let labels = [("upstream", upstream.name), ("endpoint", endpoint.address)]
                out.sample("gateway_upstream_endpoint_healthy", labels, endpoint.isUp ? 1 : 0)
                checks.sample("gateway_upstream_health_checks_total", labels + [("result", "passed")], endpoint.passed)
                checks.sample("gateway_upstream_health_checks_total", labels + [("result", "failed")], endpoint.failed)
            }
        }
        var inFlight = PrometheusText()
        inFlight.family(
            "gateway_bulkhead_in_flight", type: "gauge",
            help: "Requests holding a slot of a bulkhead (upstream:NAME, pending:NAME or route:NAME).")
        var rejections = PrometheusText()
        rejections.family(
            "gateway_bulkhead_rejections_total", type: "counter",
            help: "Requests refused with 503 because a bulkhead was full, by bulkhead.")
        for bulkhead in resilience.bulkheads {
            inFlight.sample("gateway_bulkhead_in_flight", [("bulkhead", bulkhead.name)], bulkhead.current)
            rejections.sample("gateway_bulkhead_rejections_total", [("bulkhead", bulkhead.name)], bulkhead.rejected)
        }
        return out.text + checks.text + inFlight.text + rejections.text
    }

    private static func counter(
        _ out: inout PrometheusText, _ name: String, _ help: String, _ names: [String],
        _ upstreams: [String: UpstreamMetrics.Sample], _ value: KeyPath<UpstreamMetrics.Sample, Int>
    ) {
        out.family(name, type: "counter", help: help)
        for upstreamName in names {
            if let sample = upstreams[upstreamName], sample[keyPath: value] > 0 {
                out.sample(name, [("upstream", upstreamName)], sample[keyPath: value])
            }
        }
    }
}
