import GatewayConfig
import HTTPCaching
import NIOCore

/// `/admin/cache/*` on this node: purge by URL, prefix, tag or everything (hard or soft), and
/// the store's statistics.
struct CacheAdmin {
    let server: GatewayServer

    typealias Response = AdminAPI.Response

    /// Body: any of `url`/`urls`, `prefix`/`prefixes`, `tag`/`tags`, or `"all": true`, plus
    /// `"soft": true` to mark entries stale instead of removing them. `scope` (`local`, the
    /// default, `region:NAME` or `global`) sends the purge to other edges through Redis (see
    /// `FleetCommands`); `wait` (default true) and `timeout_ms` say how long to wait for them.
    func purge(_ body: [UInt8]) async -> Response {
        let document: JSONValue
        switch Self.object(body, fields: PurgeOrder.fields.union(["scope", "wait", "timeout_ms"])) {
        case .success(let parsed): document = parsed
        case .failure(let problem): return problem.response
        }
        let order: PurgeOrder
        let scope: FleetScope
        do {
            order = try PurgeOrder(document)
            scope = try FleetScope(document["scope"])
        } catch let problem as PurgeOrder.Problem {
            return .error(400, "invalid_request", problem.message)
        } catch {
            return .error(400, "invalid_request", "\(error)")
        }
        if case .local = scope {
            switch applyLocally(order) {
            case .success(let report): return .json(200, report)
            case .failure(let problem): return .error(400, "invalid_request", problem.message)
            }
        }
        // Checked here as well as on every edge, so a typo is a 400 to the caller rather than a
        // purge every edge drops.
        if case .failure(let problem) = targets(of: order) {
            return .error(400, "invalid_request", problem.message)
        }
        guard let fleet = server.fleet else {
            return .error(
                409, "no_fleet",
                "scope '\(scope)' needs a standalone 'redis' section to reach the other edges; use scope 'local'.")
        }
        var wait = true
        if let value = document["wait"] {
            guard case .bool(let flag) = value else {
                return .error(400, "invalid_request", "'wait' must be true or false.")
            }
            wait = flag
        }
        var timeout = TimeAmount.seconds(5)
        if let value = document["timeout_ms"] {
            guard case .int(let millis) = value, (1...60_000).contains(millis) else {
                return .error(400, "invalid_request", "'timeout_ms' must be a whole number from 1 to 60000.")
            }
            timeout = .milliseconds(Int64(millis))
        }
        do {
            let outcome = try await fleet.publish(order, scope: scope, waitFor: wait ? timeout : nil)
            return .json(200, outcome.json)
        } catch {
            return .error(503, "redis_unavailable", "The purge was not published: \(error)")
        }
    }

    /// Applies a purge to this node's store; what the local scope does, and what every edge does
    /// with a fleet purge it receives.
    func applyLocally(_ order: PurgeOrder) -> Result<JSONValue, PurgeOrder.Problem> {
        let targets: [(label: String, target: PurgeTarget)]
        switch self.targets(of: order) {
        case .success(let resolved): targets = resolved
        case .failure(let problem): return .failure(problem)
        }
        let started = NIODeadline.now()
        let store = server.cache.store
        let now = server.cache.clock()
        var results: [JSONValue] = []
        var total = 0
        for (label, target) in targets {
            let count = store.purge(target, soft: order.soft, now: now)
            total += count
            results.append(.object([("target", .string(label)), ("purged", .int(count))]))
        }
        let micros = (NIODeadline.now() - started).nanoseconds / 1000
        server.recordPurge(targets: targets.count, durationNanoseconds: micros * 1000)
        return .success(
            .object([
                ("purged", .int(total)), ("soft", .bool(order.soft)), ("targets", .array(results)),
                ("duration_us", .int(Int(micros))),
            ]))
    }

    private func targets(of order: PurgeOrder) -> Result<[(label: String, target: PurgeTarget)], PurgeOrder.Problem> {
        var targets: [(label: String, target: PurgeTarget)] = []
        do {
            for url in order.urls {
                targets.append((url, .key(try key(forURL: url))))
            }
            for prefix in order.prefixes {
                targets.append((prefix, .prefix(try Self.hostAndPath(prefix))))
            }
        } catch let problem as Problem {
            return .failure(PurgeOrder.Problem(message: problem.message))
        } catch {
            return .failure(PurgeOrder.Problem(message: "\(error)"))
        }
        targets += order.tags.map { ($0, .tag($0)) }
        if order.all { targets.append(("*", .all)) }
        return .success(targets)
    }

