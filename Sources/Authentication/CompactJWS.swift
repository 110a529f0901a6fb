/// A JWS in compact serialization, split and decoded but not verified. Only the fields the
/// gateway acts on are read from the protected header; a `crit` header (an extension the token
/// says must be understood) is refused, since the gateway understands none.
public struct CompactJWS: Sendable {
    public let algorithm: String
    public let keyID: String?
    /// `BASE64URL(header) . BASE64URL(payload)`, the bytes the signature covers.
    public let signingInput: [UInt8]
    public let signature: [UInt8]
    public let payload: [UInt8]

    /// A bound on what is parsed at all (a bearer token is a few hundred bytes to a few KiB).
    public static let defaultMaxBytes = 16 * 1024

    public static func parse(_ token: [UInt8], maxBytes: Int = defaultMaxBytes) -> Result<CompactJWS, AuthFailure> {
        guard token.count <= maxBytes else { return .failure(.tokenTooLarge) }
        guard let firstDot = token.firstIndex(of: UInt8(ascii: ".")),
            let secondDot = token[(firstDot + 1)...].firstIndex(of: UInt8(ascii: ".")),
            !token[(secondDot + 1)...].contains(UInt8(ascii: ".")),
            firstDot > 0, secondDot > firstDot + 1
        else { return .failure(.malformedToken) }
        guard let headerBytes = Base64URL.decode(token[..<firstDot]),
            let payload = Base64URL.decode(token[(firstDot + 1)..<secondDot]),
            let signature = Base64URL.decode(token[(secondDot + 1)...])
        else { return .failure(.malformedToken) }
        guard let header = TokenHeader(json: headerBytes) else { return .failure(.malformedToken) }
        guard header.critical == nil else { return .failure(.malformedToken) }
        return .success(
            CompactJWS(
                algorithm: header.algorithm, keyID: header.keyID, signingInput: Array(token[..<secondDot]),
                signature: signature, payload: payload))
    }
}

/// The protected header's fields the gateway reads.
struct TokenHeader {
    let algorithm: String
    let keyID: String?
    let critical: ClaimValue?

    init?(json bytes: [UInt8]) {
        guard let object = ClaimJSON.object(bytes), case .string(let algorithm) = object["alg"] else { return nil }
        self.algorithm = algorithm
        switch object["kid"] {
        case nil: keyID = nil
        case .string(let kid): keyID = kid
        default: return nil
        }
        critical = object["crit"]
    }
}
