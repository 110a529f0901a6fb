/// The claims of a verified token that authentication and the routes use.
public struct TokenClaims: Sendable, Equatable {
    public var subject: String?
    public var issuer: String?
    public var audiences: [String]
    /// NumericDate seconds (may be fractional).
    public var expiresAt: Double?
    public var notBefore: Double?
    public var issuedAt: Double?
    /// From `scope` (space-separated string) or `scp` (array or string).
    public var scopes: [String]
    /// Every top-level claim, for `from_claims` headers and required claims.
    public var all: [String: ClaimValue]

    public init(
        subject: String? = nil, issuer: String? = nil, audiences: [String] = [], expiresAt: Double? = nil,
        notBefore: Double? = nil, issuedAt: Double? = nil, scopes: [String] = [], all: [String: ClaimValue] = [:]
    ) {
        self.subject = subject
        self.issuer = issuer
        self.audiences = audiences
        self.expiresAt = expiresAt
        self.notBefore = notBefore
        self.issuedAt = issuedAt
        self.scopes = scopes
        self.all = all
    }

    /// The claims of a JSON object; nil if it is not one, or a registered claim has the wrong type
    /// (RFC 7519 §4.1: `exp` a number, `sub` a string, `aud` a string or array of strings).
    public init?(json bytes: [UInt8]) {
        guard let object = ClaimJSON.object(bytes) else { return nil }
        self.init(object: object)
    }

    public init?(object: [String: ClaimValue]) {
        all = object
        func optionalString(_ name: String) -> String?? {
            guard let value = object[name] else { return .some(nil) }
            return value.string.map { .some($0) } ?? nil
        }
        func optionalNumber(_ name: String) -> Double?? {
            guard let value = object[name] else { return .some(nil) }
            return value.number.map { .some($0) } ?? nil
        }
        guard let subject = optionalString("sub"), let issuer = optionalString("iss"),
            let expiresAt = optionalNumber("exp"), let notBefore = optionalNumber("nbf"),
            let issuedAt = optionalNumber("iat")
        else { return nil }
        self.subject = subject
        self.issuer = issuer
        self.expiresAt = expiresAt
        self.notBefore = notBefore
        self.issuedAt = issuedAt
        switch object["aud"] {
        case nil: audiences = []
        case .string(let value): audiences = [value]
        case .array(let values):
            let strings = values.compactMap(\.string)
            guard strings.count == values.count else { return nil }
            audiences = strings
        default: return nil
        }
        var scopes: [String] = []
        if case .string(let text) = object["scope"] {
            scopes += text.split(separator: " ").map(String.init)
        }
        switch object["scp"] {
        case .string(let text): scopes += text.split(separator: " ").map(String.init)
        case .array(let values): scopes += values.compactMap(\.string)
        default: break
        }
        self.scopes = scopes
    }
}
