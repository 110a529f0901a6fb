import XCTest

@testable import GatewayConfig

final class HostPortParserTests: XCTestCase {
    func testAccepted() {
        XCTAssertEqual(UnitParser.parseHostPort("127.0.0.1:8080"), HostPort(host: "127.0.0.1", port: 8080))
        XCTAssertEqual(UnitParser.parseHostPort("0.0.0.0:0"), HostPort(host: "0.0.0.0", port: 0))
        XCTAssertEqual(UnitParser.parseHostPort("localhost:65535"), HostPort(host: "localhost", port: 65_535))
        XCTAssertEqual(
            UnitParser.parseHostPort("users_svc.internal:80"), HostPort(host: "users_svc.internal", port: 80))
        XCTAssertEqual(UnitParser.parseHostPort("[::1]:8080"), HostPort(host: "::1", port: 8080))
        XCTAssertEqual(UnitParser.parseHostPort("[::]:443"), HostPort(host: "::", port: 443))
        XCTAssertEqual(
            UnitParser.parseHostPort("[2001:db8::ffff:1.2.3.4]:1"), HostPort(host: "2001:db8::ffff:1.2.3.4", port: 1))
    }

    func testDescriptionBracketsIPv6() {
        XCTAssertEqual(UnitParser.parseHostPort("[::1]:8080")?.description, "[::1]:8080")
        XCTAssertEqual(UnitParser.parseHostPort("example.test:80")?.description, "example.test:80")
    }

    func testRejected() {
        for text in [
            "", "8080", ":8080", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:+80",
            "127.0.0.1:80a", "::1:8080", "[::1]8080", "[::1]", "[zz::1]:80", "[::1:80", "300.1.1.1:80",
            "1.2.3:80", "01.2.3.4:80", "-bad.example:80", "bad-.example:80", "a..b:80", "a b:80", "*:80",
            "host:999999",
        ] {
            XCTAssertNil(UnitParser.parseHostPort(text), text)
        }
    }
}
