import Yams

extension ConfigReader {
    static let routeKeys = [
        "name", "match", "upstream", "upstream_by_region", "rewrite", "headers", "timeouts", "cache", "rate_limits",
        "auth", "limits", "tracing",
    ]

    mutating func readRoutes(
        _ entry: Entry, upstreamNames: Set<String>, rateLimitNames: Set<String> = [], auth: AuthRead = AuthRead(),
        identityKeyedPolicies: Set<String> = [], geo: GeoConfig? = nil, geoDeclared: Bool = false,
        tracingDeclared: Bool = false
    ) -> [RouteConfig] {
        guard let items = list(entry) else { return [] }
        var result: [RouteConfig] = []
        var firstNameLine: [String: Position] = [:]
        for (index, item) in items.enumerated() {
            let label = Self.itemLabel(item, kind: "route", index: index)
            guard let s = section(item, .route, context: "in \(label)", keys: Self.routeKeys, what: label) else {
                continue
            }
            require(["name"], in: s)
            if s["upstream"] == nil && s["upstream_by_region"] == nil {
                error(s.line, "\(label) needs 'upstream' (or 'upstream_by_region' to pick one by the client's region)")
            }
            if s["upstream"] != nil, let regional = s["upstream_by_region"] {
                error(regional.keyLine, "\(label) has both 'upstream' and 'upstream_by_region': keep one")
            }
            let name = s["name"].flatMap { self.name($0) }
            if let name, let nameEntry = s["name"] {
                if let line = firstNameLine[name] {
                    error(nameEntry.line, "duplicate route name '\(name)' (first at line \(line))")
                } else {
                    firstNameLine[name] = nameEntry.line
                }
            }
            var upstream: String?
            if let e = s["upstream"], let target = self.name(e) {
                if upstreamNames.contains(target) {
                    upstream = target
                } else {
                    let hint = Suggestion.hint(for: target, in: upstreamNames.sorted())
                    error(e.line, "\(label) names unknown upstream '\(target)'\(hint)")
                }
            }
            var upstreamByRegion: [String: String]?
            if s["upstream"] == nil, let regional = s["upstream_by_region"] {
                upstreamByRegion = readUpstreamByRegion(
                    regional, label: label, upstreamNames: upstreamNames, geo: geo, geoDeclared: geoDeclared)
                upstream = geo.flatMap { upstreamByRegion?[$0.defaultRegion] }
            }
            let match = s["match"].map { readRouteMatch($0, label: label) } ?? RouteMatchConfig()
            let rewrite = s["rewrite"].flatMap { readRewrite($0, label: label, match: match) }
            let headers = s["headers"].map { readHeaderRules($0, label: label) } ?? HeaderRules()
            let requestTimeout = s["timeouts"].flatMap { readRouteTimeouts($0, label: label) }
            let cache = s["cache"].flatMap { readRouteCache($0, label: label) }
            let rateLimits = s["rate_limits"].map { readRouteRateLimits($0, label: label, known: rateLimitNames) } ?? []
            let routeAuth = s["auth"].flatMap { readRouteAuth($0, label: label, known: auth) }
            let limits = s["limits"].map { readLimits($0, label: label, allowsPending: false) } ?? ConcurrencyLimits()
            let traceSampleRatio = s["tracing"].flatMap { readRouteTracing($0, label: label) }
            if let routeTracing = s["tracing"], !tracingDeclared {
                error(
                    routeTracing.keyLine, "'tracing' in \(label) needs a top-level 'tracing' section (where spans go)")
            }
            if routeAuth == nil, let policy = rateLimits.first(where: identityKeyedPolicies.contains) {
                error(
                    s["rate_limits"]?.line,
                    "\(label) applies '\(policy)', which counts by user or api_key: the route needs auth")
            }
            if !headers.request.fromClaims.isEmpty, routeAuth == nil {
                error(s["headers"]?.line, "'from_claims' in \(label) needs the route's auth (jwt or introspection)")
            }
            guard let name, let upstream else { continue }
            result.append(
                RouteConfig(
                    name: name, match: match, upstream: upstream, rewrite: rewrite, headers: headers,
                    requestTimeout: requestTimeout, cache: cache, rateLimits: rateLimits, auth: routeAuth,
                    limits: limits, upstreamByRegion: upstreamByRegion, traceSampleRatio: traceSampleRatio))
        }
        return result
    }

    private mutating func readRouteRateLimits(_ entry: Entry, label: String, known: Set<String>) -> [String] {
        guard let items = list(entry) else { return [] }
        var names: [String] = []
        for item in items {
            guard let name = scalarText(item, expected: "a rate limit name") else { continue }
            guard known.contains(name) else {
                error(
                    item.position,
                    "\(label) names unknown rate limit '\(name)'" + Suggestion.hint(for: name, in: known.sorted()))
                continue
            }
            if !names.contains(name) { names.append(name) }
        }
        return names
    }

    /// Exactly one rewrite, checked against the route's own prefix so a rewrite that could never
    /// apply is caught here instead of silently passing paths through unchanged.
    private mutating func readRewrite(_ entry: Entry, label: String, match: RouteMatchConfig) -> RewriteConfig? {
        let keys = ["strip_prefix", "replace_prefix"]
        guard let s = section(entry, .rewrite, context: "in rewrite of \(label)", keys: keys) else { return nil }
        let routePrefix: String?
        if case .prefix(let prefix)? = match.path { routePrefix = prefix } else { routePrefix = nil }
        switch (s["strip_prefix"], s["replace_prefix"]) {
        case (let strip?, nil):
            guard let value = rewritePath(strip) else { return nil }
            if let routePrefix, !Self.isSegmentPrefix(value, of: routePrefix) {
                error(strip.line, "strip_prefix '\(value)' is not a prefix of path_prefix '\(routePrefix)'")
                return nil
            }
            return .stripPrefix(value)
        case (nil, let replace?):
            guard let value = rewritePath(replace) else { return nil }
            guard routePrefix != nil else {
                error(replace.keyLine, "'replace_prefix' needs match.path_prefix in \(label)")
                return nil
            }
            return .replacePrefix(value)
        case (let strip?, let replace?):
            let later = max(strip.keyLine, replace.keyLine)
            error(later, "'rewrite' takes one of 'strip_prefix' or 'replace_prefix', not both")
            return nil
        case (nil, nil):
            error(s.line, "'rewrite' needs 'strip_prefix' or 'replace_prefix' in \(label)")
            return nil
        }
    }

    private mutating func rewritePath(_ entry: Entry) -> String? {
        guard let value = string(entry) else { return nil }
        guard value.hasPrefix("/") else {
            error(entry.line, "'\(entry.key)' must start with '/', got '\(value)'")
            return nil
        }
        guard HTTPSyntax.isWireSafe(value) else {
            error(entry.line, "'\(entry.key)' must be visible ASCII without spaces (it becomes the request target)")
            return nil
        }
        return value
    }

    /// `/v1` is a prefix of `/v1` and `/v1/users` but not of `/v1x`, matching how routes match.
    static func isSegmentPrefix(_ prefix: String, of path: String) -> Bool {
        path == prefix || prefix.hasSuffix("/") && path.hasPrefix(prefix) || path.hasPrefix(prefix + "/")
    }

    private mutating func readRouteTimeouts(_ entry: Entry, label: String) -> Duration? {
        guard let s = section(entry, .routeTimeouts, context: "in timeouts of \(label)", keys: ["request"]) else {
            return nil
        }
        return s["request"].flatMap { duration($0) }
    }
}
