import Yams

extension ConfigReader {
    static let rootKeys = [
        "node", "runtime", "listeners", "upstreams", "routes", "trusted_proxies", "logging", "admin",
        "cache", "rate_limits", "redis", "auth", "geo", "tracing",
    ]

    /// Nil when any problem was recorded; the walk still visits every section so all are reported.
    mutating func readConfiguration(_ root: Node) -> GatewayConfiguration? {
        guard
            let top = section(root, .root, context: "at the top level", keys: Self.rootKeys, what: "the configuration")
        else { return nil }
        let node = top["node"].map { readNode($0) } ?? NodeConfig(id: defaultNodeID)
        let runtime = top["runtime"].map { readRuntime($0) } ?? RuntimeConfig()
        require(["listeners"], in: top)
        let listeners = top["listeners"].map { readListeners($0) } ?? []
        let upstreams = top["upstreams"].map { readUpstreams($0) } ?? UpstreamsRead(configs: [], names: [])
        let rateLimits = top["rate_limits"].map { readRateLimits($0) } ?? RateLimitsRead()
        let auth = top["auth"].map { readAuth($0) } ?? AuthRead()
        let geo = top["geo"].flatMap { readGeo($0) }
        let routes =
            top["routes"].map {
                readRoutes(
                    $0, upstreamNames: upstreams.names, rateLimitNames: rateLimits.names, auth: auth,
                    identityKeyedPolicies: rateLimits.identityKeyed, geo: geo, geoDeclared: top["geo"] != nil,
                    tracingDeclared: top["tracing"] != nil)
            } ?? []
        let trustedProxies = top["trusted_proxies"].map { readTrustedProxies($0) } ?? []
        let logging = top["logging"].map { readLogging($0) } ?? LoggingConfig()
        let admin = top["admin"].flatMap { readAdmin($0, listeners: listeners) }
        let cache = top["cache"].map { readCache($0) }
        let redis = top["redis"].flatMap { readRedis($0) }
        let tracing = top["tracing"].flatMap { readTracing($0) }
        guard !hasProblems else { return nil }
        return GatewayConfiguration(
            node: node, runtime: runtime, listeners: listeners, upstreams: upstreams.configs, routes: routes,
            trustedProxies: trustedProxies, logging: logging, admin: admin, cache: cache,
            rateLimits: rateLimits.policies, redis: redis, auth: auth.config, geo: geo, tracing: tracing)
    }
}
