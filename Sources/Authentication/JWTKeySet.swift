import Foundation
import JWTKit

/// The verification keys of one JWT provider, immutable: each (key, algorithm) pair the config
/// allows is turned into a jwt-kit `JWTAlgorithm` once, when the set is built, so verifying a
/// request is a dictionary lookup and a synchronous signature check — never a call into jwt-kit's
/// `JWTKeyCollection` actor, which would funnel every request through one executor.
public struct JWTKeySet: Sendable {
    /// Where keys come from: a shared secret, a PEM public key or certificate, or a JWKS document.
    public enum Source: Sendable {
        case secret([UInt8], keyID: String?)
        case pem(String, keyID: String?)
        case jwks([UInt8])
    }

    public struct BuildError: Error, CustomStringConvertible {
        public let description: String
    }

    /// kid → algorithm → verifier.
    private let byKeyID: [String: [SigningAlgorithm: any JWTAlgorithm]]
    /// Keys without a kid: tried in turn for a token without one.
    private let anonymous: [SigningAlgorithm: [any JWTAlgorithm]]
    public let keyIDs: Set<String>
    /// How many (key, algorithm) pairs can verify.
    public let count: Int

    public static let empty = JWTKeySet(byKeyID: [:], anonymous: [:])

    private init(
        byKeyID: [String: [SigningAlgorithm: any JWTAlgorithm]], anonymous: [SigningAlgorithm: [any JWTAlgorithm]]
    ) {
        self.byKeyID = byKeyID
        self.anonymous = anonymous
        self.keyIDs = Set(byKeyID.keys)
        self.count = byKeyID.values.reduce(0) { $0 + $1.count } + anonymous.values.reduce(0) { $0 + $1.count }
    }

    /// The verifiers for a token's header: by its kid, or without one every key that has none.
    /// A token with an unknown kid gets none (the caller may refresh the JWKS).
    public func verifiers(keyID: String?, algorithm: SigningAlgorithm) -> [any JWTAlgorithm] {
        if let keyID {
            return byKeyID[keyID]?[algorithm].map { [$0] } ?? []
        }
        return anonymous[algorithm] ?? []
    }

    public func knows(keyID: String) -> Bool { byKeyID[keyID] != nil }

    /// Builds the set. Keys that fit none of `algorithms` are skipped; a key that cannot be read
    /// is an error naming it (never its material).
    public static func build(_ sources: [Source], algorithms: Set<SigningAlgorithm>) async throws -> JWTKeySet {
        var byKeyID: [String: [SigningAlgorithm: any JWTAlgorithm]] = [:]
        var anonymous: [SigningAlgorithm: [any JWTAlgorithm]] = [:]
        func add(_ verifier: any JWTAlgorithm, _ algorithm: SigningAlgorithm, keyID: String?) {
            if let keyID {
                byKeyID[keyID, default: [:]][algorithm] = verifier
            } else {
                anonymous[algorithm, default: []].append(verifier)
            }
        }
        for (index, source) in sources.enumerated() {
            switch source {
            case .secret(let secret, let keyID):
                for algorithm in algorithms where algorithm.keyKind == .secret {
                    if let minimum = algorithm.minimumSecretBytes, secret.count < minimum {
                        throw BuildError(
                            description:
                                "the secret is \(secret.count) bytes, \(algorithm.rawValue) needs at least \(minimum)")
                    }
                    add(try await hmac(secret, algorithm), algorithm, keyID: keyID)
                }
            case .pem(let text, let keyID):
                let key = try PEMKey(text)
                for algorithm in algorithms where algorithm.keyKind == key.kind {
                    add(try await key.verifier(for: algorithm), algorithm, keyID: keyID)
                }
            case .jwks(let document):
                guard let object = ClaimJSON.object(document), case .array(let keys) = object["keys"] else {
                    throw BuildError(description: "the JWKS document is not a JSON object with a \"keys\" array")
                }
                for (position, key) in keys.enumerated() {
                    guard case .object(var members) = key else { continue }
                    let keyID = members["kid"]?.string
                    let declared = members["alg"]?.string
                    // `oct` (shared secret) keys are read here: jwt-kit's JWK has no such type.
                    if members["kty"]?.string == "oct" {
                        guard let secret = members["k"]?.string.flatMap({ Base64URL.decode(Array($0.utf8)) }) else {
                            continue
                        }
                        for algorithm in algorithms where algorithm.keyKind == .secret {
                            if let declared, declared != algorithm.rawValue { continue }
                            if let minimum = algorithm.minimumSecretBytes, secret.count < minimum { continue }
                            add(try await hmac(secret, algorithm), algorithm, keyID: keyID)
                        }
                        continue
                    }
                    // Verifying needs the public parts only. jwt-kit builds a private key when `d` is
                    // there, and swift-crypto traps (a force unwrap) deriving one from a bad `n`/`d`:
                    // a broken or hostile JWKS endpoint could stop the process. Found by fuzz/run.sh.
                    for name in Self.privateMembers { members[name] = nil }
                    // jwt-kit files JWKs by kid; one without gets a name no token can carry.
                    members["kid"] = .string(keyID ?? "\u{0}anonymous-\(index)-\(position)")
                    guard let encoded = try? JSONEncoder().encode(members),
                        let jwk = try? JSONDecoder().decode(JWK.self, from: encoded),
                        let kind = Self.kind(of: jwk)
                    else { continue }
                    for algorithm in algorithms where algorithm.keyKind == kind {
                        if let declared, declared != algorithm.rawValue { continue }
                        guard let verifier = try? await Self.verifier(jwk, algorithm) else { continue }
                        add(verifier, algorithm, keyID: keyID)
                    }
                }
            }
        }
        return JWTKeySet(byKeyID: byKeyID, anonymous: anonymous)
    }

    /// RFC 7518 6.2.2 and 6.3.2 (EC and RSA private parameters), RFC 8037 2 (OKP's `d`).
    private static let privateMembers = ["d", "p", "q", "dp", "dq", "qi", "oth"]

    private static func kind(of jwk: JWK) -> SigningAlgorithm.KeyKind? {
        if jwk.keyType == .rsa { return .rsa }
        switch jwk.curve?.rawValue {
        case "P-256" where jwk.keyType == .ecdsa: return .ecP256
        case "P-384" where jwk.keyType == .ecdsa: return .ecP384
        case "P-521" where jwk.keyType == .ecdsa: return .ecP521
        case "Ed25519" where jwk.keyType == .octetKeyPair: return .ed25519
        default: return nil
        }
    }

    private static func verifier(_ jwk: JWK, _ algorithm: SigningAlgorithm) async throws -> any JWTAlgorithm {
        // A fresh collection per pair: jwt-kit remembers the first signer made for a JWK.
        let collection = JWTKeyCollection()
        try await collection.add(jwk: jwk)
        let verifier = try await collection.getKey(for: jwk.keyIdentifier, alg: algorithm.rawValue)
        guard verifier.name == algorithm.rawValue else {
            throw BuildError(description: "jwt-kit made \(verifier.name) for \(algorithm.rawValue)")
        }
        return verifier
    }

    private static func hmac(_ secret: [UInt8], _ algorithm: SigningAlgorithm) async throws -> any JWTAlgorithm {
        let digest: DigestAlgorithm =
            switch algorithm {
            case .hs384: .sha384
            case .hs512: .sha512
            default: .sha256
            }
        let collection = JWTKeyCollection()
        await collection.add(hmac: HMACKey(from: secret), digestAlgorithm: digest, kid: "k")
        return try await collection.getKey(for: "k")
    }
}