    /// Body: `{"urls": [...], "concurrency": 4}`. Answers when every URL was fetched, with each
    /// one's result. With `scope` `global` or `region:NAME` (and optionally `nodes`), every edge
    /// in scope warms its own store in the background: the answer is the warm's id, and
    /// `GET /admin/cache/warm/{id}` on any node shows the progress.
    func warm(_ body: [UInt8]) async -> Response {
        let document: JSONValue
        switch Self.object(body, fields: WarmOrder.fields.union(["node", "scope"])) {
        case .success(let parsed): document = parsed
        case .failure(let problem): return problem.response
        }
        let order: WarmOrder
        let scope: FleetScope
        do {
            order = try WarmOrder(document)
            scope = try FleetScope(document["scope"])
        } catch let problem as PurgeOrder.Problem {
            return .error(400, "invalid_request", problem.message)
        } catch {
            return .error(400, "invalid_request", "\(error)")
        }
        if scope != .local {
            guard let fleet = server.fleet else {
                return .error(
                    409, "no_fleet",
                    "scope '\(scope)' needs a standalone 'redis' section to reach the other edges; use scope 'local'.")
            }
            do {
                let published = try await fleet.publish(order, scope: scope)
                return .json(
                    202,
                    .object([
                        ("warm_id", .int(Int(published.sequence))), ("scope", .string(scope.description)),
                        ("expected", .array(published.expected.map { .string($0.id) })),
                        ("progress", .string("/admin/cache/warm/\(published.sequence)")),
                    ]))
            } catch {
                return .error(503, "redis_unavailable", "The warm was not published: \(error)")
            }
        }
        guard order.nodes == nil else {
            return .error(400, "invalid_request", "'nodes' picks edges of a fleet warm: give a 'scope' too.")
        }
        let urls = order.urls
        let concurrency = order.concurrency
        let started = NIODeadline.now()
        let results = await CacheWarmer(server: server).warm(urls, concurrency: concurrency)
        var stored = 0
        let items = results.map { result -> JSONValue in
            switch result.outcome {
            case .stored(let status, let bytes):
                stored += 1
                return .object([
                    ("url", .string(result.url)), ("result", .string("stored")), ("status", .int(status)),
                    ("bytes", .int(bytes)),
                ])
            case .notStored(let status, let reason):
                return .object([
                    ("url", .string(result.url)), ("result", .string("not_stored")), ("status", .int(status)),
                    ("reason", .string(reason)),
                ])
            case .failed(let message):
                return .object([
                    ("url", .string(result.url)), ("result", .string("failed")), ("error", .string(message)),
                ])
            }
        }
        return .json(
            200,
            .object([
                ("stored", .int(stored)), ("not_stored", .int(results.count - stored)), ("results", .array(items)),
                ("duration_ms", .int(Int((NIODeadline.now() - started).nanoseconds / 1_000_000))),
            ]))
    }

    /// `GET /admin/cache/warm/{id}`: a fleet warm's progress on every edge asked.
    func warmProgress(path: String) async -> Response {
        guard let id = Int64(path.dropFirst(Self.warmProgressPrefix.count)), id > 0 else {
            return .error(404, "not_found", "No warm at \(path); warm ids are whole numbers.")
        }
        guard let fleet = server.fleet else {
            return .error(409, "no_fleet", "Fleet warms need a standalone 'redis' section.")
        }
        do {
            guard let progress = try await fleet.warmProgress(id) else {
                return .error(404, "not_found", "No warm \(id) (or its progress expired after a day).")
            }
            return .json(200, progress.json)
        } catch {
            return .error(503, "redis_unavailable", "\(error)")
        }
    }

    static let warmProgressPrefix = "/admin/cache/warm/"

    /// `?top=10`: this node's store and what its cache did. `&scope=global` or `region:NAME`:
    /// the same for every edge in scope, added up from what each published to Redis with its
    /// last heartbeat, with a line per node and per region.
    func stats(query: String) async -> Response {
        var top = 10
        var scope = FleetScope.local
        for parameter in query.split(separator: "&") {
            if parameter.hasPrefix("top=") {
                guard let value = Int(parameter.dropFirst(4)), (0...1000).contains(value) else {
                    return .error(400, "invalid_request", "'top' must be a whole number from 0 to 1000.")
                }
                top = value
            } else if parameter.hasPrefix("scope=") {
                let text = String(parameter.dropFirst(6)).removingPercentEncoding ?? ""
                guard let parsed = try? FleetScope(text: text) else {
                    return .error(400, "invalid_request", "'scope' must be local, global or region:NAME.")
                }
                scope = parsed
            }
        }
        if scope != .local {
            return await fleetStats(scope: scope, top: top)
        }
        let stats = server.cache.store.stats()
        let sample = await server.dataPlaneSample()
        let analytics = sample.cacheAnalytics
        let node = server.snapshot.configuration.node
        var members: [(String, JSONValue)] = [
            ("node", .string(node.id)), ("region", node.region.map(JSONValue.string) ?? .null),
            ("entries", .int(stats.counters.entries)), ("bytes", .int(stats.bytes)),
            ("capacity_bytes", .int(stats.capacityBytes)),
            ("eviction", .string(server.cache.store.configuration.eviction.rawValue)),
            ("requests", Self.requests(analytics)),
        ]
        members += CacheStatsDocument.summary(analytics, top: top)
        members += [
            ("stores", .int(stats.counters.stores)), ("evictions", .int(stats.counters.evictions)),
            ("purged", .int(stats.counters.purged)), ("reclaimed", .int(stats.counters.reclaimed)),
            (
                "top_keys",
                .array(
                    server.cache.store.topKeys(top).map {
                        .object([("key", .string($0.key.text)), ("hits", .int($0.hits)), ("bytes", .int($0.size))])
                    })
            ),
        ]
        return .json(200, .object(members))
    }

