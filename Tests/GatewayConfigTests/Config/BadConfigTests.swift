import XCTest

@testable import GatewayConfig

/// Invalid files: each problem is reported as `FILE:LINE: message` at the offending key or value.
final class BadConfigTests: XCTestCase {
    func testUnknownKeysAreReportedWithSuggestions() {
        XCTAssertEqual(
            problems(
                minimalListeners + """

                    upstreams:
                      users:
                        endpoints: [{ address: 127.0.0.1:9001 }]
                        balanse: round_robin
                        foo: 1
                        tsl: {}
                    listners: []
                    """),
            [
                "gw.yaml:7: unknown key 'balanse' in upstream 'users'; did you mean 'balance'?",
                "gw.yaml:8: unknown key 'foo' in upstream 'users'",
                "gw.yaml:9: unknown key 'tsl' in upstream 'users'; did you mean 'tls'?",
                "gw.yaml:10: unknown key 'listners' at the top level; did you mean 'listeners'?",
            ])
    }

    func testWrongTypes() {
        XCTAssertEqual(
            problems(
                """
                listeners:
                  - name: main
                    address: 127.0.0.1:8080
                    max_connections: lots
                    protocols: http1
                    timeouts: 5s
                  - name: [a]
                    address: nowhere
                logging: { level: loud }
                routes: {}
                """),
            [
                "gw.yaml:4: expected an integer, got 'lots'",
                "gw.yaml:5: expected a list for 'protocols', got 'http1'",
                "gw.yaml:6: expected a mapping for 'timeouts', got '5s'",
                "gw.yaml:7: expected a string, got a list",
                "gw.yaml:8: expected host:port like 127.0.0.1:8080 or [::1]:8080, got 'nowhere'",
                "gw.yaml:9: expected one of trace, debug, info, notice, warning, error, critical, got 'loud'",
                "gw.yaml:10: expected a list for 'routes', got a mapping",
            ])
    }

    func testBadDurationsAndSizes() {
        XCTAssertEqual(
            problems(
                """
                listeners:
                  - name: main
                    address: 127.0.0.1:8080
                    timeouts:
                      header_read: fast
                      body_read: 30
                      idle: 0s
                    limits:
                      max_header_bytes: 512
                      max_headers: 0
                      max_body: 10MB2
                  - name: other
                    address: 127.0.0.1:8081
                    limits: { max_body: 99999999999GiB, max_header_bytes: 2MiB }
                """),
            [
                "gw.yaml:5: expected a duration like 250ms or 5s, got 'fast'",
                "gw.yaml:6: expected a duration like 250ms or 5s, got '30' (needs a unit: ms, s, m, h, d)",
                "gw.yaml:7: 'idle' must be greater than 0",
                "gw.yaml:9: 'max_header_bytes' must be at least 1KiB, got 512 bytes",
                "gw.yaml:10: 'max_headers' must be at least 1, got 0",
                "gw.yaml:11: expected a size like 64KiB or 10MiB, got '10MB2'",
                "gw.yaml:14: size '99999999999GiB' is too large",
                "gw.yaml:14: 'max_header_bytes' must be at most 1MiB, got 2097152 bytes",
            ])
    }

    func testRouteNamingAnUnknownUpstream() {
        XCTAssertEqual(
            problems(
                minimalListeners + """

                    upstreams:
                      users: { endpoints: [{ address: 127.0.0.1:9001 }] }
                    routes:
                      - name: a
                        upstream: usres
                      - name: b
                        upstream: billing
                    """),
            [
                "gw.yaml:8: route 'a' names unknown upstream 'usres'; did you mean 'users'?",
                "gw.yaml:10: route 'b' names unknown upstream 'billing'",
            ])
    }

    func testDuplicateNames() {
        XCTAssertEqual(
            problems(
                """
                listeners:
                  - { name: main, address: 127.0.0.1:8080 }
                  - { name: main, address: 127.0.0.1:8081 }
                upstreams:
                  users: { endpoints: [{ address: 127.0.0.1:9001 }, { address: 127.0.0.1:9001 }] }
                routes:
                  - name: a
                    upstream: users
                  - name: a
                    upstream: users
                """),
            [
                "gw.yaml:3: duplicate listener name 'main' (first at line 2)",
                "gw.yaml:5: duplicate endpoint 127.0.0.1:9001 in upstream 'users' (first at line 5)",
                "gw.yaml:9: duplicate route name 'a' (first at line 7)",
            ])
    }

    func testPortClash() {
        XCTAssertEqual(
            problems(
                """
                listeners:
                  - name: any
                    address: 0.0.0.0:8080
                  - name: local
                    address: 127.0.0.1:8080
                  - name: again
                    address: 0.0.0.0:8080
                  - name: v6
                    address: "[::]:9000"
                  - name: v6-local
                    address: "[::1]:9000"
                """),
            [
                "gw.yaml:5: port clash: listener 'local' at 127.0.0.1:8080 overlaps listener 'any' at 0.0.0.0:8080 (line 3)",
                "gw.yaml:7: port clash: listener 'again' at 0.0.0.0:8080 overlaps listener 'any' at 0.0.0.0:8080 (line 3)",
                "gw.yaml:11: port clash: listener 'v6-local' at [::1]:9000 overlaps listener 'v6' at [::]:9000 (line 9)",
            ])
    }

