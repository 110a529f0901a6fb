import Authentication
import Foundation
import JWTKit

/// Signs test tokens with private keys made in the test, through jwt-kit's own algorithms.
struct TestSigner {
    let algorithm: SigningAlgorithm
    let signer: any JWTAlgorithm
    /// The public side, as the gateway would be configured with it.
    let publicSource: JWTKeySet.Source

    static func hmac(_ secret: [UInt8], _ algorithm: SigningAlgorithm = .hs256, keyID: String? = nil) async throws
        -> TestSigner
    {
        let collection = JWTKeyCollection()
        let digest: DigestAlgorithm = algorithm == .hs512 ? .sha512 : algorithm == .hs384 ? .sha384 : .sha256
        await collection.add(hmac: HMACKey(from: secret), digestAlgorithm: digest, kid: "k")
        return TestSigner(
            algorithm: algorithm, signer: try await collection.getKey(for: "k"),
            publicSource: .secret(secret, keyID: keyID))
    }

    static func es256(keyID: String? = nil) async throws -> TestSigner {
        let key = ES256PrivateKey()
        let collection = JWTKeyCollection()
        await collection.add(ecdsa: key, kid: "k")
        return TestSigner(
            algorithm: .es256, signer: try await collection.getKey(for: "k"),
            publicSource: .pem(key.publicKey.pemRepresentation, keyID: keyID))
    }

    static func rs256(_ key: Insecure.RSA.PrivateKey, keyID: String? = nil) async throws -> TestSigner {
        let collection = JWTKeyCollection()
        await collection.add(rsa: key, digestAlgorithm: .sha256, kid: "k")
        return TestSigner(
            algorithm: .rs256, signer: try await collection.getKey(for: "k"),
            publicSource: .pem(key.publicKey.pemRepresentation, keyID: keyID))
    }

    static func edDSA(keyID: String? = nil) async throws -> TestSigner {
        let key = try EdDSA.PrivateKey()
        let collection = JWTKeyCollection()
        await collection.add(eddsa: key, kid: "k")
        return TestSigner(
            algorithm: .edDSA, signer: try await collection.getKey(for: "k"),
            publicSource: .pem(key.publicKey.pemRepresentation, keyID: keyID))
    }

    /// A compact JWS of `claims` (JSON object text) with the given header fields.
    func token(_ claims: String, keyID: String? = nil, algorithmName: String? = nil) throws -> String {
        var header = #"{"alg":"\#(algorithmName ?? algorithm.rawValue)","typ":"JWT""#
        if let keyID { header += #","kid":"\#(keyID)""# }
        header += "}"
        let input = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(claims.utf8))
        return input + "." + Base64URL.encode(try signer.sign(Array(input.utf8)))
    }
}