    private static func requests(_ analytics: CacheAnalytics) -> JSONValue {
        .object(CacheOutcome.allCases.map { ($0.rawValue.lowercased(), .int(analytics.count($0))) })
    }

    private func fleetStats(scope: FleetScope, top: Int) async -> Response {
        guard let fleet = server.fleet else {
            return .error(409, "no_fleet", "Fleet statistics need a standalone 'redis' section.")
        }
        let nodes: [CacheStatsDocument.NodeStats]
        do {
            nodes = try await fleet.fleetStats(in: scope)
        } catch {
            return .error(503, "redis_unavailable", "\(error)")
        }
        var total = CacheAnalytics()
        var byRegion: [String: CacheAnalytics] = [:]
        for node in nodes {
            total.merge(node.analytics)
            byRegion[node.node.region ?? "", default: CacheAnalytics()].merge(node.analytics)
        }
        func line(_ analytics: CacheAnalytics) -> [(String, JSONValue)] {
            [
                ("requests", Self.requests(analytics)),
                ("hit_ratio", analytics.hitRatio.map { .string(CacheStatsDocument.format3($0)) } ?? .null),
                ("bytes_served", .int(analytics.bytesServed)), ("bytes_from_origin", .int(analytics.bytesFromOrigin)),
            ]
        }
        var members: [(String, JSONValue)] = [
            ("scope", .string(scope.description)), ("nodes_reporting", .int(nodes.count)),
            ("requests", Self.requests(total)),
        ]
        members += CacheStatsDocument.summary(total, top: top)
        members.append(
            (
                "nodes",
                .array(
                    nodes.map { node in
                        .object(
                            [
                                ("node", .string(node.node.id)),
                                ("region", node.node.region.map(JSONValue.string) ?? .null),
                            ]
                                + line(node.analytics))
                    })
            ))
        members.append(
            (
                "regions",
                .array(
                    byRegion.sorted { $0.key < $1.key }.map { region, analytics in
                        .object([("region", region.isEmpty ? .null : .string(region))] + line(analytics))
                    })
            ))
        return .json(200, .object(members))
    }

    private struct Problem: Error {
        let message: String
    }

    private struct BodyProblem: Error {
        let response: Response
    }

    /// The body as a JSON object with only `fields` in it.
    private static func object(_ body: [UInt8], fields: Set<String>) -> Result<JSONValue, BodyProblem> {
        let document: JSONValue
        do {
            document = try JSONParser.parse(body)
        } catch {
            return .failure(BodyProblem(response: .error(400, "invalid_json", "\(error)")))
        }
        guard case .object(let members) = document else {
            return .failure(BodyProblem(response: .error(400, "invalid_request", "The body must be a JSON object.")))
        }
        if let unknown = members.first(where: { !fields.contains($0.0) }) {
            let expected = fields.sorted().joined(separator: ", ")
            return .failure(
                BodyProblem(
                    response: .error(400, "invalid_request", "Unknown field '\(unknown.0)'; expected \(expected).")))
        }
        return .success(document)
    }

    /// The stored key of a URL: its route's query policy applies, as it did when it was stored.
    private func key(forURL url: String) throws -> CacheKey {
        let hostAndTarget = try Self.hostAndPath(url)
        guard let slash = hostAndTarget.firstIndex(of: "/") else { throw Problem(message: "'\(url)' has no path.") }
        let host = String(hostAndTarget[..<slash])
        let target = String(hostAndTarget[slash...])
        let snapshot = server.snapshot
        let path = target.prefix { $0 != "?" }
        var query = QueryKeyPolicy.all
        if let match = snapshot.router.match(
            host: Substring(host), path: path, method: "GET", headers: NoRequestHeaders()),
            let routeCache = snapshot.configuration.routes[match.routeIndex].cache
        {
            query = RouteCaching(routeCache).query
        }
        return CacheKey.make(host: host, target: target, query: query)
    }

    /// `https://Host/path?q` → `host/path?q`; a bare `host` or `host/path` is taken as it is.
    static func hostAndPath(_ url: String) throws -> String {
        var rest = Substring(url)
        if let scheme = rest.range(of: "://") {
            rest = rest[scheme.upperBound...]
        }
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let host = rest[..<slash].lowercased()
        guard !host.isEmpty else { throw Problem(message: "'\(url)' needs a host, as in https://host/path.") }
        return host + rest[slash...]
    }

}
