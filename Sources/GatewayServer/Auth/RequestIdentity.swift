import Authentication

/// Who a request was authenticated as, for rate-limit keys, claim headers and the access log.
struct RequestIdentity: Sendable {
    /// `sub` of a token (JWT or introspection).
    var subject: String?
    /// The API key's consumer.
    var consumer: String?
    /// The token's claims (nil for API keys).
    var claims: TokenClaims?

    /// The `user` rate-limit key: the token's subject, or the API key's consumer.
    var user: String { subject ?? consumer ?? "" }
}
