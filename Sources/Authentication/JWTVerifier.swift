/// What a JWT provider accepts: its keys, the algorithms, and the claim rules. Immutable and
/// Sendable; `verify` is synchronous and lock-free, so any event loop calls it directly.
public struct JWTVerifier: Sendable {
    public struct Rules: Sendable, Equatable {
        public var issuer: String?
        /// The token's `aud` must name one of these (when any are given).
        public var audiences: [String]
        /// Clock skew tolerated on `exp`, `nbf` and `iat`, seconds.
        public var leewaySeconds: Double
        public var requiredClaims: [String]
        public var maxTokenBytes: Int

        public init(
            issuer: String? = nil, audiences: [String] = [], leewaySeconds: Double = 0, requiredClaims: [String] = [],
            maxTokenBytes: Int = CompactJWS.defaultMaxBytes
        ) {
            self.issuer = issuer
            self.audiences = audiences
            self.leewaySeconds = leewaySeconds
            self.requiredClaims = requiredClaims
            self.maxTokenBytes = maxTokenBytes
        }
    }

    public let keys: JWTKeySet
    public let algorithms: Set<SigningAlgorithm>
    public let rules: Rules

    public init(keys: JWTKeySet, algorithms: Set<SigningAlgorithm>, rules: Rules) {
        self.keys = keys
        self.algorithms = algorithms
        self.rules = rules
    }

    /// Signature first, then claims; `now` is Unix seconds. `.unknownKey` tells the caller a
    /// JWKS refresh might help.
    public func verify(_ token: [UInt8], now: Double) -> Result<TokenClaims, AuthFailure> {
        let jws: CompactJWS
        switch verifySignature(token) {
        case .success(let verified): jws = verified
        case .failure(let failure): return .failure(failure)
        }
        guard let claims = TokenClaims(json: jws.payload) else { return .failure(.malformedToken) }
        if let failure = check(claims, now: now) { return .failure(failure) }
        return .success(claims)
    }

    /// The JWS layer alone: well-formed, an allowed algorithm, a key for it, a valid signature.
    public func verifySignature(_ token: [UInt8]) -> Result<CompactJWS, AuthFailure> {
        let jws: CompactJWS
        switch CompactJWS.parse(token, maxBytes: rules.maxTokenBytes) {
        case .success(let parsed): jws = parsed
        case .failure(let failure): return .failure(failure)
        }
        guard let algorithm = SigningAlgorithm(rawValue: jws.algorithm), algorithms.contains(algorithm) else {
            return .failure(.algorithmNotAllowed)
        }
        let candidates = keys.verifiers(keyID: jws.keyID, algorithm: algorithm)
        guard !candidates.isEmpty else {
            // A known kid without a key for this algorithm is a wrong algorithm, not a new key.
            if let keyID = jws.keyID, keys.knows(keyID: keyID) { return .failure(.algorithmNotAllowed) }
            return .failure(.unknownKey)
        }
        guard candidates.contains(where: { (try? $0.verify(jws.signature, signs: jws.signingInput)) == true }) else {
            return .failure(.badSignature)
        }
        return .success(jws)
    }

    /// The claim rules alone (also used for cached tokens, whose `exp` may pass while cached).
    public func check(_ claims: TokenClaims, now: Double) -> AuthFailure? {
        let leeway = rules.leewaySeconds
        if let expiresAt = claims.expiresAt, now >= expiresAt + leeway { return .expired }
        if let notBefore = claims.notBefore, now + leeway < notBefore { return .notYetValid }
        if let issuedAt = claims.issuedAt, issuedAt > now + leeway { return .issuedInTheFuture }
        if let issuer = rules.issuer, claims.issuer != issuer { return .wrongIssuer }
        if !rules.audiences.isEmpty, !claims.audiences.contains(where: rules.audiences.contains) {
            return .wrongAudience
        }
        for name in rules.requiredClaims where claims.all[name] == nil || claims.all[name] == .null {
            return .missingClaim
        }
        return nil
    }
}
