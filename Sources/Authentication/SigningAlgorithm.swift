/// The JWS algorithms the gateway verifies (never `none`), and which kind of key each needs, so a
/// token can only be checked with a key of the right type: an RSA public key is never used as an
/// HMAC secret (the RS/HS confusion attack).
public enum SigningAlgorithm: String, Sendable, CaseIterable, Hashable {
    case hs256 = "HS256"
    case hs384 = "HS384"
    case hs512 = "HS512"
    case rs256 = "RS256"
    case rs384 = "RS384"
    case rs512 = "RS512"
    case ps256 = "PS256"
    case ps384 = "PS384"
    case ps512 = "PS512"
    case es256 = "ES256"
    case es384 = "ES384"
    case es512 = "ES512"
    case edDSA = "EdDSA"

    public enum KeyKind: Sendable, Equatable {
        case secret, rsa, ecP256, ecP384, ecP521, ed25519
    }

    public var keyKind: KeyKind {
        switch self {
        case .hs256, .hs384, .hs512: .secret
        case .rs256, .rs384, .rs512, .ps256, .ps384, .ps512: .rsa
        case .es256: .ecP256
        case .es384: .ecP384
        case .es512: .ecP521
        case .edDSA: .ed25519
        }
    }

    /// For HMAC: the hash output size, the shortest secret that is not weaker than the hash (RFC
    /// 7518 §3.2).
    public var minimumSecretBytes: Int? {
        switch self {
        case .hs256: 32
        case .hs384: 48
        case .hs512: 64
        default: nil
        }
    }
}
