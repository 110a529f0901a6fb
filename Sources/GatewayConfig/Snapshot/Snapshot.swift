/// The compiled, immutable form of one configuration generation. Everything that must change
/// together lives here; runtime state (pools, balancer positions) lives outside, keyed by stable
/// names, so a new snapshot can be published without touching it.
public final class Snapshot: Sendable {
    public let generation: Int
    public let configuration: GatewayConfiguration
    public let router: Router
    /// Index-aligned with `configuration.routes` and the router's `routeIndex`.
    public let routes: [CompiledRoute]
    /// Index-aligned with `configuration.upstreams`.
    public var upstreams: [UpstreamConfig] { configuration.upstreams }
    /// `Via` value this node adds (RFC 9110 7.6.3), precomputed once.
    public let viaValue: String
    /// nil without a `geo` section.
    public let geo: GeoTable?
    /// Query parameters that carry credentials (the `query:` source of a JWT provider, an
    /// introspection endpoint or an API key set): their values are kept out of the access log.
    public let credentialQueryNames: [String]

    public init(configuration: GatewayConfiguration, generation: Int) {
        self.generation = generation
        self.configuration = configuration
        self.router = Router(routes: configuration.routes.map(\.match))
        var upstreamIndexByName: [String: Int] = [:]
        for (index, upstream) in configuration.upstreams.enumerated() {
            upstreamIndexByName[upstream.name] = index
        }
        let geo = configuration.geo.map(GeoTable.init)
        self.geo = geo
        self.routes = configuration.routes.map { route in
            let upstreamIndex = upstreamIndexByName[route.upstream] ?? -1
            let upstream = upstreamIndex >= 0 ? configuration.upstreams[upstreamIndex] : nil
            // Regions without an upstream of their own use the default region's.
            let regional = route.upstreamByRegion.flatMap { byRegion in
                geo.map { table in
                    table.regionNames.map { byRegion[$0].flatMap { upstreamIndexByName[$0] } ?? upstreamIndex }
                }
            }
            return CompiledRoute(
                name: route.name,
                upstreamIndex: upstreamIndex,
                upstreamIndexByRegion: regional,
                pathRewrite: PathRewrite(route: route),
                requestHeaders: route.headers.request,
                responseHeaders: route.headers.response,
                requestTimeout: route.requestTimeout ?? upstream?.timeouts.request ?? .seconds(30),
                traceSampleRatio: route.traceSampleRatio ?? configuration.tracing?.sampleRatio ?? 0
            )
        }
        self.viaValue = "1.1 \(configuration.node.id)"
        let auth = configuration.auth
        let sources = auth.jwt.map(\.token) + auth.introspection.map(\.token) + auth.apiKeys.map(\.source)
        var names: [String] = []
        for case .query(let name) in sources where !names.contains(name) { names.append(name) }
        self.credentialQueryNames = names
    }
}

/// A class, not a struct: the proxy keeps the matched route for the whole exchange, and a
/// reference is one retain where a copy of this many strings and arrays is a dozen.
public final class CompiledRoute: Sendable {
    public let name: String
    /// Into `Snapshot.upstreams`; validation guarantees it is valid, -1 only for unvalidated input.
    /// For a route with `upstream_by_region`, the default region's.
    public let upstreamIndex: Int
    /// Index-aligned with `GeoTable.regionNames`; nil for a route with one upstream.
    public let upstreamIndexByRegion: [Int]?
    public let pathRewrite: PathRewrite?
    public let requestHeaders: HeaderOperations
    public let responseHeaders: HeaderOperations
    public let requestTimeout: Duration
    /// The route's `tracing.sample_ratio`, else the global one; 0 without tracing.
    public let traceSampleRatio: Double

    init(
        name: String, upstreamIndex: Int, upstreamIndexByRegion: [Int]?, pathRewrite: PathRewrite?,
        requestHeaders: HeaderOperations, responseHeaders: HeaderOperations, requestTimeout: Duration,
        traceSampleRatio: Double
    ) {
        self.traceSampleRatio = traceSampleRatio
        self.name = name
        self.upstreamIndex = upstreamIndex
        self.upstreamIndexByRegion = upstreamIndexByRegion
        self.pathRewrite = pathRewrite
        self.requestHeaders = requestHeaders
        self.responseHeaders = responseHeaders
        self.requestTimeout = requestTimeout
    }
}
