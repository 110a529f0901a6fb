import XCTest

/// Attack class: request smuggling, i.e. making the gateway and the upstream disagree about where
/// a message ends. Every ambiguous framing is refused and the connection closed; nothing ambiguous
/// is forwarded, and a body is never read as a second request.
final class RequestSmugglingTests: XCTestCase {
    private var harness: AdversarialHarness!

    override func setUp() async throws {
        harness = try await AdversarialHarness()
    }

    override func tearDown() async throws {
        await harness.stop()
    }

    func testAmbiguousLengthsAreRefusedAndClosed() async throws {
        let cases: [(String, Int, String)] = [
            (
                "CL and TE", 400,
                "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
            ),
            (
                "TE and CL", 400,
                "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n"
            ),
            (
                "conflicting CLs", 400,
                "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"
            ),
            ("CL list", 400, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\nhello"),
            ("signed CL", 400, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nhello"),
            ("hex CL", 400, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\nhello"),
            ("CL past Int", 400, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\nhello"),
            (
                "TE with a later coding", 501,
                "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n"
            ),
            (
                "TE gzip then chunked", 501,
                "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"
            ),
            ("TE lookalike", 501, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n"),
            (
                "TE twice", 501,
                "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
            ),
            (
                "TE with space before colon", 400,
                "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n"
            ),
            ("TE in HTTP/1.0", 400, "POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
            (
                "chunk size overflow", 400,
                "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\nhello\r\n0\r\n\r\n"
            ),
            (
                "chunk without CRLF", 400,
                "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n"
            ),
            (
                "chunk size with bare LF", 400,
                "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n"
            ),
        ]
        for (label, status, attack) in cases {
            let outcome = try await harness.send(attack)
            assertRefusedAndClosed(outcome, status, label)
            XCTAssertTrue(outcome.text.contains("\r\nconnection: close\r\n"), "\(label): \(outcome.text)")
        }
    }

    func testARequestInsideABodyStaysABody() async throws {
        let smuggled = "GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n"
        let outcome = try await harness.send(
            "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: \(smuggled.utf8.count)\r\n\r\n\(smuggled)")
        XCTAssertEqual(outcome.statuses, [200, 200], outcome.text)
        XCTAssertEqual(outcome.reachedOrigin.map(\.uri), ["/upload", "/probe"])
        XCTAssertEqual(outcome.reachedOrigin.first?.body, smuggled, "forwarded as the POST's body, whole")

        let chunked = try await harness.send(
            "POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                + String(smuggled.utf8.count, radix: 16) + "\r\n\(smuggled)\r\n0\r\n\r\n")
        XCTAssertEqual(chunked.statuses, [200, 200], chunked.text)
        XCTAssertEqual(chunked.reachedOrigin.map(\.uri), ["/upload", "/probe"])
        XCTAssertEqual(chunked.reachedOrigin.first?.body, smuggled)
    }

    func testUnambiguousOddFramingIsServed() async throws {
        // RFC 9110 8.6: identical Content-Length lines may be taken as one.
        let duplicate = try await harness.send(
            "POST /same HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello")
        XCTAssertEqual(duplicate.statuses, [200, 200], duplicate.text)
        XCTAssertEqual(duplicate.reachedOrigin.first?.body, "hello")
        // Chunk extensions are allowed and not forwarded (the gateway frames the body itself).
        let extensions = try await harness.send(
            "POST /ext HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;name=\"v\"\r\nhello\r\n0\r\n\r\n")
        XCTAssertEqual(extensions.statuses, [200, 200], extensions.text)
        XCTAssertEqual(extensions.reachedOrigin.first?.body, "hello")
        // Chunked in another case is still chunked.
        let mixedCase = try await harness.send(
            "POST /case HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ChUnKeD\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
        XCTAssertEqual(mixedCase.statuses, [200, 200], mixedCase.text)
        XCTAssertEqual(mixedCase.reachedOrigin.first?.body, "hello")
    }
}
