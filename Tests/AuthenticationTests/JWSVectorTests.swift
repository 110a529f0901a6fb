import Authentication
import Foundation
import XCTest

/// The RFC 7515 appendix A and RFC 7520 JWS examples (compact serialization: what a bearer token
/// is), and the derived negative cases, each verified with the vector's own key.
final class JWSVectorTests: XCTestCase {
    struct Vector {
        let id: String
        let compact: String
        let jwk: [String: Any]?
        let valid: Bool
        let detached: Bool
    }

    static func vectors() throws -> [Vector] {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Vectors/jwt-vectors.json")
        let document = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(contentsOf: path)) as? [String: Any])
        let entries = try XCTUnwrap(document["jws"] as? [[String: Any]])
        return entries.compactMap { entry in
            guard let id = entry["id"] as? String, let compact = entry["compact"] as? String else { return nil }
            return Vector(
                id: id, compact: compact, jwk: entry["jwk"] as? [String: Any],
                valid: entry["expect"] as? String == "valid",
                detached: entry["detached_payload"] != nil)
        }
    }

    private func verifier(for vector: Vector, algorithms: Set<SigningAlgorithm> = Set(SigningAlgorithm.allCases))
        async throws -> JWTVerifier
    {
        var keys: [JWTKeySet.Source] = []
        if let jwk = vector.jwk {
            keys.append(.jwks(Array(try JSONSerialization.data(withJSONObject: ["keys": [jwk]]))))
        }
        return JWTVerifier(
            keys: try await JWTKeySet.build(keys, algorithms: algorithms), algorithms: algorithms, rules: .init())
    }

    func testEveryCompactVectorGetsItsVerdict() async throws {
        let vectors = try Self.vectors()
        XCTAssertGreaterThanOrEqual(vectors.count, 14)
        var checked = 0
        for vector in vectors where !vector.detached {
            let verifier = try await verifier(for: vector)
            let result = verifier.verifySignature(Array(vector.compact.utf8))
            switch result {
            case .success: XCTAssertTrue(vector.valid, "\(vector.id) must be rejected")
            case .failure(let failure): XCTAssertFalse(vector.valid, "\(vector.id) must verify, got \(failure)")
            }
            checked += 1
        }
        XCTAssertGreaterThanOrEqual(checked, 14)
    }

    /// A detached payload (RFC 7520 4.5) is not a JWT: a token without a payload is malformed.
    func testADetachedPayloadTokenIsRejected() async throws {
        let vector = try XCTUnwrap(try Self.vectors().first { $0.detached })
        let detachedVerifier = try await verifier(for: vector)
        XCTAssertEqual(detachedVerifier.verifySignature(Array(vector.compact.utf8)).failure, .malformedToken)
    }

    /// RFC 7515 A.1-A.3 carry JWT claims (exp in 2011): with the clock pinned before it they are
    /// valid JWTs; at that second they have expired. (A.4's payload is the text "Payload".)
    func testTheRFC7515TokensAreValidJWTsUntilTheyExpire() async throws {
        for id in ["rfc7515-A.1", "rfc7515-A.2", "rfc7515-A.3"] {
            let vector = try XCTUnwrap(try Self.vectors().first { $0.id == id })
            let verifier = try await verifier(for: vector)
            let token = Array(vector.compact.utf8)
            let claims = try verifier.verify(token, now: 1_300_819_000).get()
            XCTAssertEqual(claims.issuer, "joe", id)
            XCTAssertEqual(claims.expiresAt, 1_300_819_380, id)
            XCTAssertEqual(verifier.verify(token, now: 1_300_819_380).failure, .expired, id)
        }
    }

    /// The algorithm must be both allowed and fit the key: with HS256 allowed too, the confusion
    /// vector (HS256 keyed with the RSA public key) still finds no HMAC key.
    func testAlgorithmConfusionAndNoneAreRejected() async throws {
        let vectors = try Self.vectors()
        let confusion = try XCTUnwrap(vectors.first { $0.id == "derived-alg-confusion-HS256-with-RSA-public-key" })
        let confused = try await verifier(for: confusion, algorithms: [.hs256, .rs256])
        XCTAssertNotNil(confused.verifySignature(Array(confusion.compact.utf8)).failure)
        let none = try XCTUnwrap(vectors.first { $0.id == "rfc7515-A.5" })
        let noneVerifier = try await verifier(for: none)
        XCTAssertEqual(noneVerifier.verifySignature(Array(none.compact.utf8)).failure, .algorithmNotAllowed)
        // RS256 not in the list: the valid A.2 token is refused by algorithm.
        let rs256 = try XCTUnwrap(vectors.first { $0.id == "rfc7515-A.2" })
        let es256Only = try await verifier(for: rs256, algorithms: [.es256])
        XCTAssertEqual(es256Only.verifySignature(Array(rs256.compact.utf8)).failure, .algorithmNotAllowed)
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let failure) = self { return failure }
        return nil
    }
}
