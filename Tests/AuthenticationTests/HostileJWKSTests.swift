import Authentication
import XCTest

/// A JWKS document comes from a URL the gateway does not control; whatever it holds must give
/// keys or an error, never stop the process. The inputs are ones fuzz/run.sh (FuzzJWT) found.
final class HostileJWKSTests: XCTestCase {
    /// An RSA key with a private exponent and a modulus too small for it: jwt-kit handed `n`, `e`
    /// and `d` to swift-crypto, which trapped on a force unwrap while deriving the primes.
    func testAnRSAKeyWithABadPrivateExponentIsNotAProcessKiller() async throws {
        let document = #"{"keys":[{"kty":"RSA","kid":"r1","n":"hMhDR1L6tSoc_RJCiFgw","d":"aKIntKg7","e":"AQAB"}]}"#
        let keys = try await JWTKeySet.build([.jwks(Array(document.utf8))], algorithms: Set(SigningAlgorithm.allCases))
        // The modulus is far below jwt-kit's 2048-bit minimum, so the key is skipped, not used.
        XCTAssertEqual(keys.count, 0)
    }

    /// Private parts of EC and OKP keys are dropped too: a key set built with them verifies with
    /// the public parts alone, and a bad `d` cannot fail or trap the build.
    func testPrivateMembersAreIgnoredForEveryKeyType() async throws {
        let document = #"""
            {"keys":[
              {"kty":"EC","crv":"P-256","kid":"e1","d":"AAAA",
               "x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
              {"kty":"OKP","crv":"Ed25519","kid":"o1","d":"AAAA","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
            ]}
            """#
        let keys = try await JWTKeySet.build([.jwks(Array(document.utf8))], algorithms: [.es256, .edDSA])
        XCTAssertEqual(keys.keyIDs, ["e1", "o1"])
        XCTAssertEqual(keys.count, 2)
    }
}