    func testUnsupportedFeaturesSayNotYet() {
        XCTAssertEqual(
            problems(
                """
                listeners:
                  - name: main
                    address: 127.0.0.1:8080
                    protocols: [http1, h2c]
                    tls: { min_version: "1.2" }
                admin:
                  address: 127.0.0.1:9901
                upstreams:
                  users:
                    endpoints: [{ address: 127.0.0.1:9001 }]
                    health_check: { path: health }
                routes:
                  - name: a
                    upstream: users
                    auth: { jwt: main }
                    headers:
                      request: { from_claims: { sub: X-User-Id } }
                  - name: director
                    upstream_by_region: { us-east: users }
                """),
            [
                "gw.yaml:5: missing required key 'certificates' in tls of listener 'main'",

                "gw.yaml:11: health_check path must start with '/' and contain no spaces or control characters",
                "gw.yaml:15: route 'a' names unknown jwt 'main' (declare it under auth.jwt)",
                "gw.yaml:17: 'from_claims' in route 'a' needs the route's auth (jwt or introspection)",
                "gw.yaml:19: 'upstream_by_region' in route 'director' needs a top-level 'geo' section to know regions",
            ])
    }

    func testMissingRequiredKeys() {
        XCTAssertEqual(
            problems(
                """
                node: { region: eu }
                upstreams:
                  users: { balance: round_robin }
                routes:
                  - match: { path: / }
                """),
            [
                "gw.yaml:1: missing required key 'listeners' at the top level",
                "gw.yaml:3: missing required key 'endpoints' in upstream 'users'",
                "gw.yaml:5: missing required key 'name' in route #1",
                "gw.yaml:5: route #1 needs 'upstream' (or 'upstream_by_region' to pick one by the client's region)",
            ])
        XCTAssertEqual(
            problems(
                """
                listeners:
                  - name: main
                  - address: 127.0.0.1:8080
                  - {}
                """),
            [
                "gw.yaml:2: missing required key 'address' in listener 'main'",
                "gw.yaml:3: missing required key 'name' in listener #2",
                "gw.yaml:4: missing required key 'name' in listener #3",
                "gw.yaml:4: missing required key 'address' in listener #3",
            ])
        XCTAssertEqual(problems("listeners: []"), ["gw.yaml:1: 'listeners' must not be empty"])
        XCTAssertEqual(problems(""), ["gw.yaml: the file is empty; a config needs 'listeners'"])
    }

    func testConsistentHashNeedsHashOn() {
        XCTAssertEqual(
            problems(
                minimalListeners + """

                    upstreams:
                      a:
                        endpoints: [{ address: 127.0.0.1:9001 }]
                        balance: consistent_hash
                      b:
                        endpoints: [{ address: 127.0.0.1:9002 }]
                        hash_on: client_ip
                      c:
                        endpoints: [{ address: 127.0.0.1:9003 }]
                        balance: consistent_hash
                        hash_on: { header: X-A, cookie: b }
                      d:
                        endpoints: [{ address: 127.0.0.1:9004 }]
                        balance: consistent_hash
                        hash_on: server_ip
                    """),
            [
                "gw.yaml:7: balance: consistent_hash needs 'hash_on' in upstream 'a'",
                "gw.yaml:10: 'hash_on' only applies to balance: consistent_hash",
                "gw.yaml:14: 'hash_on' takes one of 'header' or 'cookie', not both",
                "gw.yaml:18: expected client_ip, {header: NAME} or {cookie: NAME}, got 'server_ip'",
            ])
    }

    func testSeveralProblemsAreAllReportedInLineOrder() {
        XCTAssertEqual(
            problems(
                """
                runtime:
                  event_loops: 1000
                listeners:
                  - name: main
                    address: 127.0.0.1:99999
                    timeouts: { idle: soon }
                upstreams:
                  users:
                    endpoints: [{ address: 127.0.0.1:9001, weight: 0 }]
                    retries: { attempts: 20 }
                    pool: { max_per_endpoint: 10, idle_timout: 5s }
                routes:
                  - name: a
                    upstream: nobody
                    match: { path: v1 }
                  - name: a
                    upstream: users
                trusted_proxies: [10.0.0.1/8, banana]
                """),
            [
                "gw.yaml:2: 'event_loops' must be between 0 and 256, got 1000",
                "gw.yaml:5: port must be between 0 and 65535, got 99999",
                "gw.yaml:6: expected a duration like 250ms or 5s, got 'soon'",
                "gw.yaml:9: 'weight' must be between 1 and 1000, got 0",
                "gw.yaml:10: 'attempts' must be between 0 and 10, got 20",
                "gw.yaml:11: unknown key 'idle_timout' in pool of upstream 'users'; did you mean 'idle_timeout'?",
                "gw.yaml:14: route 'a' names unknown upstream 'nobody'",
                "gw.yaml:15: 'path' must start with '/', got 'v1'",
                "gw.yaml:16: duplicate route name 'a' (first at line 13)",
                "gw.yaml:18: '10.0.0.1/8' has bits set after the prefix length; did you mean 10.0.0.0/8?",
                "gw.yaml:18: expected a CIDR like 10.0.0.0/8 or ::1/128, got 'banana'",
            ])
    }

    func testErrorsDescriptionIsOneProblemPerLine() {
        guard case .failure(let errors) = ConfigLoader.parse(yaml: "listeners: 1\nfoo: 2", fileName: "x.yaml") else {
            return XCTFail("expected a failure")
        }
        XCTAssertEqual(
            errors.description,
            "x.yaml:1: expected a list for 'listeners', got '1'\nx.yaml:2: unknown key 'foo' at the top level")
    }
}
