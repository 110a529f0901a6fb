/// How the cache handled a request, as `X-Cache` says it and as the access log records it.
enum CacheOutcome: String, CaseIterable {
    case hit = "HIT"
    case miss = "MISS"
    case stale = "STALE"
    case revalidated = "REVALIDATED"
    case bypass = "BYPASS"
}

/// RFC 9211 `Cache-Status` values: `node; hit; ttl=12`, `node; fwd=uri-miss; stored`.
enum CacheStatusText {
    enum Forward: String {
        case uriMiss = "uri-miss"
        case varyMiss = "vary-miss"
        case stale
        case request
        case method
    }

    static func hit(_ name: String, ttl: Int) -> String {
        "\(name); hit; ttl=\(ttl)"
    }

    static func forwarded(
        _ name: String, _ reason: Forward, status: Int? = nil, stored: Bool = false, ttl: Int? = nil,
        detail: String? = nil
    ) -> String {
        var text = "\(name); fwd=\(reason.rawValue)"
        if let status { text += "; fwd-status=\(status)" }
        if stored { text += "; stored" }
        if let ttl { text += "; ttl=\(ttl)" }
        if let detail { text += "; detail=\(detail)" }
        return text
    }

    /// A stale entry served because the origin failed (RFC 9211's `hit` with `fwd=stale` and
    /// the origin's status, as Fastly and Cloudflare report it).
    static func staleOnError(_ name: String, ttl: Int, status: Int?) -> String {
        var text = "\(name); hit; fwd=stale"
        if let status { text += "; fwd-status=\(status)" }
        text += "; ttl=\(ttl); detail=stale-if-error"
        return text
    }
}
