import Authentication
import Crypto
import Foundation
import GatewayConfig
import JWTKit
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import XCTest
import _CryptoExtras

@testable import GatewayServer

/// Routes with auth in front of a real upstream: JWT from a secret, a PEM file and a rotating JWKS
/// served on 127.0.0.1, and API keys.
final class AuthIntegrationTests: XCTestCase {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    static let secret = "an-hmac-secret-of-at-least-32-bytes!!"

    override func tearDown() async throws {
        try await group.shutdownGracefully()
    }

    private func start(
        auth: AuthConfig, routeAuth: RouteAuthConfig, fromClaims: [HeaderField] = [],
        rateLimits: [RateLimitPolicyConfig] = [], accessLogPath: String? = nil
    ) async throws -> (TestGateway, ScriptedOrigin) {
        let origin = try await ScriptedOrigin { _ in .init(body: "ok") }
        var route = RouteConfig(
            name: "api", match: RouteMatchConfig(path: .prefix("/")), upstream: "u",
            headers: HeaderRules(request: HeaderOperations(fromClaims: fromClaims)), rateLimits: rateLimits.map(\.name),
            auth: routeAuth)
        route.rateLimits = rateLimits.map(\.name)
        let configuration = GatewayConfiguration(
            node: NodeConfig(id: "n"), runtime: RuntimeConfig(eventLoops: 1, drainTimeout: .seconds(5)),
            listeners: [ListenerConfig(name: "test", address: HostPort(host: "127.0.0.1", port: 0))],
            upstreams: [
                UpstreamConfig(
                    name: "u", endpoints: [EndpointConfig(address: HostPort(host: "127.0.0.1", port: origin.port))])
            ], routes: [route],
            logging: LoggingConfig(accessLog: accessLogPath.map { AccessLogConfig(destination: .file(path: $0)) }),
            rateLimits: rateLimits, auth: auth)
        return (try await TestGateway.start(configuration), origin)
    }

