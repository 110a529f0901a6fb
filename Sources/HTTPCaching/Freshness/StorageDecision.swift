/// Whether a response to a GET may be stored by a shared cache (RFC 9111 3), and if so, its
/// freshness. Reasons are named so tests and `Cache-Status` details can say why not.
public enum StorageDecision: Sendable, Equatable {
    case store(Freshness)
    case doNotStore(Reason)

    public enum Reason: String, Sendable, Equatable {
        case status = "status"
        case noStore = "no-store"
        case requestNoStore = "request-no-store"
        case privateResponse = "private"
        case authorization = "authorization"
        case setCookie = "set-cookie"
        case varyAll = "vary-star"
        case malformedDirectives = "malformed-directives"
        case noFreshnessOrValidator = "no-freshness"
    }

    /// Evaluates `facts` for the route's `policy`. `requestTime` and `responseTime` are when the
    /// request went out and its response head came back, in milliseconds since the epoch.
    public static func evaluate(
        _ facts: ResponseFacts, policy: CachePolicy, requestTime: Int64, responseTime: Int64
    ) -> StorageDecision {
        // 206 is a part, 304 only ever updates; other codes are understood if final.
        guard facts.status >= 200, facts.status != 206, facts.status != 304, facts.status < 600 else {
            return .doNotStore(.status)
        }
        if facts.requestNoStore { return .doNotStore(.requestNoStore) }

        // RFC 9213: a valid targeted field replaces Cache-Control and Expires for this cache.
        let targeted = ResponseCacheControl(values: facts.targetedCacheControl)
        let usesTargeted = targeted.isPresent && !targeted.isMalformed
        let directives = usesTargeted ? targeted : ResponseCacheControl(values: facts.cacheControl)
        if directives.isMalformed { return .doNotStore(.malformedDirectives) }
        if directives.noStore { return .doNotStore(.noStore) }
        if directives.isPrivate { return .doNotStore(.privateResponse) }
        let sharesWithAuthorized = directives.isPublic || directives.mustRevalidate || directives.sharedMaxAge != nil
        if facts.requestHadAuthorization, !sharesWithAuthorized {
            return .doNotStore(.authorization)
        }
        if facts.hasSetCookie && !policy.ignoreSetCookie { return .doNotStore(.setCookie) }
        if facts.vary.contains(where: { value in value.split(separator: ",").contains { $0.trimmingSpaces == "*" } }) {
            return .doNotStore(.varyAll)
        }

        let dateValue = facts.date.flatMap(HTTPDate.parse).map { $0 * 1000 }
        let explicitLifetime = explicitLifetime(
            directives, usesTargeted: usesTargeted, facts: facts, dateValue: dateValue, responseTime: responseTime)
        var lifetime: Int
        if let explicitLifetime {
            lifetime = explicitLifetime
        } else if directives.isPublic || isHeuristicallyCacheable(facts.status) {
            lifetime = policy.defaultTTL ?? heuristicLifetime(facts, dateValue: dateValue, responseTime: responseTime)
        } else {
            return .doNotStore(.noFreshnessOrValidator)
        }
        if let maxTTL = policy.maxTTL { lifetime = min(lifetime, maxTTL) }

        // No-cache from an HTTP/1.0 origin that knows no Cache-Control (RFC 9111 5.4).
        let pragmaNoCache =
            !directives.isPresent && DirectiveList(values: facts.pragma).directives.contains { $0.name == "no-cache" }
        let alwaysRevalidate = directives.noCache || pragmaNoCache
        let hasValidator = facts.etag.flatMap { EntityTag(parsing: $0) } != nil || facts.lastModified != nil
        if (lifetime <= 0 || alwaysRevalidate) && !hasValidator {
            return .doNotStore(.noFreshnessOrValidator)
        }

        // Explicit prohibitions of stale use win over windows; an origin that sends s-maxage with
        // its own stale-* directive has allowed that window explicitly.
        let prohibitsStale = directives.mustRevalidate || directives.proxyRevalidate || alwaysRevalidate
        let swr =
            prohibitsStale
            ? 0 : directives.staleWhileRevalidate ?? (directives.sharedMaxAge == nil ? policy.staleWhileRevalidate : 0)
        let sie =
            prohibitsStale ? 0 : directives.staleIfError ?? (directives.sharedMaxAge == nil ? policy.staleIfError : 0)

        let ageValue = Int64(parseDeltaSeconds(facts.age.map { String($0.trimmingSpaces) }) ?? 0) * 1000
        let apparentAge = max(0, responseTime - (dateValue ?? responseTime))
        let responseDelay = max(0, responseTime - requestTime)
        let correctedInitialAge = max(apparentAge, ageValue + responseDelay)
        return .store(
            Freshness(
                lifetime: max(0, lifetime), correctedInitialAge: correctedInitialAge, responseTime: responseTime,
                staleWhileRevalidate: swr, staleIfError: sie, alwaysRevalidate: alwaysRevalidate,
                mustRevalidate: prohibitsStale || directives.sharedMaxAge != nil,
                servesAuthorizedRequests: sharesWithAuthorized))
    }

    /// RFC 9111 4.2.1, for a shared cache: s-maxage, max-age, then Expires − Date. An Expires
    /// that does not parse (or several that disagree) means "already expired".
    private static func explicitLifetime(
        _ directives: ResponseCacheControl, usesTargeted: Bool, facts: ResponseFacts, dateValue: Int64?,
        responseTime: Int64
    ) -> Int? {
        if let shared = directives.sharedMaxAge { return shared }
        if let maxAge = directives.maxAge { return maxAge }
        guard !usesTargeted, !facts.expires.isEmpty else { return nil }
        let parsed = facts.expires.map(HTTPDate.parse)
        guard let first = parsed[0], parsed.allSatisfy({ $0 == first }) else { return 0 }
        let date = dateValue ?? responseTime
        return Int(max(0, first * 1000 - date) / 1000)
    }

    /// RFC 9110 15.1: codes whose responses may be cached without explicit freshness.
    static func isHeuristicallyCacheable(_ status: Int) -> Bool {
        switch status {
        case 200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501: return true
        default: return false
        }
    }

    private static func heuristicLifetime(_ facts: ResponseFacts, dateValue: Int64?, responseTime: Int64) -> Int {
        guard let lastModified = facts.lastModified.flatMap(HTTPDate.parse) else { return 0 }
        let date = dateValue ?? responseTime
        let sinceModified = max(0, date - lastModified * 1000) / 1000
        return min(Int(Double(sinceModified) * CachePolicy.heuristicFraction), CachePolicy.heuristicCap)
    }
}

extension StringProtocol {
    var trimmingSpaces: Substring {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice.removeFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice.removeLast() }
        return slice
    }
}
