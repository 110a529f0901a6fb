import GatewayConfig
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// The process-wide part of resilience for one configuration: endpoint health from active checks
/// and the bulkheads, index-aligned with the snapshot's upstreams and routes so a request finds
/// them without a lookup. Per-loop parts (circuit breakers, outlier detection, retry budgets) live
/// in each loop's `UpstreamRuntime`.
final class ResilienceRuntime: Sendable {
    /// `[upstream][endpoint]`; nil for upstreams without `health_check`.
    let health: [[EndpointHealth]?]
    let upstreamConcurrency: [Bulkhead?]
    let upstreamPending: [Bulkhead?]
    let routeConcurrency: [Bulkhead?]
    private let checkers: [CheckerKey: Checker]

    static let empty = ResilienceRuntime(
        health: [], upstreamConcurrency: [], upstreamPending: [], routeConcurrency: [], checkers: [:])

    private init(
        health: [[EndpointHealth]?], upstreamConcurrency: [Bulkhead?], upstreamPending: [Bulkhead?],
        routeConcurrency: [Bulkhead?], checkers: [CheckerKey: Checker]
    ) {
        self.health = health
        self.upstreamConcurrency = upstreamConcurrency
        self.upstreamPending = upstreamPending
        self.routeConcurrency = routeConcurrency
        self.checkers = checkers
    }

    /// What makes a checker (and the health it found) carry over a reload: same upstream,
    /// endpoint and check settings.
    private struct CheckerKey: Hashable {
        let upstream: String
        let endpoint: HostPort
        let config: HealthCheckConfig
    }

    private struct Checker: Sendable {
        let health: EndpointHealth
        let checker: NIOLoopBound<HealthChecker>
    }

    /// Builds the runtime for `configuration`, keeping the checkers, health and bulkhead counters
    /// of `previous` that still apply (a reload must not forget that an endpoint is down, nor
    /// let a bulkhead's in-flight requests be counted from zero). New checkers start at once,
    /// spread over `eventLoops`; `retire(keeping:)` stops the old ones that were not kept.
    static func build(
        _ configuration: GatewayConfiguration, previous: ResilienceRuntime?, resolved: [HostPort: SocketAddress],
        eventLoops: [EventLoop], logger: Logger
    ) async throws -> ResilienceRuntime {
        var checkers: [CheckerKey: Checker] = [:]
        var started = 0
        var health: [[EndpointHealth]?] = []
        for upstream in configuration.upstreams {
            guard let check = upstream.healthCheck, !eventLoops.isEmpty else {
                health.append(nil)
                continue
            }
            var endpoints: [EndpointHealth] = []
            for endpoint in upstream.endpoints {
                let key = CheckerKey(upstream: upstream.name, endpoint: endpoint.address, config: check)
                if let kept = checkers[key] ?? previous?.checkers[key] {
                    checkers[key] = kept
                    endpoints.append(kept.health)
                    continue
                }
                let eventLoop = eventLoops[started % eventLoops.count]
                started += 1
                let endpointHealth = EndpointHealth(upstream: upstream.name, address: endpoint.address.description)
                let address = resolved[endpoint.address]
                let bound: NIOLoopBound<HealthChecker>
                do {
                    bound = try await eventLoop.submit {
                        let checker = HealthChecker(
                            health: endpointHealth, config: check, endpoint: endpoint.address, address: address,
                            eventLoop: eventLoop, logger: logger)
                        checker.start()
                        return NIOLoopBound(checker, eventLoop: eventLoop)
                    }.get()
                } catch {
                    // The loops are going away: stop what this build started, keep what it took over.
                    for (key, entry) in checkers where previous?.checkers[key] == nil {
                        let checker = entry.checker
                        checker.eventLoop.execute { checker.value.stop() }
                    }
                    throw error
                }
                checkers[key] = Checker(health: endpointHealth, checker: bound)
                endpoints.append(endpointHealth)
            }
            health.append(endpoints)
        }
        func bulkhead(_ prefix: String, _ name: String, _ limit: Int?, _ old: [String: Bulkhead]) -> Bulkhead? {
            guard let limit else { return nil }
            let label = "\(prefix):\(name)"
            if let kept = old[label] {
                kept.limit = limit
                return kept
            }
            return Bulkhead(name: label, limit: limit)
        }
        let old = previous?.bulkheadsByName ?? [:]
        return ResilienceRuntime(
            health: health,
            upstreamConcurrency: configuration.upstreams.map {
                bulkhead("upstream", $0.name, $0.limits.maxConcurrent, old)
            },
            upstreamPending: configuration.upstreams.map { bulkhead("pending", $0.name, $0.limits.maxPending, old) },
            routeConcurrency: configuration.routes.map { bulkhead("route", $0.name, $0.limits.maxConcurrent, old) },
            checkers: checkers)
    }

    private var bulkheadsByName: [String: Bulkhead] {
        var all: [String: Bulkhead] = [:]
        for bulkhead in (upstreamConcurrency + upstreamPending + routeConcurrency).compactMap({ $0 }) {
            all[bulkhead.name] = bulkhead
        }
        return all
    }

    var bulkheads: [Bulkhead] {
        bulkheadsByName.values.sorted { $0.name < $1.name }
    }

    /// Stops the checkers `next` does not use (all of them when `next` is nil).
    func retire(keeping next: ResilienceRuntime?) {
        for (key, entry) in checkers where next?.checkers[key] == nil {
            let checker = entry.checker
            checker.eventLoop.execute { checker.value.stop() }
        }
    }

    /// Why each endpoint's last check failed (nil after a pass), gathered from the checkers' loops.
    func lastFailures() async -> [String: [String: String]] {
        var result: [String: [String: String]] = [:]
        for (key, entry) in checkers {
            let checker = entry.checker
            if let failure = try? await checker.eventLoop.submit({ checker.value.lastFailure }).get() {
                result[key.upstream, default: [:]][key.endpoint.description] = failure
            }
        }
        return result
    }
}
