import XCTest

@testable import GatewayConfig

/// Route rules beyond types: match syntax, rewrites that can apply, and header edits that keep
/// HTTP framing intact.
final class RouteValidationTests: XCTestCase {
    /// Listener and one upstream on lines 1-5; routes start on line 6.
    private func routes(_ body: String) -> String {
        minimalListeners + """

            upstreams:
              users: { endpoints: [{ address: 127.0.0.1:9001 }] }
            routes:

            """ + body
    }

    func testPathTemplates() {
        XCTAssertEqual(
            problems(
                routes(
                    """
                      - { name: a, upstream: users, match: { path: "/users/{id}x" } }
                      - { name: b, upstream: users, match: { path: "/users/{1d}" } }
                      - { name: c, upstream: users, match: { path: "/users/{id}/{id}" } }
                      - { name: d, upstream: users, match: { path: "/users?x=1" } }
                      - { name: e, upstream: users, match: { path_prefix: "/users/{id}" } }
                      - { name: f, upstream: users, match: { path: /a, path_prefix: /b } }
                    """)),
            [
                "gw.yaml:7: path parameter in '{id}x' must be a whole segment like /{id}",
                "gw.yaml:8: invalid path parameter name '1d': use letters, digits and '_'",
                "gw.yaml:9: path parameter 'id' appears twice",
                "gw.yaml:10: 'path' must not contain '?', '#' or spaces, got '/users?x=1'",
                "gw.yaml:11: 'path_prefix' cannot have parameters; use 'path' for /{name} segments",
                "gw.yaml:12: use either 'path' or 'path_prefix', not both",
            ])
    }

    func testHostsAndMethods() {
        XCTAssertEqual(
            problems(
                routes(
                    """
                      - name: a
                        upstream: users
                        match:
                          host: [api.example.test:443, "*.*.example.test", "api.*.test", "bad_host!", API.example.test, api.example.test]
                          methods: [GET, get, "B@D"]
                    """)),
            [
                "gw.yaml:10: invalid host 'api.example.test:443': a host pattern has no port",
                "gw.yaml:10: invalid host '*.*.example.test': expected '*.' followed by a domain name",
                "gw.yaml:10: invalid host 'api.*.test': a wildcard is only allowed as '*.suffix'",
                "gw.yaml:10: invalid host 'bad_host!': expected a domain name like api.example.test",
                "gw.yaml:10: host 'api.example.test' is listed twice",
                "gw.yaml:11: method 'GET' is listed twice",
                "gw.yaml:11: 'B@D' is not a valid HTTP method",
            ])
    }

    func testRewrites() {
        XCTAssertEqual(
            problems(
                routes(
                    """
                      - { name: a, upstream: users, match: { path_prefix: /v1/users }, rewrite: { strip_prefix: /v2 } }
                      - { name: b, upstream: users, match: { path_prefix: /v1x }, rewrite: { strip_prefix: /v1 } }
                      - { name: c, upstream: users, match: { path: /v1 }, rewrite: { replace_prefix: /v2 } }
                      - { name: d, upstream: users, rewrite: { strip_prefix: v1 } }
                      - { name: e, upstream: users, rewrite: {} }
                      - name: f
                        upstream: users
                        rewrite:
                          strip_prefix: /a
                          replace_prefix: /b
                    """)),
            [
                "gw.yaml:7: strip_prefix '/v2' is not a prefix of path_prefix '/v1/users'",
                "gw.yaml:8: strip_prefix '/v1' is not a prefix of path_prefix '/v1x'",
                "gw.yaml:9: 'replace_prefix' needs match.path_prefix in route 'c'",
                "gw.yaml:10: 'strip_prefix' must start with '/', got 'v1'",
                "gw.yaml:11: 'rewrite' needs 'strip_prefix' or 'replace_prefix' in route 'e'",
                "gw.yaml:16: 'rewrite' takes one of 'strip_prefix' or 'replace_prefix', not both",
            ])
    }

    func testWireValuesMustBeVisibleASCII() {
        XCTAssertEqual(
            problems(
                "node: { id: \"edge 1\" }\n"
                    + routes(
                        """
                          - { name: a, upstream: users, match: { path_prefix: /v1 }, rewrite: { replace_prefix: "/v 2" } }
                          - name: b
                            upstream: users
                            headers: { request: { set: { X-Forwarded-For: 1.2.3.4 } }, response: { add: { X-Request-Id: x } } }
                        """)),
            [
                "gw.yaml:1: node id 'edge 1' must be visible ASCII without spaces (it is sent in Via)",
                "gw.yaml:8: 'replace_prefix' must be visible ASCII without spaces (it becomes the request target)",
                "gw.yaml:11: cannot set header 'X-Forwarded-For': the proxy manages it",
                "gw.yaml:11: cannot add header 'X-Request-Id': the proxy manages it",
            ])
    }

    func testHeaderRules() {
        XCTAssertEqual(
            problems(
                routes(
                    """
                      - name: a
                        upstream: users
                        headers:
                          request:
                            set: { Connection: close, "Bad Name": x, X-Ok: "line\\r\\nbreak" }
                            add: { Content-Length: "5", X-A: a, x-a: b }
                            remove: ["X Bad"]
                          response:
                            set: { Transfer-Encoding: chunked, Host: h }
                            from_claims: {}
                        match:
                          headers: [{ name: "X Y" }, { value: v }]
                    """)),
            [
                "gw.yaml:11: cannot set header 'Connection': the proxy manages it",
                "gw.yaml:11: 'Bad Name' is not a valid header name",
                "gw.yaml:11: header value for 'X-Ok' must not contain CR, LF or NUL",
                "gw.yaml:12: cannot add header 'Content-Length': the proxy manages it",
                "gw.yaml:12: header 'x-a' appears twice in 'add'",
                "gw.yaml:13: 'X Bad' is not a valid header name",
                "gw.yaml:15: cannot set header 'Transfer-Encoding': the proxy manages it",
                "gw.yaml:15: cannot set header 'Host': the proxy manages it",
                "gw.yaml:16: unknown key 'from_claims' in headers.response of route 'a'",
                "gw.yaml:18: 'X Y' is not a valid header name",
                "gw.yaml:18: missing required key 'name' in match.headers of route 'a'",
            ])
    }

    func testRouteTimeout() {
        XCTAssertEqual(
            problems(routes("  - { name: a, upstream: users, timeouts: { request: 0ms, idle: 5s } }")),
            [
                "gw.yaml:7: 'request' must be greater than 0",
                "gw.yaml:7: unknown key 'idle' in timeouts of route 'a'",
            ])
    }

    func testRoutesMayBeEmpty() throws {
        let config = try XCTUnwrap(parseValid(minimalListeners + "\nroutes: []"))
        XCTAssertEqual(config.routes, [])
    }
}
