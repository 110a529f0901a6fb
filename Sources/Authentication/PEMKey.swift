import JWTKit

/// A public key (or the key of a certificate) read from PEM text, of whichever type it is.
struct PEMKey {
    private enum Key {
        case rsa(Insecure.RSA.PublicKey)
        case p256(ES256PublicKey)
        case p384(ES384PublicKey)
        case p521(ES512PublicKey)
        case ed25519(EdDSA.PublicKey)
    }

    private let key: Key

    init(_ text: String) throws {
        if let key = (try? Insecure.RSA.PublicKey(pem: text)) ?? (try? Insecure.RSA.PublicKey(certificatePEM: text)) {
            self.key = .rsa(key)
        } else if let key = (try? ES256PublicKey(pem: text)) ?? (try? ES256PublicKey(certificate: text)) {
            self.key = .p256(key)
        } else if let key = (try? ES384PublicKey(pem: text)) ?? (try? ES384PublicKey(certificate: text)) {
            self.key = .p384(key)
        } else if let key = (try? ES512PublicKey(pem: text)) ?? (try? ES512PublicKey(certificate: text)) {
            self.key = .p521(key)
        } else if let key = try? EdDSA.PublicKey(pem: text) {
            self.key = .ed25519(key)
        } else {
            throw JWTKeySet.BuildError(
                description: "not a PEM public key or certificate of type RSA, EC (P-256, P-384, P-521) or Ed25519")
        }
    }

    var kind: SigningAlgorithm.KeyKind {
        switch key {
        case .rsa: .rsa
        case .p256: .ecP256
        case .p384: .ecP384
        case .p521: .ecP521
        case .ed25519: .ed25519
        }
    }

    func verifier(for algorithm: SigningAlgorithm) async throws -> any JWTAlgorithm {
        let collection = JWTKeyCollection()
        switch (key, algorithm) {
        case (.rsa(let key), .rs256): await collection.add(rsa: key, digestAlgorithm: .sha256, kid: "k")
        case (.rsa(let key), .rs384): await collection.add(rsa: key, digestAlgorithm: .sha384, kid: "k")
        case (.rsa(let key), .rs512): await collection.add(rsa: key, digestAlgorithm: .sha512, kid: "k")
        case (.rsa(let key), .ps256): await collection.add(pss: key, digestAlgorithm: .sha256, kid: "k")
        case (.rsa(let key), .ps384): await collection.add(pss: key, digestAlgorithm: .sha384, kid: "k")
        case (.rsa(let key), .ps512): await collection.add(pss: key, digestAlgorithm: .sha512, kid: "k")
        case (.p256(let key), .es256): await collection.add(ecdsa: key, kid: "k")
        case (.p384(let key), .es384): await collection.add(ecdsa: key, kid: "k")
        case (.p521(let key), .es512): await collection.add(ecdsa: key, kid: "k")
        case (.ed25519(let key), .edDSA): await collection.add(eddsa: key, kid: "k")
        default:
            throw JWTKeySet.BuildError(description: "\(algorithm.rawValue) does not fit this key")
        }
        return try await collection.getKey(for: "k")
    }
}
