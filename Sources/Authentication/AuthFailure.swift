/// Why a request was not authenticated. Each has the status and RFC 6750 error code the client
/// gets, and a description that says what was wrong without echoing key material or the token.
public enum AuthFailure: String, Sendable, Equatable, CaseIterable, Error {
    case missingToken = "missing_token"
    case malformedToken = "malformed_token"
    case tokenTooLarge = "token_too_large"
    case algorithmNotAllowed = "algorithm_not_allowed"
    case unknownKey = "unknown_key"
    case badSignature = "bad_signature"
    case expired
    case notYetValid = "not_yet_valid"
    case issuedInTheFuture = "issued_in_the_future"
    case wrongIssuer = "wrong_issuer"
    case wrongAudience = "wrong_audience"
    case missingClaim = "missing_claim"
    case insufficientScope = "insufficient_scope"
    case inactiveToken = "inactive_token"
    case introspectionUnavailable = "introspection_unavailable"
    case invalidAPIKey = "invalid_api_key"

    /// 403 when the token is good but not enough; 503 when the identity provider could not be
    /// asked; 401 otherwise.
    public var status: Int {
        switch self {
        case .insufficientScope: 403
        case .introspectionUnavailable: 503
        default: 401
        }
    }

    /// The RFC 6750 `error` parameter of `WWW-Authenticate`; nil when the request had no
    /// credentials at all (RFC 6750 §3.1: no error code then).
    public var bearerError: String? {
        switch self {
        case .missingToken: nil
        case .insufficientScope: "insufficient_scope"
        case .introspectionUnavailable: nil
        default: "invalid_token"
        }
    }

    public var description: String {
        switch self {
        case .missingToken: "No credentials were sent."
        case .malformedToken: "The token is not a well-formed JWT."
        case .tokenTooLarge: "The token is too large."
        case .algorithmNotAllowed: "The token's signing algorithm is not accepted."
        case .unknownKey: "The token was signed with an unknown key."
        case .badSignature: "The token's signature is invalid."
        case .expired: "The token has expired."
        case .notYetValid: "The token is not valid yet."
        case .issuedInTheFuture: "The token was issued in the future."
        case .wrongIssuer: "The token was issued by an issuer that is not accepted."
        case .wrongAudience: "The token is not meant for this audience."
        case .missingClaim: "The token lacks a required claim."
        case .insufficientScope: "The token lacks a scope this route requires."
        case .inactiveToken: "The token is not active."
        case .introspectionUnavailable: "The token could not be checked right now."
        case .invalidAPIKey: "The API key is not valid."
        }
    }
}
