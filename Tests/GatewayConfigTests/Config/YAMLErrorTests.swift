import XCTest

@testable import GatewayConfig

/// Problems at the YAML level: syntax errors and duplicate keys, which Yams itself refuses.
final class YAMLErrorTests: XCTestCase {
    func testSyntaxErrorIsOneDiagnosticAtYamsLine() {
        XCTAssertEqual(
            problems(
                """
                listeners:
                  - name: main
                    address: 127.0.0.1:8080
                   bad: [
                """),
            [
                "gw.yaml:4: invalid YAML: did not find expected '-' indicator (while parsing a block collection at line 2)"
            ])
    }

    func testTabIndentationIsASyntaxError() {
        let result = problems("listeners:\n\t- name: main\n")
        XCTAssertEqual(result.count, 1)
        XCTAssertTrue(result.first?.hasPrefix("gw.yaml:2: invalid YAML:") ?? false, "\(result)")
    }

    func testDuplicateKeysAreReportedAtTheSecondOccurrenceWithOtherProblems() {
        XCTAssertEqual(
            problems(
                """
                listeners:
                  - name: main
                    address: 127.0.0.1:8080
                    name: other
                upstreams:
                  users:
                    endpoints: [{ address: 127.0.0.1:9001, address: 127.0.0.1:9002 }]
                    balance: random
                  users:
                    endpoints: [{ address: 127.0.0.1:9003 }]
                logging: { level: info }
                logging: { level: debug }
                """),
            [
                "gw.yaml:4: duplicate key 'name' (first at line 2)",
                "gw.yaml:7: duplicate key 'address' (first at line 7)",
                "gw.yaml:8: expected one of round_robin, least_request, consistent_hash, got 'random'",
                "gw.yaml:9: duplicate key 'users' (first at line 6)",
                "gw.yaml:12: duplicate key 'logging' (first at line 11)",
            ])
    }

    func testMultipleDocumentsAreRefused() {
        XCTAssertEqual(
            problems(minimalListeners + "\n---\n" + minimalListeners).first?.hasPrefix("gw.yaml:"), true)
    }

    func testTopLevelMustBeAMapping() {
        XCTAssertEqual(problems("- a\n- b"), ["gw.yaml:1: expected a mapping for the configuration, got a list"])
    }
}
