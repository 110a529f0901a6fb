import XCTest

/// Attack class: control characters and malformed lines in the head (CR, LF, NUL, DEL, obs-fold,
/// whitespace before a colon), which could split one field into two at the upstream or hide a
/// field from the gateway. Refused with 400 and closed; obs-text (bytes 0x80-0xFF), which RFC 9110
/// allows in values, is served.
final class HeaderInjectionTests: XCTestCase {
    private var harness: AdversarialHarness!

    override func setUp() async throws {
        harness = try await AdversarialHarness()
    }

    override func tearDown() async throws {
        await harness.stop()
    }

    func testControlCharactersAndMalformedLinesAreRefused() async throws {
        let head = Array("GET / HTTP/1.1\r\nHost: a\r\n".utf8)
        let cases: [(String, [UInt8])] = [
            ("NUL in a value", head + Array("X: a".utf8) + [0] + Array("b\r\n\r\n".utf8)),
            ("lone CR in a value", head + Array("X: a\rInjected: 1\r\n\r\n".utf8)),
            ("bare LF ending a field", head + Array("X: a\nInjected: 1\r\n\r\n".utf8)),
            ("DEL in a value", head + Array("X: ".utf8) + [0x7F] + Array("\r\n\r\n".utf8)),
            ("NUL in a name", head + [0] + Array("X: y\r\n\r\n".utf8)),
            ("DEL in a name", head + Array("X".utf8) + [0x7F] + Array(": y\r\n\r\n".utf8)),
            ("separator in a name", head + Array("X(y): z\r\n\r\n".utf8)),
            ("space before the colon", head + Array("X : y\r\n\r\n".utf8)),
            ("space inside a name", head + Array("Ho st: b\r\n\r\n".utf8)),
            ("obs-fold", head + Array("X: a\r\n b\r\n\r\n".utf8)),
            ("a field starting with whitespace", Array("GET / HTTP/1.1\r\n Host: a\r\n\r\n".utf8)),
            ("control byte in the target", Array("GET /".utf8) + [1] + Array(" HTTP/1.1\r\nHost: a\r\n\r\n".utf8)),
            ("no colon", head + Array("JustAName\r\n\r\n".utf8)),
            ("lowercase version", Array("GET / http/1.1\r\nHost: a\r\n\r\n".utf8)),
            ("two spaces in the request line", Array("GET  / HTTP/1.1\r\nHost: a\r\n\r\n".utf8)),
        ]
        for (label, attack) in cases {
            let outcome = try await harness.send(attack)
            assertRefusedAndClosed(outcome, 400, label)
        }
    }

    func testObsTextInAValueIsServed() async throws {
        let attack = Array("GET /latin HTTP/1.1\r\nHost: a\r\nX-Name: caf".utf8) + [0xE9] + Array("\r\n\r\n".utf8)
        let outcome = try await harness.send(attack)
        XCTAssertEqual(outcome.statuses, [200, 200], outcome.text)
        XCTAssertEqual(outcome.reachedOrigin.map(\.uri), ["/latin", "/probe"])
    }
}
