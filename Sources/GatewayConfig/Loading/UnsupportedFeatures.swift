/// Keys and values of the reference config whose features have not landed yet. They get their own
/// wording, distinct from "unknown key", so a user copying from the reference learns the key is
/// right but early. When a feature lands, delete its entry here and read the key in its section.
enum UnsupportedFeatures {
    static let keys: [SectionKind: [String]] = [:]

    static let values: [ValueKind: [String]] = [:]

    static func message(_ name: String) -> String {
        "'\(name)' is not supported by this version yet"
    }
}

/// Which mapping of the config a key belongs to; selects the known and not-yet-supported keys.
enum SectionKind: Hashable {
    case root, node, runtime, logging, accessLog, admin, geo
    case listener, listenerTimeouts, listenerLimits, listenerTLS, tlsCertificate
    case upstream, endpoint, hashOn, pool, upstreamTimeouts
    case healthCheck, circuitBreaker, outlier, retries, upstreamLimits, routeLimits, upstreamTLS
    case route, routeMatch, headerMatch, rewrite, headerRules
    case requestHeaderOperations, responseHeaderOperations, routeTimeouts
    case cache, routeCache, cacheKey, compression
    case rateLimit, redis, redisTimeouts
    case tracing, routeTracing
    case auth, jwtProvider, jwtPublicKey, introspection, apiKeySet, apiKey, credentialSource, routeAuth
}

/// Enumerated values that may name a not-yet-supported feature.
enum ValueKind: Hashable {
    case listenerProtocol, upstreamProtocol
}
