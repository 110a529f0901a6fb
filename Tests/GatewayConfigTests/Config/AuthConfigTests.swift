import XCTest

@testable import GatewayConfig

/// `auth` providers and a route's `auth`, the keys issue 6 brought in.
final class AuthConfigTests: XCTestCase {
    func testTheReferenceShapeIsRead() throws {
        let config = try XCTUnwrap(
            parseValid(
                minimalListeners + minimalUpstream + """

                    auth:
                      jwt:
                        main:
                          jwks_url: http://127.0.0.1:9400/.well-known/jwks.json
                          refresh: 5m
                          issuer: https://id.example.test
                          audience: api
                          algorithms: [RS256, ES256]
                          leeway: 30s
                        internal:
                          secret_env: INTERNAL_JWT_SECRET
                          algorithms: [HS256]
                          token: { cookie: session }
                      introspection:
                        idp:
                          url: http://127.0.0.1:9401/introspect
                          client_id: gateway
                          client_secret_env: INTROSPECTION_SECRET
                          cache_for: 60s
                      api_keys:
                        partners:
                          header: X-Api-Key
                          keys:
                            - { consumer: acme, sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 }
                    rate_limits:
                      per-user: { rate: 100/s, key: [user] }
                    routes:
                      - name: users-api
                        match: { path_prefix: /v1/users }
                        upstream: app
                        auth: { jwt: main, scopes: [users:read], forward_credentials: false }
                        rate_limits: [per-user]
                        headers:
                          request: { from_claims: { sub: X-User-Id } }
                      - name: either
                        upstream: app
                        auth: { any_of: [{ jwt: internal }, { api_key: partners }, { introspection: idp }] }
                      - name: open
                        upstream: app
                        auth: none
                    """))
        let main = try XCTUnwrap(config.auth.jwt.first { $0.name == "main" })
        XCTAssertEqual(main.jwksURL, "http://127.0.0.1:9400/.well-known/jwks.json")
        XCTAssertEqual(main.audiences, ["api"])
        XCTAssertEqual(main.algorithms, ["RS256", "ES256"])
        XCTAssertEqual(main.leeway, .seconds(30))
        XCTAssertEqual(main.token, .bearer)
        XCTAssertEqual(config.auth.jwt.first { $0.name == "internal" }?.token, .cookie("session"))
        XCTAssertEqual(config.auth.introspection.first?.clientSecretEnvironmentVariable, "INTROSPECTION_SECRET")
        XCTAssertEqual(config.auth.apiKeys.first?.source, .header("x-api-key"))
        XCTAssertEqual(config.auth.apiKeys.first?.keys.first?.sha256.first, 0x9f)
        XCTAssertEqual(
            config.routes[0].auth,
            RouteAuthConfig(methods: [.jwt("main")], scopes: ["users:read"], forwardCredentials: false))
        XCTAssertEqual(config.routes[0].headers.request.fromClaims, [HeaderField(name: "sub", value: "X-User-Id")])
        XCTAssertEqual(config.routes[1].auth?.methods, [.jwt("internal"), .apiKey("partners"), .introspection("idp")])
        XCTAssertNil(config.routes[2].auth)
        XCTAssertEqual(config.rateLimits.first?.key, [.user])
    }

    func testProblems() {
        XCTAssertEqual(
            problems(
                minimalListeners + minimalUpstream + """

                    auth:
                      jwt:
                        a: { jwks_url: "ftp://x", algorithms: [RS256, none] }
                        b: { issuer: x, algorithms: [HS256] }
                        c: { secret_env: S, algorithms: [HS256, RS256] }
                        d: { jwks_url: "http://x/jwks" }
                      api_keys:
                        k: { header: X-Key, query: key, keys: [{ consumer: c, sha256: abc }] }
                    rate_limits:
                      per-user: { rate: 1/s, key: [user] }
                    routes:
                      - name: r
                        upstream: app
                        auth: { jwt: nope }
                      - name: s
                        upstream: app
                        auth: { api_key: k, scopes: [x] }
                      - name: t
                        upstream: app
                        rate_limits: [per-user]
                    """),
            [
                "gw.yaml:8: JWT provider 'a' needs keys: 'jwks_url', 'secret_env' or 'public_keys'",
                "gw.yaml:8: 'jwks_url' must be an http:// or https:// URL, got 'ftp://x'",
                "gw.yaml:8: unsupported JWT algorithm 'none' in JWT provider 'a' (supported: HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA; 'none' never is)",
                "gw.yaml:9: JWT provider 'b' needs keys: 'jwks_url', 'secret_env' or 'public_keys'",
                "gw.yaml:10: 'secret_env' is an HMAC secret: JWT provider 'c' then takes HS256, HS384 or HS512 only",
                "gw.yaml:11: JWT provider 'd' needs 'algorithms': the JWS algorithms its tokens may use, e.g. [RS256]",
                "gw.yaml:13: API key set 'k' takes the key from 'header' or 'query', not both",
                "gw.yaml:13: 'sha256' must be 64 hex digits (the SHA-256 of the key, never the key itself)",
                "gw.yaml:19: route 'r' names unknown jwt 'nope' (declare it under auth.jwt)",
                "gw.yaml:22: API keys carry no scopes: 'scopes' needs jwt or introspection in route 's'",
                "gw.yaml:25: route 't' applies 'per-user', which counts by user or api_key: the route needs auth",
            ])
    }
}
