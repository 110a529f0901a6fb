public struct RouteConfig: Sendable, Equatable {
    public var name: String
    public var match: RouteMatchConfig
    /// Name of an entry in `GatewayConfiguration.upstreams`; with `upstreamByRegion`, the default
    /// region's.
    public var upstream: String
    /// `upstream_by_region`: region (of `geo`) → upstream name; nil for a route with one upstream.
    public var upstreamByRegion: [String: String]?
    public var rewrite: RewriteConfig?
    public var headers: HeaderRules
    /// Overrides the upstream's `timeouts.request` when set.
    public var requestTimeout: Duration?
    /// nil: responses of this route are never cached.
    public var cache: RouteCacheConfig?
    /// Names of `rate_limits` policies; every one must allow a request.
    public var rateLimits: [String]
    /// nil: no authentication (`auth: none` or absent).
    public var auth: RouteAuthConfig?
    /// `limits: { max_concurrent }`: a bulkhead for this route alone.
    public var limits: ConcurrencyLimits
    /// `tracing: { sample_ratio }`: overrides `tracing.sample_ratio` for this route.
    public var traceSampleRatio: Double?

    public init(
        name: String,
        match: RouteMatchConfig,
        upstream: String,
        rewrite: RewriteConfig? = nil,
        headers: HeaderRules = HeaderRules(),
        requestTimeout: Duration? = nil,
        cache: RouteCacheConfig? = nil,
        rateLimits: [String] = [],
        auth: RouteAuthConfig? = nil,
        limits: ConcurrencyLimits = ConcurrencyLimits(),
        upstreamByRegion: [String: String]? = nil,
        traceSampleRatio: Double? = nil
    ) {
        self.traceSampleRatio = traceSampleRatio
        self.upstreamByRegion = upstreamByRegion
        self.limits = limits
        self.auth = auth
        self.cache = cache
        self.rateLimits = rateLimits
        self.name = name
        self.match = match
        self.upstream = upstream
        self.rewrite = rewrite
        self.headers = headers
        self.requestTimeout = requestTimeout
    }
}

public struct RouteMatchConfig: Sendable, Equatable {
    /// Lowercased. Exact (`api.example.test`) or a wildcard (`*.example.test`, which matches
    /// `a.example.test` and `a.b.example.test` but not `example.test`). Empty: any host.
    public var hosts: [String]
    public var path: PathMatch?
    /// Uppercased method names. Empty: any method.
    public var methods: [String]
    public var headers: [HeaderMatch]

    public init(hosts: [String] = [], path: PathMatch? = nil, methods: [String] = [], headers: [HeaderMatch] = []) {
        self.hosts = hosts
        self.path = path
        self.methods = methods
        self.headers = headers
    }
}

public enum PathMatch: Sendable, Equatable {
    /// `path: /v1/users/{id}/orders`: whole path, `{name}` matches exactly one non-empty segment.
    /// Without `{...}` it is an exact match.
    case template(String)
    /// `path_prefix: /v1/users`: matches `/v1/users`, `/v1/users/...`. A prefix ending in `/`
    /// matches anything below it. Segment-aware: `/v1/users` does not match `/v1/usersX`.
    case prefix(String)
}

public struct HeaderMatch: Sendable, Equatable {
    /// Lowercased.
    public var name: String
    /// nil: the header must be present with any value; else one of its values must equal this.
    public var value: String?

    public init(name: String, value: String? = nil) {
        self.name = name
        self.value = value
    }
}

public enum RewriteConfig: Sendable, Equatable {
    /// `strip_prefix: /v1`: `/v1/users/7` → `/users/7` (and `/v1` → `/`).
    case stripPrefix(String)
    /// `replace_prefix: /api/v2`: the route's `path_prefix` is replaced by this (Envoy's `prefix_rewrite`).
    case replacePrefix(String)
}

public struct HeaderRules: Sendable, Equatable {
    public var request: HeaderOperations
    public var response: HeaderOperations

    public init(request: HeaderOperations = HeaderOperations(), response: HeaderOperations = HeaderOperations()) {
        self.request = request
        self.response = response
    }
}

public struct HeaderField: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// Applied in the order remove, set, add.
public struct HeaderOperations: Sendable, Equatable {
    public var `set`: [HeaderField]
    public var add: [HeaderField]
    /// Lowercased names.
    public var remove: [String]
    /// Request only: `name` is the claim, `value` the header it is sent upstream as.
    public var fromClaims: [HeaderField]

    public init(set: [HeaderField] = [], add: [HeaderField] = [], remove: [String] = [], fromClaims: [HeaderField] = [])
    {
        self.set = set
        self.add = add
        self.remove = remove
        self.fromClaims = fromClaims
    }

    public var isEmpty: Bool { self.set.isEmpty && add.isEmpty && remove.isEmpty }
}
