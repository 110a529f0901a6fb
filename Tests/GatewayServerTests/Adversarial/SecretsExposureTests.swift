import Crypto
import Foundation
import NIOCore
import NIOPosix
import TestSupport
import XCTest

@testable import GatewayServer

/// No secret reaches a log, a config dump, a metric or a response: the real binary is given every
/// kind of secret it knows (JWT HMAC secret, admin token, Redis password, introspection client
/// secret, API keys, bearer tokens in headers and query strings, cookies), driven through the paths
/// where they are used and where they fail, and everything it wrote is searched for each of them.
final class SecretsExposureTests: XCTestCase {
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    override func tearDown() async throws {
        try await group.shutdownGracefully()
    }

    private static func base64URL(_ bytes: some Sequence<UInt8>) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    private static func token(secret: String, claims: String) -> String {
        let input = base64URL(Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8)) + "." + base64URL(Array(claims.utf8))
        let mac = HMAC<SHA256>.authenticationCode(for: Array(input.utf8), using: SymmetricKey(data: Array(secret.utf8)))
        return input + "." + base64URL(mac)
    }

    func testNoSecretAppearsInLogsDumpsMetricsOrResponses() async throws {
        guard GatewayProcess.isBuilt else { throw XCTSkip("gateway binary not built") }
        let marker = UUID().uuidString.prefix(8)
        let jwtSecret = "jwt-secret-\(marker)-0123456789abcdef0123456789"
        let adminToken = "admin-token-\(marker)-0123456789"
        let redisPassword = "redis-password-\(marker)"
        let introspectionSecret = "introspection-secret-\(marker)"
        let apiKey = "api-key-\(marker)"
        let opaqueToken = "opaque-token-\(marker)"
        let cookieValue = "cookie-value-\(marker)"
        let basicCredentials = Data("user:basic-password-\(marker)".utf8).base64EncodedString()
        let now = Int(Date().timeIntervalSince1970)
        let goodToken = Self.token(secret: jwtSecret, claims: #"{"sub":"alice","exp":\#(now + 600)}"#)
        let forgedToken = Self.token(secret: "not-\(jwtSecret)", claims: #"{"sub":"mallory","exp":\#(now + 600)}"#)
        let apiKeyHash = SHA256.hash(data: Array(apiKey.utf8)).map { String(format: "%02x", $0) }.joined()

        // Redis wants another password than the gateway has: every command fails with AUTH errors.
        let redis = try RedisServerProcess(extraArguments: ["--requirepass", "the-right-one-\(marker)"])
        try await redis.start()
        defer { redis.stop() }
        let upstream = try await TestUpstream(name: "app")
        let adminPort = try RedisServerProcess.freePort()
        let closedPort = try RedisServerProcess.freePort()
        let accessLogPath = NSTemporaryDirectory() + "secrets-access-\(marker).log"
        defer { try? FileManager.default.removeItem(atPath: accessLogPath) }
        let gateway = try await GatewayProcess.start(
            """
            listeners: [{ name: public, address: 127.0.0.1:0 }]
            admin: { address: 127.0.0.1:\(adminPort), token_env: SECRET_TEST_ADMIN_TOKEN }
            redis: { addresses: [127.0.0.1:\(redis.port)], password_env: SECRET_TEST_REDIS_PASSWORD }
            upstreams:
              app: { endpoints: [{ address: 127.0.0.1:\(upstream.port) }] }
              down: { endpoints: [{ address: 127.0.0.1:\(closedPort) }] }
            auth:
              jwt:
                header: { secret_env: SECRET_TEST_JWT, algorithms: [HS256] }
                query: { secret_env: SECRET_TEST_JWT, algorithms: [HS256], token: { query: access_token } }
              introspection:
                idp: { url: "http://127.0.0.1:\(closedPort)/introspect", client_id: gw, client_secret_env: SECRET_TEST_INTROSPECTION }
              api_keys:
                partners: { query: api_key, keys: [{ consumer: acme, sha256: \(apiKeyHash) }] }
            rate_limits:
              shared: { algorithm: token_bucket, rate: 1000/s, burst: 100, key: [client_ip], on_redis_error: fail_open }
            routes:
              - { name: jwt, match: { path_prefix: /jwt/ }, upstream: app, auth: { jwt: header } }
              - { name: query, match: { path_prefix: /query/ }, upstream: app, auth: { jwt: query } }
              - { name: keys, match: { path_prefix: /keys/ }, upstream: app, auth: { api_key: partners } }
              - { name: opaque, match: { path_prefix: /opaque/ }, upstream: app, auth: { introspection: idp } }
              - { name: limited, match: { path_prefix: /limited/ }, upstream: app, rate_limits: [shared] }
              - { name: down, match: { path_prefix: /down/ }, upstream: down }
            logging: { level: debug, access_log: { path: \(accessLogPath) } }
            """,
            environment: [
                "SECRET_TEST_ADMIN_TOKEN": adminToken, "SECRET_TEST_REDIS_PASSWORD": redisPassword,
                "SECRET_TEST_JWT": jwtSecret, "SECRET_TEST_INTROSPECTION": introspectionSecret,
            ])
        var exposed: [(where: String, text: String)] = []
        do {
            let client = try await TestClient.connect(port: gateway.port, group: group)
            let everywhere: [(String, String)] = [
                ("host", "a"), ("cookie", "session=\(cookieValue)"), ("x-api-key", apiKey),
            ]
            let requests: [(String, [(String, String)], UInt)] = [
                ("/jwt/x", [("authorization", "Bearer \(goodToken)")], 200),
                ("/jwt/x", [("authorization", "Bearer \(forgedToken)")], 401),
                ("/jwt/x", [("authorization", "Basic \(basicCredentials)")], 401),
                ("/query/x?a=1&access_token=\(goodToken)&b=2", [], 200),
                ("/query/x?access_token=\(forgedToken)", [], 401),
                // The name percent-encoded: still the credential, still redacted.
                ("/query/y?access%5Ftoken=\(goodToken)", [], 200),
                ("/keys/x?api_key=\(apiKey)", [], 200),
                ("/keys/x?api_key=wrong-\(apiKey)", [], 401),
                ("/opaque/x", [("authorization", "Bearer \(opaqueToken)")], 503),
                ("/limited/x", [("authorization", "Bearer \(goodToken)")], 200),
                ("/down/x", [("authorization", "Bearer \(goodToken)")], 502),
            ]
            for (path, headers, status) in requests {
                let response = try await client.request(.GET, path, headers: everywhere + headers)
                XCTAssertEqual(response.status.code, status, "\(path): \(response.bodyText)")
                // A 200 is the upstream's echo of what it was sent (credentials are forwarded by
                // default); the gateway's own answers are the others.
                if status != 200 {
                    exposed.append(("response to \(path)", "\(response.head.headers) \(response.bodyText)"))
                }
            }
            try await client.close()

            let admin = try await TestClient.connect(port: adminPort, group: group)
            let wrong = try await admin.request(
                .GET, "/admin/config", headers: [("host", "admin"), ("authorization", "Bearer wrong-\(adminToken)")])
            XCTAssertEqual(wrong.status, .unauthorized)
            exposed.append(("admin 401", "\(wrong.head.headers) \(wrong.bodyText)"))
            for path in ["/admin/config", "/admin/stats", "/admin/upstreams", "/metrics", "/admin/"] {
                let response = try await admin.request(
                    .GET, path, headers: [("host", "admin"), ("authorization", "Bearer \(adminToken)")])
                XCTAssertEqual(response.status, .ok, path)
                exposed.append((path, "\(response.head.headers) \(response.bodyText)"))
            }
            // A reload that fails, and one that works: both are logged with their problems.
            let configPath = gateway.configPath
            let good = try String(contentsOfFile: configPath, encoding: .utf8)
            try (good + "\nbogus_key: [\n").write(toFile: configPath, atomically: true, encoding: .utf8)
            let failed = try await admin.request(
                .POST, "/admin/reload", headers: [("host", "admin"), ("authorization", "Bearer \(adminToken)")])
            XCTAssertEqual(failed.status.code, 422)
            exposed.append(("failed reload", failed.bodyText))
            try good.write(toFile: configPath, atomically: true, encoding: .utf8)
            let applied = try await admin.request(
                .POST, "/admin/reload", headers: [("host", "admin"), ("authorization", "Bearer \(adminToken)")])
            XCTAssertEqual(applied.status, .ok, applied.bodyText)
            try await admin.close()
            // The Redis failure must have been logged (the path where its password could show).
            _ = try await gateway.log.firstLine(containing: "redis")
        } catch {
            gateway.kill()
            await upstream.stop()
            throw error
        }
        gateway.terminate()
        await upstream.stop()
        _ = try await gateway.log.firstLine(containing: "gateway stopped")

        exposed.append(("gateway log", gateway.log.text))
        let accessLog = try String(contentsOfFile: accessLogPath, encoding: .utf8)
        exposed.append(("access log", accessLog))
        // The lines are there, the credentials in their query strings are not.
        XCTAssertTrue(accessLog.contains("/query/x?a=1&access_token=[redacted]&b=2"), accessLog)
        XCTAssertTrue(accessLog.contains("/keys/x?api_key=[redacted]"), accessLog)
        XCTAssertTrue(accessLog.contains("/query/y?access%5Ftoken=[redacted]"), accessLog)

        let secrets = [
            "JWT secret": jwtSecret, "admin token": adminToken, "Redis password": redisPassword,
            "introspection secret": introspectionSecret, "API key": apiKey, "opaque token": opaqueToken,
            "cookie": cookieValue, "basic credentials": basicCredentials, "JWT": goodToken,
            "JWT signature": String(goodToken.split(separator: ".").last ?? ""),
            "forged JWT": forgedToken,
        ]
        for (name, secret) in secrets {
            for (place, text) in exposed where text.contains(secret) {
                XCTFail("the \(name) appears in the \(place)")
            }
        }
    }
}
