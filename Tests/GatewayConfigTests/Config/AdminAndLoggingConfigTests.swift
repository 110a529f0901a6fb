import XCTest

@testable import GatewayConfig

/// `admin` and `logging.access_log`, the keys issue 3 brought in.
final class AdminAndLoggingConfigTests: XCTestCase {
    func testAdminWithTokenAndAccessLogAreRead() throws {
        let config = try XCTUnwrap(
            parseValid(
                minimalListeners + """

                    admin:
                      address: 0.0.0.0:9901
                      token_env: GATEWAY_ADMIN_TOKEN
                    logging:
                      level: warning
                      access_log: { path: /var/log/gateway/access.log, format: json, buffer: 1MiB }
                    """))
        XCTAssertEqual(
            config.admin,
            AdminConfig(address: HostPort(host: "0.0.0.0", port: 9901), tokenEnvironmentVariable: "GATEWAY_ADMIN_TOKEN")
        )
        XCTAssertEqual(
            config.logging.accessLog,
            AccessLogConfig(destination: .file(path: "/var/log/gateway/access.log"), bufferBytes: 1 << 20))
        XCTAssertEqual(config.logging.level, .warning)
    }

    func testDefaultsAndStandardStreams() throws {
        let config = try XCTUnwrap(
            parseValid(minimalListeners + "\nadmin: {}\nlogging: { access_log: { path: stderr } }\n"))
        XCTAssertEqual(config.admin, AdminConfig(address: HostPort(host: "127.0.0.1", port: 9901)))
        XCTAssertEqual(config.logging.accessLog, AccessLogConfig(destination: .standardError, bufferBytes: 4 << 20))
        let none = try XCTUnwrap(parseValid(minimalListeners))
        XCTAssertNil(none.admin)
        XCTAssertNil(none.logging.accessLog)
        let stdout = try XCTUnwrap(parseValid(minimalListeners + "\nlogging: { access_log: {} }\n"))
        XCTAssertEqual(stdout.logging.accessLog?.destination, .standardOutput)
    }

    func testAdminOffLoopbackNeedsAToken() {
        XCTAssertEqual(
            problems(minimalListeners + "\nadmin:\n  address: 0.0.0.0:9901\n"),
            [
                "gw.yaml:5: admin address 0.0.0.0:9901 is not a loopback address: set 'token_env' so the admin API asks for a token"
            ])
        XCTAssertNotNil(parseValid(minimalListeners + "\nadmin:\n  address: 127.0.0.2:9901\n"))
        XCTAssertNotNil(parseValid(minimalListeners + "\nadmin:\n  address: \"[::1]:9901\"\n"))
        XCTAssertNotNil(parseValid(minimalListeners + "\nadmin:\n  address: localhost:9901\n"))
    }

    func testAdminProblems() {
        XCTAssertEqual(
            problems(
                minimalListeners + """

                    admin:
                      address: 127.0.0.1:8080
                      token_env: "not a name"
                      tokn_env: x
                    """),
            [
                "gw.yaml:5: port clash: admin at 127.0.0.1:8080 overlaps listener 'main' at 127.0.0.1:8080",
                "gw.yaml:6: 'token_env' must name an environment variable (letters, digits, _), got 'not a name'",
                "gw.yaml:7: unknown key 'tokn_env' in 'admin'; did you mean 'token_env'?",
            ])
    }

    func testAccessLogProblems() {
        XCTAssertEqual(
            problems(
                minimalListeners + """

                    logging:
                      access_log: { path: "", format: text, buffer: 1KiB, rotate: daily }
                    """),
            [
                "gw.yaml:5: 'path' must not be empty",
                "gw.yaml:5: expected one of json, got 'text'",
                "gw.yaml:5: 'buffer' must be at least 64KiB, got 1024 bytes",
                "gw.yaml:5: unknown key 'rotate' in 'access_log'",
            ])
    }
}
