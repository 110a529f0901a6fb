import XCTest

@testable import GatewayServer

final class CredentialRedactionTests: XCTestCase {
    func testOnlyTheValuesOfCredentialParametersAreReplaced() {
        let names = ["access_token", "api_key"]
        let cases: [(String, String)] = [
            ("/a", "/a"),
            ("/a?x=1", "/a?x=1"),
            ("/a?access_token=t0k3n", "/a?access_token=[redacted]"),
            ("/a?x=1&access_token=t&api_key=k&y=2", "/a?x=1&access_token=[redacted]&api_key=[redacted]&y=2"),
            ("/a?access_token=&x", "/a?access_token=[redacted]&x"),
            ("/a?access_token=1&access_token=2", "/a?access_token=[redacted]&access_token=[redacted]"),
            // Other names that merely start or end alike, a name without a value, a path segment.
            ("/a?access_token_hint=v&my_api_key=v&access_token", "/a?access_token_hint=v&my_api_key=v&access_token"),
            ("/access_token=x/b", "/access_token=x/b"),
            // Names are compared percent-decoded, as the credential reader compares them.
            ("/a?access%5Ftoken=t&%61pi_key=k", "/a?access%5Ftoken=[redacted]&%61pi_key=[redacted]"),
            ("/a?access%5ftoken=t", "/a?access%5ftoken=[redacted]"),
            ("/a?access%zztoken=t", "/a?access%zztoken=t"),
        ]
        for (target, logged) in cases {
            XCTAssertEqual(CredentialRedaction.redact(target, names: names), logged, target)
        }
        XCTAssertEqual(CredentialRedaction.redact("/a?access_token=t", names: []), "/a?access_token=t")
    }
}
