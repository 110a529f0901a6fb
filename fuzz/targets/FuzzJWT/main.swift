import Authentication
import Crypto
import Dispatch

/// Every bearer token a client sends is parsed here before any key is known to match, and a JWKS
/// document comes from a URL the gateway does not control. The first byte picks what the rest is:
/// 0 a token as sent; 1 a payload the harness signs with the known key, so claim parsing and the
/// claim checks are reached (then verifying must agree with parsing the claims alone); 2 a JWKS
/// document.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJWT(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: start, count: count)
    guard let mode = bytes.first else { return 0 }
    let rest = Array(bytes.dropFirst())
    switch mode % 3 {
    case 0:
        _ = verifier.verify(rest, now: 1_700_000_000)
    case 1:
        checkSigned(payload: rest)
    default:
        _ = blocking { try? await JWTKeySet.build([.jwks(rest)], algorithms: Set(SigningAlgorithm.allCases)) }
    }
    return 0
}

let secret = Array("fuzzing-secret-of-at-least-64-bytes-so-every-hs-algorithm-takes-it".utf8)

let verifier: JWTVerifier = blocking {
    do {
        let keys = try await JWTKeySet.build([.secret(secret, keyID: nil)], algorithms: [.hs256])
        return JWTVerifier(
            keys: keys, algorithms: [.hs256],
            rules: .init(issuer: "https://issuer.test", audiences: ["api"], leewaySeconds: 30, requiredClaims: ["sub"]))
    } catch {
        fatalError("the fuzzing key set does not build: \(error)")
    }
}

func checkSigned(payload: [UInt8]) {
    let header = Base64URL.encode(Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8))
    let signingInput = Array((header + "." + Base64URL.encode(payload)).utf8)
    let mac = HMAC<SHA256>.authenticationCode(for: signingInput, using: SymmetricKey(data: secret))
    let token = signingInput + Array(("." + Base64URL.encode(Array(mac))).utf8)

    let now = 1_700_000_000.0
    let expected: Result<TokenClaims, AuthFailure>
    if let claims = TokenClaims(json: payload) {
        expected = verifier.check(claims, now: now).map { .failure($0) } ?? .success(claims)
    } else {
        expected = .failure(.malformedToken)
    }
    let verified = verifier.verify(token, now: now)
    // Only a token too long for the limit may fail earlier than its claims do.
    if token.count > verifier.rules.maxTokenBytes { return }
    guard verified == expected else { fatalError("verify gave \(verified), the claims alone \(expected)") }
}

/// Runs async set-up code from the synchronous fuzzing entry point.
func blocking<Value: Sendable>(_ body: @escaping @Sendable () async -> Value) -> Value {
    let box = ResultBox<Value>()
    let done = DispatchSemaphore(value: 0)
    Task {
        box.value = await body()
        done.signal()
    }
    done.wait()
    guard let value = box.value else { fatalError("the task ended without a value") }
    return value
}

/// @unchecked: `value` is written once by the task before it signals the semaphore and read only
/// after the wait, which orders the two accesses.
final class ResultBox<Value>: @unchecked Sendable {
    var value: Value?
}