    private func hmacToken(_ claims: String) async throws -> String {
        let collection = JWTKeyCollection()
        await collection.add(hmac: HMACKey(from: Array(Self.secret.utf8)), digestAlgorithm: .sha256, kid: "k")
        let signer = try await collection.getKey(for: "k")
        let input =
            Base64URL.encode(Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8)) + "." + Base64URL.encode(Array(claims.utf8))
        return input + "." + Base64URL.encode(try signer.sign(Array(input.utf8)))
    }

    func testBearerTokensScopesClaimHeadersAndFailures() async throws {
        setenv("AUTH_TEST_SECRET", Self.secret, 1)
        let provider = JWTProviderConfig(
            name: "main", issuer: "https://id.test", algorithms: ["HS256"], leeway: .seconds(5),
            secretEnvironmentVariable: "AUTH_TEST_SECRET")
        let (gateway, origin) = try await start(
            auth: AuthConfig(jwt: [provider]),
            routeAuth: RouteAuthConfig(methods: [.jwt("main")], scopes: ["users:read"], forwardCredentials: false),
            fromClaims: [HeaderField(name: "sub", value: "X-User-Id")])
        let client = try await TestClient.connect(port: gateway.port, group: group)
        let now = Int(Date().timeIntervalSince1970)
        func get(_ token: String?, extra: [(String, String)] = []) async throws -> TestResponse {
            var headers = [("host", "test")] + extra
            if let token { headers.append(("authorization", "Bearer " + token)) }
            return try await client.request(.GET, "/users", headers: headers)
        }

        let missing = try await get(nil)
        XCTAssertEqual(missing.status, .unauthorized)
        XCTAssertEqual(missing.header("www-authenticate"), #"Bearer realm="gateway""#)
        XCTAssertTrue(missing.bodyText.contains(#""error":"missing_token""#), missing.bodyText)

        let good = try await hmacToken(
            #"{"iss":"https://id.test","sub":"alice","scope":"users:read users:write","exp":\#(now + 60)}"#)
        for _ in 0..<2 {  // the second is answered from the verified-token cache
            let ok = try await get(good, extra: [("x-user-id", "mallory")])
            XCTAssertEqual(ok.status, .ok)
        }
        let forwarded = try XCTUnwrap(origin.requests.last)
        XCTAssertEqual(forwarded.headers["x-user-id"], ["alice"], "the claim replaces what the client sent")
        XCTAssertEqual(forwarded.headers["authorization"], [], "forward_credentials: false strips the token")

        let noScope = try await get(try await hmacToken(#"{"iss":"https://id.test","sub":"bob","scope":"other"}"#))
        XCTAssertEqual(noScope.status, .forbidden)
        XCTAssertTrue(noScope.header("www-authenticate")?.contains(#"error="insufficient_scope""#) == true)

        let expired = try await get(try await hmacToken(#"{"iss":"https://id.test","sub":"a","exp":\#(now - 60)}"#))
        XCTAssertEqual(expired.status, .unauthorized)
        XCTAssertEqual(
            expired.header("www-authenticate"),
            #"Bearer realm="gateway", error="invalid_token", error_description="The token has expired.""#)

        let wrongIssuer = try await get(try await hmacToken(#"{"iss":"https://evil.test","sub":"a"}"#))
        XCTAssertTrue(wrongIssuer.bodyText.contains("wrong_issuer"))
        let tampered = good.dropLast(2) + (good.hasSuffix("AA") ? "BB" : "AA")
        let value1 = try await get(String(tampered)).status
        XCTAssertEqual(value1, .unauthorized)

        let metrics = await gateway.server.metricsText()
        XCTAssertTrue(metrics.contains(#"gateway_auth_requests_total{result="authenticated"} 2"#), metrics)
        XCTAssertTrue(metrics.contains(#"gateway_auth_requests_total{result="refused",reason="expired"} 1"#))
        XCTAssertEqual(origin.requests.count, 2, "refused requests never reach the upstream")
        // A 100 KiB token is over the listener's header limit: 431 (and the connection closes).
        let other = try await TestClient.connect(port: gateway.port, group: group)
        let huge = try? await other.request(
            .GET, "/",
            headers: [("host", "test"), ("authorization", "Bearer " + String(repeating: "a", count: 100 * 1024))])
        XCTAssertEqual(huge?.status ?? .requestHeaderFieldsTooLarge, .requestHeaderFieldsTooLarge)
        await other.close()
        let stillServing = try await get(good)
        XCTAssertEqual(stillServing.status, .ok, "the process is unharmed")
        await client.close()
        await gateway.stop()
        await origin.stop()
    }

    func testAPIKeysIdentifyConsumersForRateLimits() async throws {
        let keys = APIKeySetConfig(
            name: "partners", source: .header("x-api-key"),
            keys: [
                .init(consumer: "acme", sha256: Array(SHA256.hash(data: Array("acme-key".utf8)))),
                .init(consumer: "globex", sha256: Array(SHA256.hash(data: Array("globex-key".utf8)))),
            ])
        let perUser = RateLimitPolicyConfig(
            name: "per-user", algorithm: .fixedWindow, rate: Rate(count: 2, period: .seconds(3600)), key: [.user])
        let logPath = NSTemporaryDirectory() + "gateway-auth-\(UUID().uuidString).log"
        defer { try? FileManager.default.removeItem(atPath: logPath) }
        let (gateway, origin) = try await start(
            auth: AuthConfig(apiKeys: [keys]), routeAuth: RouteAuthConfig(methods: [.apiKey("partners")]),
            rateLimits: [perUser], accessLogPath: logPath)
        let client = try await TestClient.connect(port: gateway.port, group: group)
        func get(_ key: String?) async throws -> HTTPResponseStatus {
            var headers = [("host", "test")]
            if let key { headers.append(("x-api-key", key)) }
            return try await client.request(.GET, "/", headers: headers).status
        }
        let missing = try await client.request(.GET, "/", headers: [("host", "test")])
        XCTAssertEqual(missing.status, .unauthorized)
        XCTAssertEqual(missing.header("www-authenticate"), #"APIKey realm="gateway""#)
        let value2 = try await get("wrong")
        XCTAssertEqual(value2, .unauthorized)
        let acme = [try await get("acme-key"), try await get("acme-key"), try await get("acme-key")]
        XCTAssertEqual(acme, [.ok, .ok, .tooManyRequests], "two per consumer")
        let value3 = try await get("globex-key")
        XCTAssertEqual(value3, .ok, "another consumer has its own count")
        XCTAssertEqual(origin.requests.first?.headers["x-api-key"], ["acme-key"], "forwarded by default")
        await gateway.server.flushAccessLog()
        let users = try String(contentsOfFile: logPath, encoding: .utf8).split(separator: "\n").map { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["user"] as? String ?? "-"
        }
        XCTAssertEqual(users, ["-", "-", "acme", "acme", "acme", "globex"], "the consumer is in the access log")
        await client.close()
        await gateway.stop()
        await origin.stop()
    }

    /// A JWKS served on 127.0.0.1 rotates: a token with a new kid waits for one refresh and is
    /// accepted; once a key is gone its tokens are refused; with the JWKS server down the last
    /// good keys stay.
    func testJWKSRotationAndOutage() async throws {
        let first = ES256PrivateKey()
        let second = ES256PrivateKey()
        func jwk(_ key: ES256PrivateKey, kid: String) -> String {
            let parameters = key.publicKey.parameters
            return
                #"{"kty":"EC","crv":"P-256","kid":"\#(kid)","x":"\#(parameters?.x ?? "")","y":"\#(parameters?.y ?? "")"}"#
        }
        let jwks = NIOLockedValueBox(#"{"keys":[\#(jwk(first, kid: "one"))]}"#)
        let idp = try await ScriptedOrigin { _ in
            .init(headers: [("content-type", "application/json")], body: jwks.withLockedValue { $0 })
        }
        let provider = JWTProviderConfig(
            name: "idp", jwksURL: "http://127.0.0.1:\(idp.port)/jwks.json", refresh: .seconds(3600),
            minimumRefreshInterval: .milliseconds(1), algorithms: ["ES256"])
        let (gateway, origin) = try await start(
            auth: AuthConfig(jwt: [provider]), routeAuth: RouteAuthConfig(methods: [.jwt("idp")]))
        let client = try await TestClient.connect(port: gateway.port, group: group)
        func token(_ key: ES256PrivateKey, kid: String) async throws -> String {
            let collection = JWTKeyCollection()
            await collection.add(ecdsa: key, kid: "k")
            let signer = try await collection.getKey(for: "k")
            let header = #"{"alg":"ES256","kid":"\#(kid)"}"#
            let input = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(#"{"sub":"s"}"#.utf8))
            return input + "." + Base64URL.encode(try signer.sign(Array(input.utf8)))
        }
        func get(_ token: String) async throws -> HTTPResponseStatus {
            try await client.request(.GET, "/", headers: [("host", "test"), ("authorization", "Bearer \(token)")])
                .status
        }
        let oldToken = try await token(first, kid: "one")
        let newToken = try await token(second, kid: "two")
        let value4 = try await get(oldToken)
        XCTAssertEqual(value4, .ok)
        let value5 = try await get(newToken)
        XCTAssertEqual(value5, .unauthorized, "kid 'two' is not published yet")

        let both = #"{"keys":[\#(jwk(first, kid: "one")),\#(jwk(second, kid: "two"))]}"#
        jwks.withLockedValue { $0 = both }
        let value6 = try await get(newToken)
        XCTAssertEqual(value6, .ok, "the unknown kid made the gateway fetch the JWKS again")

        let secondOnly = #"{"keys":[\#(jwk(second, kid: "two"))]}"#
        jwks.withLockedValue { $0 = secondOnly }
        // A token naming yet another key triggers the next refresh, which drops 'one'.
        let value7 = try await get(try await token(first, kid: "three"))
        XCTAssertEqual(value7, .unauthorized)
        let value8 = try await get(oldToken)
        XCTAssertEqual(value8, .unauthorized, "the removed key's tokens are refused, cached or not")
        let value9 = try await get(newToken)
        XCTAssertEqual(value9, .ok)

        await idp.stop()
        let value10 = try await get(try await token(first, kid: "four"))
        XCTAssertEqual(value10, .unauthorized)
        let value11 = try await get(newToken)
        XCTAssertEqual(value11, .ok, "with the JWKS server down the last good keys stay")
        await client.close()
        await gateway.stop()
        await origin.stop()
    }

    func testPublicKeyFilesAndAnUnreadableOneStopsTheStart() async throws {
        let key = try Insecure.RSA.PrivateKey(backing: _RSA.Signing.PrivateKey(keySize: .bits2048))
        let path = NSTemporaryDirectory() + "gateway-test-\(UUID().uuidString).pem"
        try key.publicKey.pemRepresentation.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let provider = JWTProviderConfig(name: "rsa", algorithms: ["RS256"], publicKeyFiles: [.init(path: path)])
        let (gateway, origin) = try await start(
            auth: AuthConfig(jwt: [provider]), routeAuth: RouteAuthConfig(methods: [.jwt("rsa")]))
        let collection = JWTKeyCollection()
        await collection.add(rsa: key, digestAlgorithm: .sha256, kid: "k")
        let signer = try await collection.getKey(for: "k")
        let input = Base64URL.encode(Array(#"{"alg":"RS256"}"#.utf8)) + "." + Base64URL.encode(Array("{}".utf8))
        let token = input + "." + Base64URL.encode(try signer.sign(Array(input.utf8)))
        let client = try await TestClient.connect(port: gateway.port, group: group)
        let response = try await client.request(
            .GET, "/", headers: [("host", "t"), ("authorization", "Bearer " + token)])
        XCTAssertEqual(response.status, .ok)
        // HS256 "signed" with the RSA public key as the secret: refused (RS256 only, RSA key).
        let confused = try await client.request(
            .GET, "/",
            headers: [
                ("host", "t"), ("authorization", "Bearer " + Self.hs256(withSecret: key.publicKey.pemRepresentation)),
            ])
        XCTAssertEqual(confused.status, .unauthorized)
        await client.close()
        await gateway.stop()
        await origin.stop()

        let missing = JWTProviderConfig(
            name: "gone", algorithms: ["RS256"], publicKeyFiles: [.init(path: "/nonexistent.pem")])
        // A JWKS provider before it makes the HTTP client, which the failed start must shut down
        // (AsyncHTTPClient traps on a client dropped while running, in debug builds).
        let unreachable = JWTProviderConfig(
            name: "jwks", jwksURL: "http://127.0.0.1:1/jwks.json", algorithms: ["RS256"])
        do {
            _ = try await start(
                auth: AuthConfig(jwt: [unreachable, missing]), routeAuth: RouteAuthConfig(methods: [.jwt("gone")]))
            XCTFail("an unreadable key file must stop the start")
        } catch {
            XCTAssertTrue("\(error)".contains("/nonexistent.pem"), "\(error)")
        }
    }

    static func hs256(withSecret secret: String) -> String {
        let input = Base64URL.encode(Array(#"{"alg":"HS256"}"#.utf8)) + "." + Base64URL.encode(Array("{}".utf8))
        let mac = HMAC<SHA256>.authenticationCode(for: Array(input.utf8), using: SymmetricKey(data: Array(secret.utf8)))
        return input + "." + Base64URL.encode(Array(mac))
    }

    /// Opaque tokens through an RFC 7662 endpoint on 127.0.0.1: client credentials sent, `active`
    /// and scopes honoured, answers reused, and an endpoint that is down answers 503.
    func testIntrospection() async throws {
        setenv("INTROSPECTION_TEST_SECRET", "s3cret", 1)
        let now = Int(Date().timeIntervalSince1970)
        let idp = try await ScriptedOrigin { request in
            let body: String
            switch request.body {
            case let form where form.hasPrefix("token=good&"):
                body = #"{"active":true,"sub":"svc","scope":"orders:read","exp":\#(now + 60)}"#
            case let form where form.hasPrefix("token=readonly&"):
                body = #"{"active":true,"sub":"svc","scope":"other"}"#
            case let form where form.hasPrefix("token=garbage&"):
                body = "not json"
            default:
                body = #"{"active":false}"#
            }
            return .init(headers: [("content-type", "application/json")], body: body)
        }
        let endpoint = IntrospectionConfig(
            name: "idp", url: "http://127.0.0.1:\(idp.port)/introspect", clientID: "gateway",
            clientSecretEnvironmentVariable: "INTROSPECTION_TEST_SECRET", cacheFor: .seconds(60))
        let (gateway, origin) = try await start(
            auth: AuthConfig(introspection: [endpoint]),
            routeAuth: RouteAuthConfig(methods: [.introspection("idp")], scopes: ["orders:read"]),
            fromClaims: [HeaderField(name: "sub", value: "X-Subject")])
        let client = try await TestClient.connect(port: gateway.port, group: group)
        func get(_ token: String) async throws -> TestResponse {
            try await client.request(.GET, "/", headers: [("host", "t"), ("authorization", "Bearer " + token)])
        }
        let first = try await get("good")
        XCTAssertEqual(first.status, .ok)
        let second = try await get("good")
        XCTAssertEqual(second.status, .ok)
        XCTAssertEqual(idp.requests.count, 1, "the answer is reused")
        let asked = try XCTUnwrap(idp.requests.first)
        XCTAssertEqual(asked.method, .POST)
        XCTAssertEqual(asked.headers["authorization"], ["Basic " + Data("gateway:s3cret".utf8).base64EncodedString()])
        XCTAssertEqual(origin.requests.last?.headers["x-subject"], ["svc"])

        let revoked = try await get("revoked")
        XCTAssertEqual(revoked.status, .unauthorized)
        XCTAssertTrue(revoked.bodyText.contains("inactive_token"), revoked.bodyText)
        let readOnly = try await get("readonly")
        XCTAssertEqual(readOnly.status, .forbidden)
        let garbage = try await get("garbage")
        XCTAssertEqual(garbage.status, .serviceUnavailable)

        await idp.stop()
        let unreachable = try await get("never-seen")
        XCTAssertEqual(unreachable.status, .serviceUnavailable)
        XCTAssertTrue(unreachable.bodyText.contains("introspection_unavailable"))
        let cached = try await get("good")
        XCTAssertEqual(cached.status, .ok, "a remembered answer outlives the endpoint for cache_for")
        await client.close()
        await gateway.stop()
        await origin.stop()
    }

    /// `any_of`: an API key in a query parameter or a token in a cookie; with neither, 401.
    func testAnyOfWithQueryAndCookieCredentials() async throws {
        setenv("AUTH_TEST_SECRET", Self.secret, 1)
        let provider = JWTProviderConfig(
            name: "cookie", algorithms: ["HS256"], secretEnvironmentVariable: "AUTH_TEST_SECRET",
            token: .cookie("session"))
        let keys = APIKeySetConfig(
            name: "q", source: .query("api_key"),
            keys: [.init(consumer: "acme", sha256: Array(SHA256.hash(data: Array("k e y".utf8))))])
        let (gateway, origin) = try await start(
            auth: AuthConfig(jwt: [provider], apiKeys: [keys]),
            routeAuth: RouteAuthConfig(methods: [.jwt("cookie"), .apiKey("q")]))
        let client = try await TestClient.connect(port: gateway.port, group: group)
        let byQuery = try await client.request(.GET, "/x?a=1&api_key=k+e%20y", headers: [("host", "t")])
        XCTAssertEqual(byQuery.status, .ok, "percent- and plus-decoded")
        let token = try await hmacToken(#"{"sub":"c"}"#)
        let byCookie = try await client.request(
            .GET, "/x", headers: [("host", "t"), ("cookie", "theme=dark; session=\(token)")])
        XCTAssertEqual(byCookie.status, .ok)
        let wrongKey = try await client.request(.GET, "/x?api_key=nope", headers: [("host", "t")])
        XCTAssertEqual(wrongKey.status, .unauthorized)
        XCTAssertTrue(wrongKey.bodyText.contains("invalid_api_key"))
        let neither = try await client.request(.GET, "/x", headers: [("host", "t")])
        XCTAssertEqual(neither.status, .unauthorized)
        XCTAssertEqual(neither.header("www-authenticate"), #"Bearer realm="gateway""#)
        await client.close()
        await gateway.stop()
        await origin.stop()
    }

    /// A reload switches a route's auth at once, and one whose key cannot be read is rejected,
    /// leaving the running auth as it was.
    func testReloadSwitchesAuthAndAnUnreadableKeyRejectsIt() async throws {
        setenv("AUTH_TEST_SECRET", Self.secret, 1)
        let provider = JWTProviderConfig(
            name: "main", algorithms: ["HS256"], secretEnvironmentVariable: "AUTH_TEST_SECRET")
        let keys = APIKeySetConfig(
            name: "k", keys: [.init(consumer: "acme", sha256: Array(SHA256.hash(data: Array("key".utf8))))])
        let (gateway, origin) = try await start(
            auth: AuthConfig(jwt: [provider], apiKeys: [keys]), routeAuth: RouteAuthConfig(methods: [.apiKey("k")]))
        let client = try await TestClient.connect(port: gateway.port, group: group)
        let token = try await hmacToken(#"{"sub":"a"}"#)
        func status(_ headers: [(String, String)]) async throws -> HTTPResponseStatus {
            try await client.request(.GET, "/", headers: [("host", "t")] + headers).status
        }
        let byKey = try await status([("x-api-key", "key")])
        XCTAssertEqual(byKey, .ok)
        let byToken = try await status([("authorization", "Bearer " + token)])
        XCTAssertEqual(byToken, .unauthorized)

        var configuration = gateway.server.snapshot.configuration
        configuration.routes[0].auth = RouteAuthConfig(methods: [.jwt("main")])
        try await gateway.server.reload(to: Snapshot(configuration: configuration, generation: 2))
        let afterReloadToken = try await status([("authorization", "Bearer " + token)])
        XCTAssertEqual(afterReloadToken, .ok)
        let afterReloadKey = try await status([("x-api-key", "key")])
        XCTAssertEqual(afterReloadKey, .unauthorized)

        var broken = configuration
        broken.auth.jwt[0].publicKeyFiles = [.init(path: "/nonexistent/jwt.pem")]
        broken.auth.jwt[0].secretEnvironmentVariable = nil
        broken.auth.jwt[0].algorithms = ["RS256"]
        do {
            try await gateway.server.reload(to: Snapshot(configuration: broken, generation: 3))
            XCTFail("a key file that cannot be read must reject the reload")
        } catch {
            XCTAssertTrue("\(error)".contains("/nonexistent/jwt.pem"), "\(error)")
        }
        let stillHS256 = try await status([("authorization", "Bearer " + token)])
        XCTAssertEqual(stillHS256, .ok, "the running auth is unchanged")
        await client.close()
        await gateway.stop()
        await origin.stop()
    }

    /// A flood of tokens naming random kids costs the identity provider at most one fetch per
    /// `min_refresh_interval`, not one per request.
    func testUnknownKidFloodIsRateLimited() async throws {
        let key = ES256PrivateKey()
        let idp = try await ScriptedOrigin { _ in
            .init(headers: [("content-type", "application/json")], body: #"{"keys":[]}"#)
        }
        let provider = JWTProviderConfig(
            name: "idp", jwksURL: "http://127.0.0.1:\(idp.port)/jwks.json", refresh: .seconds(3600),
            minimumRefreshInterval: .seconds(3600), algorithms: ["ES256"])
        let (gateway, origin) = try await start(
            auth: AuthConfig(jwt: [provider]), routeAuth: RouteAuthConfig(methods: [.jwt("idp")]))
        XCTAssertEqual(idp.requests.count, 1, "fetched once at start")
        let client = try await TestClient.connect(port: gateway.port, group: group)
        let collection = JWTKeyCollection()
        await collection.add(ecdsa: key, kid: "k")
        let signer = try await collection.getKey(for: "k")
        for index in 0..<50 {
            let input =
                Base64URL.encode(Array(#"{"alg":"ES256","kid":"random-\#(index)"}"#.utf8)) + "."
                + Base64URL.encode(Array("{}".utf8))
            let token = input + "." + Base64URL.encode(try signer.sign(Array(input.utf8)))
            let response = try await client.request(
                .GET, "/", headers: [("host", "t"), ("authorization", "Bearer " + token)])
            XCTAssertEqual(response.status, .unauthorized)
        }
        XCTAssertLessThanOrEqual(idp.requests.count, 2, "at most one refetch within the interval")
        let metrics = await gateway.server.metricsText()
        XCTAssertTrue(metrics.contains(#"reason="unknown_key"} 50"#), metrics)
        await client.close()
        await gateway.stop()
        await origin.stop()
        await idp.stop()
    }
}
