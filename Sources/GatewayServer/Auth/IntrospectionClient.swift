import AsyncHTTPClient
import Authentication
import Crypto
import Foundation
import GatewayConfig
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// OAuth2 token introspection (RFC 7662) for opaque tokens: the gateway posts the token with its
/// client credentials and honours `active`, `exp` and the scopes of the answer. Answers are
/// remembered (by the token's SHA-256) for `cache_for`, never past the token's `exp`; a refusal
/// for a few seconds; an unreachable endpoint for one second, so an outage is not multiplied by
/// every request into a flood on the identity provider.
final class IntrospectionClient: Sendable {
    let config: IntrospectionConfig
    private let httpClient: HTTPClient
    private let authorization: String
    private let logger: Logger
    private let cache = NIOLockedValueBox<[SHA256Digest: Remembered]>([:])
    private let inFlight = NIOLockedValueBox<[SHA256Digest: Task<Void, Never>]>([:])

    static let maxCacheEntries = 100_000
    static let refusalMemory: Double = 5
    static let outageMemory: Double = 1

    private struct Remembered {
        let result: Result<TokenClaims, AuthFailure>
        let until: Double
    }

    struct SetupError: Error, CustomStringConvertible {
        let description: String
    }

    init(
        _ config: IntrospectionConfig, httpClient: HTTPClient, environment: [String: String], logger: Logger
    ) throws {
        var secret = ""
        if let variable = config.clientSecretEnvironmentVariable {
            guard let value = environment[variable], !value.isEmpty else {
                throw SetupError(
                    description:
                        "auth.introspection.\(config.name): environment variable \(variable) (client_secret_env) is not set"
                )
            }
            secret = value
        }
        self.config = config
        self.httpClient = httpClient
        // RFC 6749 §2.3.1: both parts form-urlencoded before Basic.
        let credentials = Self.formEncoded(config.clientID) + ":" + Self.formEncoded(secret)
        self.authorization = "Basic " + Data(credentials.utf8).base64EncodedString()
        self.logger = logger
    }

    /// The remembered answer for a token, if there is one still valid at `now`.
    func remembered(_ token: [UInt8], now: Double) -> Result<TokenClaims, AuthFailure>? {
        let key = SHA256.hash(data: token)
        return cache.withLockedValue { cache in
            guard let entry = cache[key] else { return nil }
            guard entry.until > now else {
                cache[key] = nil
                return nil
            }
            return entry.result
        }
    }

    /// Asks the endpoint (one request per token at a time) and remembers the answer.
    func introspect(_ token: [UInt8]) -> Task<Void, Never> {
        let key = SHA256.hash(data: token)
        return inFlight.withLockedValue { inFlight in
            if let existing = inFlight[key] { return existing }
            let task = Task {
                let result = await self.ask(token)
                let now = Date().timeIntervalSince1970
                let until: Double
                switch result {
                case .success(let claims):
                    until = min(now + Double(config.cacheFor.components.seconds), claims.expiresAt ?? .infinity)
                case .failure(.introspectionUnavailable): until = now + Self.outageMemory
                case .failure: until = now + Self.refusalMemory
                }
                self.cache.withLockedValue { cache in
                    if cache.count >= Self.maxCacheEntries { cache.removeAll(keepingCapacity: true) }
                    cache[key] = Remembered(result: result, until: until)
                }
                _ = self.inFlight.withLockedValue { $0.removeValue(forKey: key) }
            }
            inFlight[key] = task
            return task
        }
    }

    private func ask(_ token: [UInt8]) async -> Result<TokenClaims, AuthFailure> {
        do {
            var request = HTTPClientRequest(url: config.url)
            request.method = .POST
            request.headers.add(name: "content-type", value: "application/x-www-form-urlencoded")
            request.headers.add(name: "accept", value: "application/json")
            request.headers.add(name: "authorization", value: authorization)
            let form =
                "token=" + Self.formEncoded(String(decoding: token, as: UTF8.self))
                + "&token_type_hint=access_token"
            request.body = .bytes(ByteBuffer(string: form))
            let seconds = Int64(config.timeout.components.seconds)
            let milliseconds = config.timeout.components.attoseconds / 1_000_000_000_000_000
            let response = try await httpClient.execute(
                request, timeout: .milliseconds(seconds * 1000 + milliseconds))
            guard response.status == .ok else {
                logger.warning(
                    "introspection answered \(response.status.code)", metadata: ["endpoint": "\(config.name)"])
                return .failure(.introspectionUnavailable)
            }
            let body = try await response.body.collect(upTo: 64 * 1024)
            return Self.decision(Array(body.readableBytesView), now: Date().timeIntervalSince1970)
        } catch {
            logger.warning("introspection failed", metadata: ["endpoint": "\(config.name)", "error": "\(error)"])
            return .failure(.introspectionUnavailable)
        }
    }

    /// RFC 7662 §2.2: `active` decides; an answer without it, or not JSON, is the endpoint failing.
    static func decision(_ body: [UInt8], now: Double) -> Result<TokenClaims, AuthFailure> {
        guard let object = ClaimJSON.object(body), case .bool(let active) = object["active"] else {
            return .failure(.introspectionUnavailable)
        }
        guard active else { return .failure(.inactiveToken) }
        guard let claims = TokenClaims(object: object) else { return .failure(.introspectionUnavailable) }
        if let expiresAt = claims.expiresAt, expiresAt <= now { return .failure(.inactiveToken) }
        return .success(claims)
    }

    /// application/x-www-form-urlencoded: ASCII letters, digits and `-._*` stay, the rest is %XX.
    static func formEncoded(_ text: String) -> String {
        var output = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "*"):
                output.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                output +=
                    "%" + String(byte >> 4, radix: 16, uppercase: true) + String(byte & 15, radix: 16, uppercase: true)
            }
        }
        return output
    }
}
