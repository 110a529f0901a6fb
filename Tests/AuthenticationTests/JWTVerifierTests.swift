import Authentication
import Foundation
import JWTKit
import XCTest
import _CryptoExtras

/// Claims rules and hostile tokens against the verifier, with a pinned clock.
final class JWTVerifierTests: XCTestCase {
    let now: Double = 1_800_000_000
    let secret = Array("0123456789abcdef0123456789abcdef".utf8)

    private func verifier(_ signers: [TestSigner], rules: JWTVerifier.Rules = .init()) async throws -> JWTVerifier {
        let algorithms = Set(signers.map(\.algorithm))
        return JWTVerifier(
            keys: try await JWTKeySet.build(signers.map(\.publicSource), algorithms: algorithms),
            algorithms: algorithms,
            rules: rules)
    }

    func testEverySupportedKeyTypeVerifiesItsOwnTokensOnly() async throws {
        let rsa = try Insecure.RSA.PrivateKey(
            backing: _RSA.Signing.PrivateKey(keySize: .bits2048))
        let signers = [
            try await TestSigner.hmac(secret), try await TestSigner.es256(), try await TestSigner.rs256(rsa),
            try await TestSigner.edDSA(),
        ]
        for signer in signers {
            let verifier = try await verifier([signer])
            let token = try signer.token(#"{"sub":"alice","exp":\#(now + 60)}"#)
            XCTAssertEqual(
                try verifier.verify(Array(token.utf8), now: now).get().subject, "alice", "\(signer.algorithm)")
            for other in signers where other.algorithm != signer.algorithm {
                let foreign = try other.token(#"{"sub":"mallory"}"#)
                XCTAssertNotNil(
                    verifier.verify(Array(foreign.utf8), now: now).failure, "\(other.algorithm) → \(signer.algorithm)")
            }
        }
    }

    func testClaimRules() async throws {
        let signer = try await TestSigner.hmac(secret)
        let verifier = try await verifier(
            [signer],
            rules: .init(issuer: "https://id.test", audiences: ["api"], leewaySeconds: 30, requiredClaims: ["sub"]))
        func check(_ claims: String) -> AuthFailure? {
            verifier.verify(Array(((try? signer.token(claims)) ?? "").utf8), now: now).failure
        }
        let good = #""iss":"https://id.test","aud":["web","api"],"sub":"a""#
        XCTAssertNil(check("{\(good),\"exp\":\(now + 1)}"))
        XCTAssertNil(check("{\(good),\"exp\":\(now - 29)}"), "inside the leeway")
        XCTAssertEqual(check("{\(good),\"exp\":\(now - 30)}"), .expired)
        XCTAssertEqual(check("{\(good),\"nbf\":\(now + 31)}"), .notYetValid)
        XCTAssertNil(check("{\(good),\"nbf\":\(now + 29)}"))
        XCTAssertEqual(check("{\(good),\"iat\":\(now + 31)}"), .issuedInTheFuture)
        XCTAssertEqual(check(#"{"iss":"https://evil.test","aud":"api","sub":"a"}"#), .wrongIssuer)
        XCTAssertEqual(check(#"{"iss":"https://id.test","aud":"web","sub":"a"}"#), .wrongAudience)
        XCTAssertEqual(check(#"{"iss":"https://id.test","sub":"a"}"#), .wrongAudience)
        XCTAssertEqual(check(#"{"iss":"https://id.test","aud":"api"}"#), .missingClaim)
        XCTAssertEqual(check(#"{"iss":"https://id.test","aud":"api","sub":"a","exp":"soon"}"#), .malformedToken)
        XCTAssertEqual(check(#"{"iss":"https://id.test","aud":["api",7],"sub":"a"}"#), .malformedToken)
        XCTAssertEqual(check(#"["not","an","object"]"#), .malformedToken)
    }

    func testScopesFromScopeAndScp() throws {
        let fromScope = try XCTUnwrap(TokenClaims(json: Array(#"{"scope":"users:read users:write"}"#.utf8)))
        XCTAssertEqual(fromScope.scopes, ["users:read", "users:write"])
        let fromScp = try XCTUnwrap(TokenClaims(json: Array(#"{"scp":["orders:read"]}"#.utf8)))
        XCTAssertEqual(fromScp.scopes, ["orders:read"])
    }

    func testHostileTokensAreRejectedWithTheRightReason() async throws {
        let signer = try await TestSigner.hmac(secret)
        let verifier = try await verifier([signer])
        let token = try signer.token(#"{"sub":"alice"}"#)
        let parts = token.split(separator: ".").map(String.init)
        func verify(_ text: String) -> AuthFailure? { verifier.verify(Array(text.utf8), now: now).failure }

        XCTAssertNil(verify(token))
        let tamperedPayload = Base64URL.encode(Array(#"{"sub":"admin"}"#.utf8))
        XCTAssertEqual(verify([parts[0], tamperedPayload, parts[2]].joined(separator: ".")), .badSignature)
        var signature = try XCTUnwrap(Base64URL.decode(Array(parts[2].utf8)))
        signature[0] ^= 1
        XCTAssertEqual(verify([parts[0], parts[1], Base64URL.encode(signature)].joined(separator: ".")), .badSignature)
        let none = Base64URL.encode(Array(#"{"alg":"none"}"#.utf8))
        XCTAssertEqual(verify([none, parts[1], ""].joined(separator: ".")), .algorithmNotAllowed)
        XCTAssertEqual(verify(none + "." + parts[1] + "."), .algorithmNotAllowed)
        XCTAssertEqual(verify("not a token"), .malformedToken)
        XCTAssertEqual(verify(parts[0] + "." + parts[1]), .malformedToken)
        XCTAssertEqual(verify(token + ".extra"), .malformedToken)
        XCTAssertEqual(verify(parts[0] + "=." + parts[1] + "." + parts[2]), .malformedToken, "padding is not base64url")
        XCTAssertEqual(verify("!!!." + parts[1] + "." + parts[2]), .malformedToken)
        // A non-canonical last character (non-zero trailing bits) would be a second spelling.
        var last = Array(parts[2].utf8)
        last[last.count - 1] = last[last.count - 1] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        XCTAssertNotNil(verify(parts[0] + "." + parts[1] + "." + String(decoding: last, as: UTF8.self)))
        let crit = Base64URL.encode(Array(#"{"alg":"HS256","crit":["exp"],"exp":1}"#.utf8))
        XCTAssertEqual(verify(crit + "." + parts[1] + "." + parts[2]), .malformedToken)
        XCTAssertEqual(verify(String(repeating: "a", count: 100 * 1024)), .tokenTooLarge)
        let deep = String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)
        XCTAssertEqual(verify(try signer.token(#"{"a":"# + deep + "}")), .malformedToken, "nesting is bounded")
        XCTAssertEqual(verify(try signer.token(#"{"sub":"a"}"#, keyID: "other")), .unknownKey)
    }

    func testShortHMACSecretsAreRefused() async throws {
        do {
            _ = try await JWTKeySet.build([.secret(Array("short".utf8), keyID: nil)], algorithms: [.hs256])
            XCTFail("a 5-byte HS256 secret must be refused")
        } catch let error as JWTKeySet.BuildError {
            XCTAssertTrue(error.description.contains("at least 32"), error.description)
            XCTAssertFalse(error.description.contains("short"), "the secret itself is never in the message")
        }
        let hs512 = try await JWTKeySet.build([.secret(secret, keyID: nil)], algorithms: [.hs256]).count
        XCTAssertEqual(hs512, 1)
    }

    func testKeysAreFoundByKeyID() async throws {
        let first = try await TestSigner.es256(keyID: "one")
        let second = try await TestSigner.es256(keyID: "two")
        let verifier = try await verifier([first, second])
        XCTAssertNil(verifier.verify(Array(try first.token("{}", keyID: "one").utf8), now: now).failure)
        XCTAssertNil(verifier.verify(Array(try second.token("{}", keyID: "two").utf8), now: now).failure)
        XCTAssertEqual(
            verifier.verify(Array(try first.token("{}", keyID: "two").utf8), now: now).failure, .badSignature,
            "the kid picks the key: another key's signature fails")
        XCTAssertEqual(verifier.verify(Array(try first.token("{}").utf8), now: now).failure, .unknownKey)
    }
}
