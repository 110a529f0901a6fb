import Authentication
import GatewayConfig

/// A route's authentication: any one of its methods may authenticate a request; a token must also
/// carry the route's scopes (API keys carry none and are not asked for them).
struct RouteAuthenticator: Sendable {
    enum Method: Sendable {
        case jwt(JWTProvider)
        case introspection(IntrospectionClient)
        case apiKey(APIKeyStore)
    }

    enum Outcome {
        case authenticated(RequestIdentity)
        case failed(AuthFailure)
        /// Something to wait for before a decision (a JWKS refresh for an unknown key, or an
        /// introspection call): ask again, without starting more work, when it ends.
        case pending(Task<Void, Never>)
    }

    let methods: [Method]
    let scopes: [String]
    let forwardCredentials: Bool
    /// `name` is the claim, `value` the header.
    let fromClaims: [HeaderField]

    func authenticate(_ head: RequestHead, cache: VerifiedTokenCache?, now: Double, mayRefresh: Bool) -> Outcome {
        var failure = AuthFailure.missingToken
        for method in methods {
            switch method {
            case .apiKey(let store):
                guard let key = CredentialReader.read(store.config.source, head: head) else { continue }
                if let consumer = store.consumer(forKey: key) {
                    return .authenticated(RequestIdentity(consumer: consumer))
                }
                failure = .invalidAPIKey
            case .jwt(let provider):
                guard let token = CredentialReader.read(provider.config.token, head: head) else { continue }
                switch verify(token, provider: provider, cache: cache, now: now) {
                case .success(let claims):
                    switch admit(claims) {
                    case .success(let identity): return .authenticated(identity)
                    case .failure(let reason): failure = reason
                    }
                case .failure(.unknownKey) where mayRefresh:
                    if let refresh = provider.refreshForUnknownKey() { return .pending(refresh) }
                    failure = .unknownKey
                case .failure(let reason):
                    failure = reason
                }
            case .introspection(let client):
                guard let token = CredentialReader.read(client.config.token, head: head) else { continue }
                guard let answer = client.remembered(token, now: now) else {
                    if mayRefresh { return .pending(client.introspect(token)) }
                    failure = .introspectionUnavailable
                    continue
                }
                switch answer.flatMap(admit) {
                case .success(let identity): return .authenticated(identity)
                case .failure(let reason): failure = reason
                }
            }
        }
        return .failed(failure)
    }

    /// A verified token (either kind) against the route's scopes.
    private func admit(_ claims: TokenClaims) -> Result<RequestIdentity, AuthFailure> {
        guard scopes.allSatisfy(claims.scopes.contains) else { return .failure(.insufficientScope) }
        return .success(RequestIdentity(subject: claims.subject, claims: claims))
    }

    private func verify(_ token: [UInt8], provider: JWTProvider, cache: VerifiedTokenCache?, now: Double)
        -> Result<TokenClaims, AuthFailure>
    {
        let (verifier, generation) = provider.current
        let key = cache.map { _ in VerifiedTokenCache.key(provider: provider, token: token) }
        if let cache, let key, let claims = cache.claims(for: key, generation: generation) {
            // The signature was checked; time moves on, so the time-bound rules are checked again.
            if let failure = verifier.check(claims, now: now) { return .failure(failure) }
            return .success(claims)
        }
        let result = verifier.verify(token, now: now)
        if case .success(let claims) = result, let cache, let key {
            cache.store(claims, for: key, generation: generation)
        }
        return result
    }

    /// The upstream request's header changes: credentials removed unless forwarded, and each
    /// `from_claims` header replaced by the claim (or removed when the token lacks it, so a client
    /// can never supply it).
    func upstreamOperations(_ base: HeaderOperations, identity: RequestIdentity) -> HeaderOperations {
        var operations = base
        if !forwardCredentials {
            for method in methods {
                let source: CredentialSource =
                    switch method {
                    case .jwt(let provider): provider.config.token
                    case .introspection(let client): client.config.token
                    case .apiKey(let store): store.config.source
                    }
                switch source {
                case .bearer: operations.remove.append("authorization")
                case .header(let name): operations.remove.append(name)
                case .query, .cookie: break
                }
            }
        }
        for mapping in fromClaims {
            let header = mapping.value
            operations.remove.append(header.lowercased())
            operations.set.removeAll { $0.name.lowercased() == header.lowercased() }
            if let value = identity.claims?.all[mapping.name]?.headerText {
                operations.set.append(HeaderField(name: header, value: value))
            }
        }
        return operations
    }
}
