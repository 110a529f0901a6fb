import AsyncHTTPClient
import GatewayConfig
import Logging

/// The authentication of one configuration: its JWT providers and API key sets by name, and each
/// route's authenticator (index-aligned with the routes). Built before a snapshot goes live, so a
/// provider whose keys cannot be read rejects the start or the reload.
final class AuthRuntime: Sendable {
    let providers: [String: JWTProvider]
    let introspection: [String: IntrospectionClient]
    let routes: [RouteAuthenticator?]
    /// The largest `cache_entries` of the providers: each loop's verified-token cache size.
    let tokenCacheCapacity: Int

    private init(
        providers: [String: JWTProvider], introspection: [String: IntrospectionClient], routes: [RouteAuthenticator?]
    ) {
        self.providers = providers
        self.introspection = introspection
        self.routes = routes
        self.tokenCacheCapacity = providers.values.map(\.config.cacheEntries).max() ?? 0
    }

    static let empty = AuthRuntime(providers: [:], introspection: [:], routes: [])

    /// Providers whose config did not change are taken over from `previous` (keeping their fetched
    /// keys and schedule); the others are made now.
    static func build(
        _ configuration: GatewayConfiguration, previous: AuthRuntime?, httpClient: @Sendable () -> HTTPClient,
        environment: [String: String], logger: Logger
    ) async throws -> AuthRuntime {
        var providers: [String: JWTProvider] = [:]
        for config in configuration.auth.jwt {
            if let existing = previous?.providers[config.name], existing.config == config {
                providers[config.name] = existing
            } else {
                providers[config.name] = try await JWTProvider.make(
                    config, httpClient: config.jwksURL == nil ? nil : httpClient(), environment: environment,
                    logger: logger)
            }
        }
        var introspection: [String: IntrospectionClient] = [:]
        for config in configuration.auth.introspection {
            if let existing = previous?.introspection[config.name], existing.config == config {
                introspection[config.name] = existing
            } else {
                introspection[config.name] = try IntrospectionClient(
                    config, httpClient: httpClient(), environment: environment, logger: logger)
            }
        }
        var apiKeys: [String: APIKeyStore] = [:]
        for set in configuration.auth.apiKeys { apiKeys[set.name] = APIKeyStore(set) }
        let routes = configuration.routes.map { route -> RouteAuthenticator? in
            guard let auth = route.auth else { return nil }
            let methods = auth.methods.compactMap { method -> RouteAuthenticator.Method? in
                switch method {
                case .jwt(let name): providers[name].map { .jwt($0) }
                case .apiKey(let name): apiKeys[name].map { .apiKey($0) }
                case .introspection(let name): introspection[name].map { .introspection($0) }
                }
            }
            return RouteAuthenticator(
                methods: methods, scopes: auth.scopes, forwardCredentials: auth.forwardCredentials,
                fromClaims: route.headers.request.fromClaims)
        }
        return AuthRuntime(providers: providers, introspection: introspection, routes: routes)
    }

    /// Stops the refresh schedules of providers `next` does not take over.
    func retire(keeping next: AuthRuntime?) {
        for (name, provider) in providers where next?.providers[name] !== provider {
            provider.stop()
        }
    }
}
