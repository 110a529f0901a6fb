import Authentication

/// The data-plane families of `/metrics`, rendered from the counters the event loops keep.
/// Process-wide ones (reloads, generation, access log) come from the swift-prometheus registry.
enum DataPlaneExposition {
    static func render(_ sample: MetricsSample) -> String {
        var out = PrometheusText()
        let routeNames = sample.routes.keys.sorted()

        out.family(
            "gateway_requests_total", type: "counter",
            help: "Requests answered, by route (empty: no route matched), method and status class.")
        for name in routeNames {
            guard let route = sample.routes[name] else { continue }
            for method in MethodClass.allCases {
                for status in StatusClass.allCases {
                    let count = route.requests(method, status)
                    if count > 0 {
                        out.sample(
                            "gateway_requests_total",
                            [("route", name), ("method", method.label), ("status_class", status.label)], count)
                    }
                }
            }
        }
        out.family(
            "gateway_request_duration_seconds", type: "histogram",
            help: "Time from the request head to the last response byte handed to the socket, by route.")
        for name in routeNames {
            if let route = sample.routes[name] {
                out.histogram("gateway_request_duration_seconds", [("route", name)], route.duration)
            }
        }
        out.family(
            "gateway_received_bytes_total", type: "counter", help: "Request bytes received from clients, by route.")
        for name in routeNames {
            out.sample("gateway_received_bytes_total", [("route", name)], sample.routes[name]?.receivedBytes ?? 0)
        }
        out.family("gateway_sent_bytes_total", type: "counter", help: "Response bytes sent to clients, by route.")
        for name in routeNames {
            out.sample("gateway_sent_bytes_total", [("route", name)], sample.routes[name]?.sentBytes ?? 0)
        }

        out.family(
            "gateway_cache_requests_total", type: "counter",
            help: "Requests on cached routes by route and X-Cache outcome (HIT, MISS, STALE, REVALIDATED, BYPASS).")
        for name in routeNames {
            guard let route = sample.routes[name] else { continue }
            for outcome in CacheOutcome.allCases where route.cache(outcome) > 0 {
                out.sample(
                    "gateway_cache_requests_total", [("route", name), ("outcome", outcome.rawValue)],
                    route.cache(outcome))
            }
        }

        out.family(
            "gateway_cache_coalesced_total", type: "counter",
            help:
                "Requests answered from another request's origin fetch of the same key (request coalescing), by route.")
        for name in routeNames {
            if let route = sample.routes[name], route.coalesced > 0 {
                out.sample("gateway_cache_coalesced_total", [("route", name)], route.coalesced)
            }
        }
        out.family(
            "gateway_cache_revalidations_total", type: "counter",
            help:
                "Revalidations of stale entries with the origin (in the request or in the background), by route and result."
        )
        for name in routeNames {
            guard let route = sample.routes[name] else { continue }
            for result in RevalidationResult.allCases where route.revalidations[result.rawValue] > 0 {
                out.sample(
                    "gateway_cache_revalidations_total", [("route", name), ("result", result.label)],
                    route.revalidations[result.rawValue])
            }
        }

        out.family(
            "gateway_ratelimit_decisions_total", type: "counter",
            help: "Rate-limit decisions by policy: allowed, or limited (answered 429).")
        for (policy, counts) in sample.rateLimits.sorted(by: { $0.key < $1.key }) {
            out.sample(
                "gateway_ratelimit_decisions_total", [("policy", policy), ("decision", "allowed")], counts.allowed)
            out.sample(
                "gateway_ratelimit_decisions_total", [("policy", policy), ("decision", "limited")], counts.limited)
        }
        out.family(
            "gateway_ratelimit_redis_errors_total", type: "counter",
            help: "Rate-limit decisions Redis could not make (unavailable, timeout), by policy; on_redis_error applied."
        )
        for (policy, counts) in sample.rateLimits.sorted(by: { $0.key < $1.key }) where counts.redisErrors > 0 {
            out.sample("gateway_ratelimit_redis_errors_total", [("policy", policy)], counts.redisErrors)
        }
        out.family(
            "gateway_auth_requests_total", type: "counter",
            help: "Requests on routes with auth: authenticated, or refused by reason (401/403/503).")
        out.sample("gateway_auth_requests_total", [("result", "authenticated")], sample.authSuccesses)
        for (index, failure) in AuthFailure.allCases.enumerated() where sample.authFailures[index] > 0 {
            out.sample(
                "gateway_auth_requests_total", [("result", "refused"), ("reason", failure.rawValue)],
                sample.authFailures[index])
        }
        out.family(
            "gateway_redis_command_duration_seconds", type: "histogram",
            help: "Round trips of rate-limit calls to Redis (exact decisions and approximate-mode syncs).")
        if sample.redisLatency.count > 0 {
            out.histogram("gateway_redis_command_duration_seconds", [], sample.redisLatency)
        }
        out.family(
            "gateway_log_lines_suppressed_total", type: "counter",
            help: "Request-path error log lines left out by the per-loop log budget (10/s, bursts of 50).")
        out.sample("gateway_log_lines_suppressed_total", [], sample.suppressedLogLines)

        let upstreamNames = sample.upstreams.keys.sorted()
        out.family(
            "gateway_upstream_responses_total", type: "counter",
            help: "Complete responses from upstreams, by upstream and status class.")
        for name in upstreamNames {
            guard let upstream = sample.upstreams[name] else { continue }
            for status in StatusClass.allCases where upstream.responses[status.rawValue] > 0 {
                out.sample(
                    "gateway_upstream_responses_total", [("upstream", name), ("status_class", status.label)],
                    upstream.responses[status.rawValue])
            }
        }
        out.family(
            "gateway_upstream_request_duration_seconds", type: "histogram",
            help: "Time from sending a request upstream to the end of its response, by upstream.")
        for name in upstreamNames {
            if let upstream = sample.upstreams[name] {
                out.histogram("gateway_upstream_request_duration_seconds", [("upstream", name)], upstream.duration)
            }
        }
        out.family(
            "gateway_upstream_errors_total", type: "counter",
            help: "Failed upstream attempts, by upstream and kind.")
        for name in upstreamNames {
            guard let upstream = sample.upstreams[name] else { continue }
            for kind in UpstreamErrorKind.allCases where upstream.errors[kind.rawValue] > 0 {
                out.sample(
                    "gateway_upstream_errors_total", [("upstream", name), ("kind", kind.label)],
                    upstream.errors[kind.rawValue])
            }
        }

        out.family(
            "gateway_downstream_connections_accepted_total", type: "counter",
            help: "Client connections accepted (including ones refused over max_connections).")
        out.sample("gateway_downstream_connections_accepted_total", [], sample.acceptedConnections)
        out.family("gateway_downstream_connections", type: "gauge", help: "Open client connections, by listener.")
        for (listener, count) in sample.openConnections.sorted(by: { $0.key < $1.key }) {
            out.sample("gateway_downstream_connections", [("listener", listener)], count)
        }
        out.family(
            "gateway_upstream_pool_connections", type: "gauge",
            help: "Open upstream connections (connecting, in use or idle), by endpoint.")
        for (endpoint, pool) in sample.pools.sorted(by: { $0.key < $1.key }) {
            out.sample("gateway_upstream_pool_connections", [("endpoint", endpoint)], pool.open)
        }
        out.family(
            "gateway_upstream_pool_active_requests", type: "gauge",
            help: "Upstream connections carrying a request now, by endpoint.")
        for (endpoint, pool) in sample.pools.sorted(by: { $0.key < $1.key }) {
            out.sample("gateway_upstream_pool_active_requests", [("endpoint", endpoint)], pool.active)
        }
        return out.text
    }
}
