import NIOCore
import NIOHTTP1
import XCTest

@testable import GatewayServer

/// What the parser produced, in a comparable form; consecutive body slices are joined.
private enum Step: Equatable {
    case head(String)
    case body(String)
    case end
    /// The parser kept producing events without consuming input.
    case runaway
}

/// A parser fed chunk by chunk, as a connection would feed it, recording every event.
private struct Run {
    var parser: RequestParser
    var input = ByteBuffer()
    var steps: [Step] = []
    var heads: [RequestHead] = []
    var bodySlices: [String] = []

    init(maxHeadBytes: Int = 4096, maxFields: Int = 64) {
        parser = RequestParser(maxHeadBytes: maxHeadBytes, maxFields: maxFields)
    }

    /// Appends `bytes` to the input and collects every event they complete.
    mutating func feed(_ bytes: [UInt8]) throws(RequestParseError) {
        input.writeBytes(bytes)
        for _ in 0..<100_000 {
            guard let event = try parser.next(&input) else { return }
            switch event {
            case .head(let head):
                heads.append(head)
                steps.append(.head("\(head.method.rawValue) \(head.target) HTTP/1.\(head.versionMinor)"))
            case .body(let slice):
                let text = String(buffer: slice)
                bodySlices.append(text)
                if case .body(let previous) = steps.last {
                    steps[steps.count - 1] = .body(previous + text)
                } else {
                    steps.append(.body(text))
                }
            case .end:
                steps.append(.end)
            }
        }
        steps.append(.runaway)
    }

    mutating func feed(_ text: String) throws(RequestParseError) {
        try feed(Array(text.utf8))
    }
}

/// Feeds `chunks` in order to a fresh parser; returns the run for its steps, heads and slices.
private func events(_ chunks: [[UInt8]], maxHeadBytes: Int = 4096, maxFields: Int = 64) throws -> Run {
    var feeder = Run(maxHeadBytes: maxHeadBytes, maxFields: maxFields)
    for chunk in chunks { try feeder.feed(chunk) }
    return feeder
}

private func events(_ chunks: [String], maxHeadBytes: Int = 4096, maxFields: Int = 64) throws -> Run {
    try events(chunks.map { Array($0.utf8) }, maxHeadBytes: maxHeadBytes, maxFields: maxFields)
}

/// `text` as one chunk per byte.
private func bytewise(_ text: String) -> [[UInt8]] {
    text.utf8.map { [$0] }
}

/// The first head parsed from `text`, which must hold a complete one.
private func parse(_ text: String, maxFields: Int = 64) throws -> RequestHead {
    let result = try events([text], maxFields: maxFields)
    return try XCTUnwrap(result.heads.first, "no head in \(text.debugDescription)")
}

/// A POST head with `fields` (after a Host field) parsed with `parseHead`.
private func head(_ fields: String...) throws -> RequestHead {
    let text = "POST / HTTP/1.1\r\nHost: a\r\n" + fields.map { $0 + "\r\n" }.joined() + "\r\n"
    return try RequestParser.parseHead(ByteBuffer(string: text), maxFields: 64)
}

/// The error feeding `chunks` raises, or nil if there is none.
private func parseError(_ chunks: [String], maxHeadBytes: Int = 4096, maxFields: Int = 64) -> RequestParseError? {
    var feeder = Run(maxHeadBytes: maxHeadBytes, maxFields: maxFields)
    do {
        for chunk in chunks { try feeder.feed(chunk) }
    } catch {
        return error
    }
    return nil
}

private func fieldName(_ head: RequestHead, _ index: Int) -> String {
    let field = head.fields[index]
    return head.block.getString(at: head.block.readerIndex + Int(field.nameStart), length: Int(field.nameLength))
        ?? "?"
}

/// Everything a head says, as text, to compare heads parsed in different ways.
private func describe(_ head: RequestHead) -> String {
    var lines = ["\(head.method.rawValue) \(head.target) 1.\(head.versionMinor)"]
    for index in head.fields.indices {
        lines.append("\(head.fields[index].kind) \(fieldName(head, index))=\(head.value(of: index))")
    }
    lines.append(
        "host=\(head.host ?? "-") hosts=\(head.hostCount) id=\(head.requestIDField ?? -1) "
            + "cl=\(head.contentLength ?? -1) valid=\(head.contentLengthValid) te=\(head.transferCoding) "
            + "expect=\(head.expectation) keepAlive=\(head.keepAlive) names=\(head.connectionNamesFields)")
    return lines.joined(separator: "\n")
}

final class RequestParserTests: XCTestCase {
    // MARK: - Heads

    func testSimpleGetHeadThenEnd() throws {
        var parser = RequestParser(maxHeadBytes: 4096, maxFields: 64)
        var input = ByteBuffer(
            string:
                "GET /a/b?c=1 HTTP/1.1\r\nHost: example.test\r\nAccept: \t */* \t\r\nX-Empty:\r\nX-Inner: a  b\r\n\r\n")
        XCTAssertTrue(parser.isAtMessageBoundary)
        guard case .head(let head) = try parser.next(&input) else { return XCTFail("expected a head") }
        XCTAssertEqual(head.method, .GET)
        XCTAssertEqual(head.target, "/a/b?c=1")
        XCTAssertEqual(head.versionMinor, 1)
        XCTAssertEqual(head.version, .http1_1)
        XCTAssertEqual(head.fields.map(\.kind), [.host, .other, .other, .other])
        XCTAssertEqual((0..<4).map { fieldName(head, $0) }, ["Host", "Accept", "X-Empty", "X-Inner"])
        XCTAssertEqual((0..<4).map { head.value(of: $0) }, ["example.test", "*/*", "", "a  b"])
        XCTAssertEqual(head.host, "example.test")
        XCTAssertEqual(head.hostCount, 1)
        XCTAssertEqual(head.hostField, 0)
        XCTAssertNil(head.requestIDField)
        XCTAssertTrue(head.keepAlive)
        XCTAssertNil(head.contentLength)
        XCTAssertTrue(head.contentLengthValid)
        XCTAssertEqual(head.transferCoding, .none)
        XCTAssertEqual(head.expectation, .none)
        XCTAssertFalse(head.hasBody)
        XCTAssertTrue(head.hasKnownFraming)
        XCTAssertFalse(head.connectionNamesFields)
        XCTAssertEqual(head.firstValue(named: "accept"), "*/*")
        XCTAssertNil(head.firstValue(named: "accep"))
        XCTAssertTrue(head.nameEquals(2, "x-EMPTY"))
        XCTAssertEqual(head.block.readableBytes, input.readerIndex)
        // No body: the end follows at once, and then nothing until more input.
        guard case .end = try parser.next(&input) else { return XCTFail("expected the end") }
        XCTAssertNil(try parser.next(&input))
        XCTAssertEqual(input.readableBytes, 0)
        XCTAssertTrue(parser.isAtMessageBoundary)
    }

    func testValuesNamedCollectsEveryFieldOfThatName() throws {
        let head = try parse("GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\nx-b: 2\r\nX-a: 3\r\n\r\n")
        XCTAssertEqual(head.values(named: "x-a"), ["1", "3"])
        XCTAssertEqual(head.values(named: "X-B"), ["2"])
        XCTAssertEqual(head.values(named: "x-c"), [])
    }

    func testKeepAliveFollowsVersionAndConnection() throws {
        let cases: [(String, Bool)] = [
            ("GET / HTTP/1.1\r\nHost: a\r\n\r\n", true),
            ("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", false),
            ("GET / HTTP/1.1\r\nHost: a\r\nConnection: Keep-Alive, CLOSE\r\n\r\n", false),
            ("GET / HTTP/1.1\r\nHost: a\r\nConnection: x-foo\r\nConnection: close\r\n\r\n", false),
            ("GET / HTTP/1.1\r\nHost: a\r\nConnection: closed\r\n\r\n", true),
            ("GET / HTTP/1.0\r\n\r\n", false),
            ("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true),
            ("GET / HTTP/1.0\r\nConnection: x-foo, Keep-Alive\r\n\r\n", true),
            ("GET / HTTP/1.0\r\nConnection: keep-alives\r\n\r\n", false),
        ]
        for (text, keepAlive) in cases {
            XCTAssertEqual(try parse(text).keepAlive, keepAlive, text.debugDescription)
        }
    }

    /// RFC 9112 9.3: the close option ends the connection whatever else is listed.
    func testHTTP10CloseWinsOverKeepAlive() throws {
        let head = try parse("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n")
        XCTAssertFalse(head.keepAlive)
    }

    func testVersionMinor() throws {
        XCTAssertEqual(try parse("GET / HTTP/1.0\r\n\r\n").versionMinor, 0)
        XCTAssertEqual(try parse("GET / HTTP/1.0\r\n\r\n").version, .http1_0)
        XCTAssertEqual(try parse("GET / HTTP/1.1\r\nHost: a\r\n\r\n").versionMinor, 1)
    }

    func testWellKnownMethodsMapToTheirCases() throws {
        let methods: [(String, HTTPMethod)] = [
            ("GET", .GET), ("PUT", .PUT), ("POST", .POST), ("HEAD", .HEAD), ("PATCH", .PATCH), ("TRACE", .TRACE),
            ("DELETE", .DELETE), ("OPTIONS", .OPTIONS), ("CONNECT", .CONNECT),
        ]
        for (text, method) in methods {
            XCTAssertEqual(try parse("\(text) / HTTP/1.1\r\nHost: a\r\n\r\n").method, method, text)
        }
    }

    func testOtherTokenMethodsAreRawAndCaseSensitive() throws {
        for text in ["FOO", "get", "Post", "GETS", "POS", "M-SEARCH", "DELETES", "OPTION", "PROPFIND", "x"] {
            let method = try parse("\(text) / HTTP/1.1\r\nHost: a\r\n\r\n").method
            XCTAssertEqual(method, .RAW(value: text), text)
            XCTAssertEqual(method.rawValue, text)
        }
    }

    func testLeadingEmptyLinesAreSkipped() throws {
        let text = "\r\n\r\n\r\nGET /x HTTP/1.1\r\nHost: a\r\n\r\n"
        XCTAssertEqual(try events([text]).steps, [.head("GET /x HTTP/1.1"), .end])
        XCTAssertEqual(try events(bytewise(text)).steps, [.head("GET /x HTTP/1.1"), .end])
        // Between pipelined requests too.
        let pipelined = try events(["GET /1 HTTP/1.1\r\nHost: a\r\n\r\n\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n"])
        XCTAssertEqual(pipelined.steps, [.head("GET /1 HTTP/1.1"), .end, .head("GET /2 HTTP/1.1"), .end])
    }

    func testEmptyInputNeedsMore() throws {
        var parser = RequestParser(maxHeadBytes: 4096, maxFields: 64)
        var input = ByteBuffer()
        XCTAssertNil(try parser.next(&input))
        XCTAssertTrue(parser.isAtMessageBoundary)
    }

    // MARK: - Bodies

    func testContentLengthBodyAcrossBuffersThenPipelinedRequest() throws {
        let chunks = [
            "POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhel", "lo w", "orld",
            "GET /next HTTP/1.1\r\nHost: a\r\n\r\n",
        ]
        let expected: [Step] = [
            .head("POST /u HTTP/1.1"), .body("hello world"), .end, .head("GET /next HTTP/1.1"), .end,
        ]
        let split = try events(chunks)
        XCTAssertEqual(split.steps, expected)
        // Each buffer's share is delivered as it arrives, not held back until the body is complete.
        XCTAssertEqual(split.bodySlices, ["hel", "lo w", "orld"])
        XCTAssertEqual(split.heads.first?.contentLength, 11)
        XCTAssertEqual(try events([chunks.joined()]).steps, expected)
        XCTAssertEqual(try events([chunks.joined()]).bodySlices, ["hello world"])
        let bytewiseRun = try events(bytewise(chunks.joined()))
        XCTAssertEqual(bytewiseRun.steps, expected)
        XCTAssertEqual(bytewiseRun.bodySlices.count, 11)
    }

    func testBodyEndsExactlyAtContentLengthWhenEverythingArrivesTogether() throws {
        // The second request's bytes look like body bytes; only the length says where the first ends.
        let text =
            "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcPOST /b HTTP/1.1\r\nHost: a\r\n"
            + "Content-Length: 0\r\n\r\nGET /c HTTP/1.0\r\n\r\n"
        XCTAssertEqual(
            try events([text]).steps,
            [
                .head("POST /a HTTP/1.1"), .body("abc"), .end, .head("POST /b HTTP/1.1"), .end,
                .head("GET /c HTTP/1.0"), .end,
            ])
    }

    func testChunkedBodyIsDechunked() throws {
        let text =
            "POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "5;name=value\r\nhello\r\nb\r\n, chunked!!\r\n1 ;x\r\n.\r\n0\r\nX-Trailer: t\r\n\r\n"
            + "GET /next HTTP/1.1\r\nHost: a\r\n\r\n"
        let expected: [Step] = [
            .head("POST /c HTTP/1.1"), .body("hello, chunked!!."), .end, .head("GET /next HTTP/1.1"), .end,
        ]
        let whole = try events([text])
        XCTAssertEqual(whole.steps, expected)
        XCTAssertEqual(whole.heads.first?.transferCoding, .chunked)
        XCTAssertEqual(whole.bodySlices, ["hello", ", chunked!!", "."])
        let bytewiseRun = try events(bytewise(text))
        XCTAssertEqual(bytewiseRun.steps, expected)
        XCTAssertFalse(bytewiseRun.bodySlices.contains(""))
    }

    func testChunkedBodyWithUppercaseHexAndNoTrailer() throws {
        let payload = String(repeating: "z", count: 26)
        let text =
            "PUT /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1A\r\n\(payload)\r\n0\r\n\r\n"
        XCTAssertEqual(try events([text]).steps, [.head("PUT /c HTTP/1.1"), .body(payload), .end])
    }

    func testChunkedEndWaitsForTheTrailerSection() throws {
        var feeder = Run()
        try feeder.feed("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n")
        XCTAssertEqual(feeder.steps, [.head("POST / HTTP/1.1"), .body("abc")])
        try feeder.feed("X-T: 1\r\n")
        XCTAssertEqual(feeder.steps.count, 2)
        try feeder.feed("\r\n")
        XCTAssertEqual(feeder.steps, [.head("POST / HTTP/1.1"), .body("abc"), .end])
    }

    // MARK: - Split heads

    func testHeadSplitAtEveryPositionParsesLikeUnsplit() throws {
        let text =
            "\r\nPOST /p?q=1 HTTP/1.1\r\nHost: h.test\r\nX-Request-ID: abc\r\nConnection: keep-alive, x-drop\r\n"
            + "Content-Length: 2\r\nExpect: 100-continue\r\nX-Empty:\r\n\r\nok"
        let reference = try events([text])
        XCTAssertEqual(reference.steps, [.head("POST /p?q=1 HTTP/1.1"), .body("ok"), .end])
        let expected = describe(try XCTUnwrap(reference.heads.first))
        let bytes = Array(text.utf8)
        let headEnd = bytes.count - 2
        for cut in 1..<bytes.count {
            var split = Run()
            try split.feed(Array(bytes[..<cut]))
            if cut < headEnd {
                XCTAssertEqual(split.steps, [], "cut at \(cut)")
            }
            try split.feed(Array(bytes[cut...]))
            XCTAssertEqual(split.steps, reference.steps, "cut at \(cut)")
            XCTAssertEqual(split.heads.map(describe), [expected], "cut at \(cut)")
        }
        let byByte = try events(bytewise(text))
        XCTAssertEqual(byByte.heads.map(describe), [expected])
    }

    func testHeadSplitInThreeAtEveryPairOfPositions() throws {
        let text = "GET /three HTTP/1.1\r\nHost: a\r\nX-A: b\r\n\r\n"
        let bytes = Array(text.utf8)
        let expected = describe(try parse(text))
        for first in 1..<bytes.count {
            for second in first..<bytes.count {
                let result = try events([Array(bytes[..<first]), Array(bytes[first..<second]), Array(bytes[second...])])
                XCTAssertEqual(result.heads.map(describe), [expected], "cuts at \(first), \(second)")
                XCTAssertEqual(result.steps.last, .end, "cuts at \(first), \(second)")
            }
        }
    }

    // MARK: - Errors

    private func assertError(
        _ text: String, _ expected: RequestParseError, maxHeadBytes: Int = 4096, maxFields: Int = 64,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertEqual(
            parseError([text], maxHeadBytes: maxHeadBytes, maxFields: maxFields), expected, text.debugDescription,
            file: file, line: line)
    }

    func testBareLineFeedsAreMalformed() {
        assertError("GET / HTTP/1.1\nHost: a\r\n\r\n", .malformed)
        assertError("GET / HTTP/1.1\r\nHost: a\nX-A: b\r\n\r\n", .malformed)
        assertError("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\n\r\n\r\n", .malformed)
    }

    /// A head whose every line ends in a bare LF never contains CRLFCRLF: it must still be refused
    /// once its empty line arrives, not wait for more bytes until a timeout.
    func testHeadWithOnlyBareLineFeedsIsMalformed() {
        assertError("GET / HTTP/1.1\nHost: a\n\n", .malformed)
    }

    func testBareCarriageReturnsAreMalformed() {
        assertError("GET / HTTP/1.1\rHost: a\r\n\r\n", .malformed)
        assertError("GET / HTTP/1.1\r\nHost: a\rX-A: b\r\n\r\n", .malformed)
        assertError("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\rc\r\n\r\n", .malformed)
        assertError("GET /\r HTTP/1.1\r\nHost: a\r\n\r\n", .malformed)
    }

    func testObsFoldIsMalformed() {
        assertError("GET / HTTP/1.1\r\nHost: a\r\nX-A: one\r\n two\r\n\r\n", .malformed)
        assertError("GET / HTTP/1.1\r\nHost: a\r\nX-A: one\r\n\ttwo\r\n\r\n", .malformed)
        assertError("GET / HTTP/1.1\r\n Host: a\r\n\r\n", .malformed)
    }

    func testFieldNameSyntaxErrors() {
        assertError("GET / HTTP/1.1\r\nHost : a\r\n\r\n", .malformed)
        assertError("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", .malformed)
        assertError("GET / HTTP/1.1\r\nHost: a\r\n: empty\r\n\r\n", .malformed)
        assertError("GET / HTTP/1.1\r\nHost: a\r\nX(a): b\r\n\r\n", .malformed)
        assertError("GET / HTTP/1.1\r\nHost: a\r\nX\"a: b\r\n\r\n", .malformed)
        assertError("GET / HTTP/1.1\r\nHost: a\r\nXé: b\r\n\r\n", .malformed)
        assertError("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", .malformed)
        assertError("GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n", .malformed)
    }

    func testControlBytesInValuesAreMalformed() {
        for control in ["\u{01}", "\u{00}", "\u{1F}", "\u{7F}", "\u{0B}"] {
            assertError("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\(control)c\r\n\r\n", .malformed)
        }
        // Tabs and obs-text are allowed inside values.
        XCTAssertEqual(try parse("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\tc é\r\n\r\n").value(of: 1), "b\tc é")
    }

    func testRequestLineErrors() {
        let lines = [
            "GET /", "GET / ", "GET  / HTTP/1.1", "GET / HTTP/1.1x", "GET / HTTP/1.1 ", "GET / http/1.1",
            "GET / HTTP/1.", "GET / HTTP/11", "GET / HTTP/1,1", "GET / HTTP/a.1", "GET / HTTP/1.a", "GET / HTTPS/1.1",
            "GET /a b HTTP/1.1", "GET /é HTTP/1.1", "GET\t/ HTTP/1.1", " GET / HTTP/1.1", "G@T / HTTP/1.1",
            "GET", "/ HTTP/1.1",
        ]
        for line in lines {
            assertError("\(line)\r\nHost: a\r\n\r\n", .malformed)
        }
    }

    func testOtherMajorVersionsAreNotSupported() {
        assertError("GET / HTTP/2.0\r\nHost: a\r\n\r\n", .versionNotSupported)
        assertError("GET / HTTP/3.0\r\nHost: a\r\n\r\n", .versionNotSupported)
        assertError("GET / HTTP/0.9\r\n\r\n", .versionNotSupported)
    }

    /// A head of exactly `count` bytes (with its empty line).
    private func headOf(size count: Int) -> String {
        let prefix = "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: "
        return prefix + String(repeating: "p", count: count - prefix.utf8.count - 4) + "\r\n\r\n"
    }

    func testHeadLargerThanTheLimitIsTooLarge() throws {
        XCTAssertEqual(headOf(size: 100).utf8.count, 100)
        XCTAssertEqual(try events([headOf(size: 100)], maxHeadBytes: 100).steps, [.head("GET / HTTP/1.1"), .end])
        assertError(headOf(size: 101), .headTooLarge, maxHeadBytes: 100)
        // Complete head followed by a pipelined request: only the head counts.
        XCTAssertEqual(
            try events([headOf(size: 100) + headOf(size: 100)], maxHeadBytes: 100).heads.count, 2)
    }

    func testIncompleteHeadLargerThanTheLimitIsTooLarge() throws {
        let incomplete = Array(headOf(size: 200).utf8.prefix(150))
        var feeder = Run(maxHeadBytes: 100)
        try feeder.feed(Array(incomplete[..<100]))
        XCTAssertEqual(feeder.steps, [])
        XCTAssertThrowsError(try feeder.feed([incomplete[100]])) { error in
            XCTAssertEqual(error as? RequestParseError, .headTooLarge)
        }
        XCTAssertEqual(parseError([String(decoding: incomplete, as: UTF8.self)], maxHeadBytes: 100), .headTooLarge)
    }

    func testTooLargeHeadFedByteByByteFailsAtTheLimit() {
        var feeder = Run(maxHeadBytes: 64)
        var fed = 0
        var failure: RequestParseError?
        for byte in headOf(size: 200).utf8 where failure == nil {
            fed += 1
            do { try feeder.feed([byte]) } catch { failure = error }
        }
        XCTAssertEqual(failure, .headTooLarge)
        XCTAssertEqual(fed, 65)
    }

    func testMoreFieldsThanTheLimit() throws {
        let three = "GET / HTTP/1.1\r\nHost: a\r\nX-1: 1\r\nX-2: 2\r\n\r\n"
        XCTAssertEqual(try parse(three, maxFields: 3).fields.count, 3)
        assertError("GET / HTTP/1.1\r\nHost: a\r\nX-1: 1\r\nX-2: 2\r\nX-3: 3\r\n\r\n", .tooManyFields, maxFields: 3)
    }

    func testMalformedChunksAreRefused() {
        let head = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        let bodies = [
            "zz\r\nhello\r\n0\r\n\r\n", "\r\nhello\r\n0\r\n\r\n", "5\r\nhelloX\r\n0\r\n\r\n", "5\nhello\r\n0\r\n\r\n",
            "-5\r\nhello\r\n0\r\n\r\n", "5 x\r\nhello\r\n0\r\n\r\n", "1000000000000000\r\n", "0\r\n\n",
            "0\r\nX-T: a\nb\r\n\r\n", "5\r\nhello\n0\r\n\r\n",
        ]
        for body in bodies {
            XCTAssertEqual(parseError([head + body]), .malformedChunk, body.debugDescription)
            XCTAssertEqual(
                parseError([head] + bytewise(body).map { String(decoding: $0, as: UTF8.self) }), .malformedChunk,
                body.debugDescription)
        }
    }

    func testParserStopsAfterAnError() throws {
        let failures: [(String, RequestParseError)] = [
            ("GET / HTTP/1.1\r\nHost : a\r\n\r\n", .malformed),
            ("GET / HTTP/2.0\r\nHost: a\r\n\r\n", .versionNotSupported),
            ("GET / HTTP/1.1\r\nHost: a\r\nX-1: 1\r\nX-2: 2\r\n\r\n", .tooManyFields),
            (headOf(size: 200), .headTooLarge),
            ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n", .malformedChunk),
        ]
        for (text, expected) in failures {
            var parser = RequestParser(maxHeadBytes: 100, maxFields: 2)
            var input = ByteBuffer(string: text)
            var thrown: RequestParseError?
            do {
                while try parser.next(&input) != nil {}
            } catch {
                thrown = error
            }
            XCTAssertEqual(thrown, expected, text.debugDescription)
            XCTAssertFalse(parser.isAtMessageBoundary, text.debugDescription)
            // A valid request afterwards is not parsed: the connection cannot be resynchronised.
            input.writeString("GET / HTTP/1.1\r\n\r\n")
            XCTAssertNil(try parser.next(&input), text.debugDescription)
            XCTAssertNil(try parser.next(&input), text.debugDescription)
        }
    }

    // MARK: - Framing

    func testContentLengthDuplicatesAndConflicts() throws {
        let conflicting = try head("Content-Length: 5", "Content-Length: 6")
        XCTAssertFalse(conflicting.contentLengthValid)
        XCTAssertFalse(conflicting.hasKnownFraming)
        XCTAssertTrue(conflicting.hasBody)
        let equal = try head("Content-Length: 5", "content-length: 5")
        XCTAssertTrue(equal.contentLengthValid)
        XCTAssertEqual(equal.contentLength, 5)
        XCTAssertTrue(equal.hasKnownFraming)
        XCTAssertTrue(equal.hasBody)
        let zero = try head("Content-Length: 0")
        XCTAssertEqual(zero.contentLength, 0)
        XCTAssertFalse(zero.hasBody)
        XCTAssertEqual(try head("Content-Length: \t 007 ").contentLength, 7)
        XCTAssertEqual(try head("Content-Length: 999999999999999999").contentLength, 999_999_999_999_999_999)
    }

    func testInvalidContentLengthValues() throws {
        for value in ["+5", "5, 5", "-1", "", "0x5", "5 5", "1e3", "5.0", "9999999999999999999", "five"] {
            let parsed = try head("Content-Length: \(value)")
            XCTAssertFalse(parsed.contentLengthValid, value)
            XCTAssertFalse(parsed.hasKnownFraming, value)
        }
    }

    func testTransferEncodingSummary() throws {
        XCTAssertEqual(try head("Transfer-Encoding: chunked").transferCoding, .chunked)
        XCTAssertEqual(try head("Transfer-Encoding: CHUNKED").transferCoding, .chunked)
        XCTAssertEqual(try head("transfer-encoding:  Chunked ").transferCoding, .chunked)
        XCTAssertTrue(try head("Transfer-Encoding: chunked").hasKnownFraming)
        XCTAssertTrue(try head("Transfer-Encoding: chunked").hasBody)
        for values in [["gzip, chunked"], ["chunked", "chunked"], ["chunked, gzip"], ["identity"], ["chunked,"]] {
            let fields = values.map { "Transfer-Encoding: \($0)" }
            let parsed = try RequestParser.parseHead(
                ByteBuffer(string: "POST / HTTP/1.1\r\n" + fields.map { $0 + "\r\n" }.joined() + "\r\n"), maxFields: 8)
            XCTAssertEqual(parsed.transferCoding, .unsupported, "\(values)")
            XCTAssertFalse(parsed.hasKnownFraming, "\(values)")
        }
        let both = try head("Transfer-Encoding: chunked", "Content-Length: 5")
        XCTAssertEqual(both.transferCoding, .chunked)
        XCTAssertFalse(both.hasKnownFraming)
        let bothReversed = try head("Content-Length: 5", "Transfer-Encoding: chunked")
        XCTAssertFalse(bothReversed.hasKnownFraming)
    }

    func testParserStopsAfterAHeadWithUnknownFraming() throws {
        let heads = [
            "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
            "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n",
            "POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            "POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
        ]
        for text in heads {
            var feeder = Run()
            try feeder.feed(text + "hello0\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n")
            XCTAssertEqual(feeder.steps, [.head("POST /a HTTP/1.1")], text.debugDescription)
            XCTAssertFalse(feeder.parser.isAtMessageBoundary, text.debugDescription)
            try feeder.feed("GET /c HTTP/1.1\r\nHost: a\r\n\r\n")
            XCTAssertEqual(feeder.steps.count, 1, text.debugDescription)
        }
    }

    func testExpectation() throws {
        XCTAssertEqual(try head().expectation, .none)
        for value in ["100-continue", "100-CONTINUE", "100-Continue", " 100-continue "] {
            XCTAssertEqual(try head("Expect: \(value)").expectation, .continue100, value)
        }
        for value in ["foo", "100-continue, foo", "", "100-continues", "200-continue"] {
            XCTAssertEqual(try head("Expect: \(value)").expectation, .unsupported, value)
        }
        XCTAssertEqual(try head("Expect: 100-continue", "Expect: foo").expectation, .unsupported)
        XCTAssertEqual(try head("Expect: foo", "Expect: 100-continue").expectation, .unsupported)
        XCTAssertEqual(try head("Expect: 100-continue", "expect: 100-continue").expectation, .continue100)
    }

    // MARK: - Field kinds

    func testFieldKindsInAnyCase() throws {
        let expected: [(String, RequestHead.FieldKind)] = [
            ("HOST", .host), ("X-Request-ID", .requestID), ("CONNECTION", .connection), ("Via", .via),
            ("X-Forwarded-For", .forwardedFor), ("x-forwarded-proto", .forwardedProto),
            ("X-FORWARDED-HOST", .forwardedHost), ("TE", .dropped), ("Trailer", .dropped), ("UPGRADE", .upgrade),
            ("Keep-Alive", .dropped), ("Proxy-Connection", .dropped), ("Content-Length", .dropped),
            ("Transfer-Encoding", .dropped), ("EXPECT", .dropped), ("Accept", .other), ("Tx", .other),
            ("Vis", .other), ("Hosts", .other), ("Hose", .other), ("X-Request-IDs", .other), ("X-Request-Ix", .other),
            ("Connections", .other), ("Connectiom", .other), ("X-Forwarded-Fox", .other), ("Content-Lengths", .other),
            ("Proxy-Connectiox", .other), ("Transfer-Encodinx", .other), ("Trailers", .other), ("Expects", .other),
        ]
        let text = "GET / HTTP/1.1\r\n" + expected.map { "\($0.0): v\r\n" }.joined() + "\r\n"
        let parsed = try RequestParser.parseHead(ByteBuffer(string: text), maxFields: 64)
        XCTAssertEqual(parsed.fields.count, expected.count)
        for (index, (written, kind)) in expected.enumerated() where index < parsed.fields.count {
            XCTAssertEqual(parsed.fields[index].kind, kind, written)
            XCTAssertEqual(fieldName(parsed, index), written)
        }
    }

    func testUpgradeNeedsConnectionUpgradeHTTP11AndNoBody() throws {
        XCTAssertTrue(
            try parse("GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n\r\n").isUpgrade)
        XCTAssertTrue(
            try parse("GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: upgrade\r\nContent-Length: 0\r\n\r\n")
                .isUpgrade)
        // Without the Connection option, or without Upgrade, or in HTTP/1.0, or with a body: not one.
        XCTAssertFalse(try parse("GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n").isUpgrade)
        XCTAssertFalse(try parse("GET /ws HTTP/1.1\r\nConnection: upgrade\r\n\r\n").isUpgrade)
        XCTAssertFalse(try parse("GET /ws HTTP/1.0\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n").isUpgrade)
        XCTAssertFalse(
            try parse("POST /ws HTTP/1.1\r\nUpgrade: h2c\r\nConnection: upgrade\r\nContent-Length: 3\r\n\r\n").isUpgrade
        )
        XCTAssertFalse(
            try parse("POST /ws HTTP/1.1\r\nUpgrade: h2c\r\nConnection: upgrade\r\nTransfer-Encoding: chunked\r\n\r\n")
                .isUpgrade)
        // `upgrade` in Connection names the Upgrade field, which is handled apart: no other field to drop.
        XCTAssertFalse(
            try parse("GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n").connectionNamesFields)
    }

    func testRequestIDFieldIsTheFirst() throws {
        let parsed = try parse("GET / HTTP/1.1\r\nHost: a\r\nx-request-id: first\r\nX-Request-Id: second\r\n\r\n")
        let index = try XCTUnwrap(parsed.requestIDField)
        XCTAssertEqual(index, 1)
        XCTAssertEqual(parsed.value(of: index), "first")
    }

    func testConnectionNamesFields() throws {
        XCTAssertTrue(try head("Connection: close, x-foo").connectionNamesFields)
        XCTAssertTrue(try head("Connection: x-foo").connectionNamesFields)
        XCTAssertTrue(try head("Connection: close", "Connection: X-Bar").connectionNamesFields)
        XCTAssertFalse(try head("Connection: keep-alive, close").connectionNamesFields)
        XCTAssertFalse(try head("Connection: Keep-Alive ,, CLOSE").connectionNamesFields)
        XCTAssertFalse(try head("Connection:").connectionNamesFields)
        XCTAssertFalse(try head().connectionNamesFields)
    }

    func testHostCountAndFirstHost() throws {
        let twice = try parse("GET / HTTP/1.1\r\nHost: one\r\nX-A: b\r\nhost: two\r\n\r\n")
        XCTAssertEqual(twice.hostCount, 2)
        XCTAssertEqual(twice.hostField, 0)
        XCTAssertEqual(twice.host, "one")
        let empty = try parse("GET / HTTP/1.1\r\nHost:\r\n\r\n")
        XCTAssertEqual(empty.hostCount, 1)
        XCTAssertEqual(empty.host, "")
        let none = try parse("GET /old HTTP/1.0\r\nAccept: */*\r\n\r\n")
        XCTAssertEqual(none.hostCount, 0)
        XCTAssertNil(none.hostField)
        XCTAssertNil(none.host)
        XCTAssertEqual(none.target, "/old")
    }

    // MARK: - Message boundary

    func testMessageBoundaryThroughHeadAndBody() throws {
        var parser = RequestParser(maxHeadBytes: 4096, maxFields: 64)
        var input = ByteBuffer()
        XCTAssertTrue(parser.isAtMessageBoundary)
        input.writeString("POST / HTTP/1.1\r\nHo")
        XCTAssertNil(try parser.next(&input))
        XCTAssertFalse(parser.isAtMessageBoundary)
        input.writeString("st: a\r\nContent-Length: 4\r\n\r\nab")
        guard case .head = try parser.next(&input) else { return XCTFail("expected a head") }
        XCTAssertFalse(parser.isAtMessageBoundary)
        guard case .body = try parser.next(&input) else { return XCTFail("expected body") }
        XCTAssertFalse(parser.isAtMessageBoundary)
        XCTAssertNil(try parser.next(&input))
        XCTAssertFalse(parser.isAtMessageBoundary)
        input.writeString("cd")
        guard case .body = try parser.next(&input) else { return XCTFail("expected body") }
        guard case .end = try parser.next(&input) else { return XCTFail("expected the end") }
        XCTAssertTrue(parser.isAtMessageBoundary)
    }

    /// One to three bytes of a head are as much a partial request as four.
    func testMessageBoundaryIsFalseForAVeryShortPartialHead() throws {
        for partial in ["G", "GE", "GET", "GET "] {
            var parser = RequestParser(maxHeadBytes: 4096, maxFields: 64)
            var input = ByteBuffer(string: partial)
            XCTAssertNil(try parser.next(&input))
            XCTAssertFalse(parser.isAtMessageBoundary, partial.debugDescription)
        }
        // Empty lines before a request are not part of one.
        var parser = RequestParser(maxHeadBytes: 4096, maxFields: 64)
        var input = ByteBuffer(string: "\r\n\r\n")
        XCTAssertNil(try parser.next(&input))
        XCTAssertTrue(parser.isAtMessageBoundary)
    }

    func testMessageBoundaryForBodilessAndChunkedRequests() throws {
        var parser = RequestParser(maxHeadBytes: 4096, maxFields: 64)
        var input = ByteBuffer(
            string:
                "GET / HTTP/1.1\r\nHost: a\r\n\r\nPOST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab"
        )
        guard case .head = try parser.next(&input) else { return XCTFail("expected a head") }
        XCTAssertFalse(parser.isAtMessageBoundary)
        guard case .end = try parser.next(&input) else { return XCTFail("expected the end") }
        XCTAssertTrue(parser.isAtMessageBoundary)
        guard case .head = try parser.next(&input) else { return XCTFail("expected a head") }
        guard case .body = try parser.next(&input) else { return XCTFail("expected body") }
        XCTAssertNil(try parser.next(&input))
        XCTAssertFalse(parser.isAtMessageBoundary)
        input.writeString("\r\n0\r\n\r\n")
        guard case .end = try parser.next(&input) else { return XCTFail("expected the end") }
        XCTAssertTrue(parser.isAtMessageBoundary)
    }

    // MARK: - Review fixes

    func testTinyChunksComeOutOneAtATimeAndWireBytesAreCounted() throws {
        var parser = RequestParser(maxHeadBytes: 4096, maxFields: 64)
        let chunks = String(repeating: "1\r\nx\r\n", count: 500)
        var input = ByteBuffer(
            string: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks + "0\r\n\r\n")
        guard case .head = try parser.next(&input) else { return XCTFail("expected a head") }
        var slices = 0
        while let event = try parser.next(&input) {
            if case .body(let slice) = event {
                XCTAssertEqual(slice.readableBytes, 1)
                slices += 1
            } else if case .end = event {
                break
            }
        }
        XCTAssertEqual(slices, 500)
        XCTAssertEqual(parser.bodyWireBytes, chunks.utf8.count + 5)
    }

    func testEndlessWhitespaceAfterAChunkSizeIsRefused() {
        let text =
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1" + String(repeating: " ", count: 100)
        XCTAssertEqual(parseError([text]), .malformedChunk)
        XCTAssertNil(parseError(["POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1   ;x\r\n"]))
    }

    func testTargetForms() throws {
        XCTAssertEqual(parseError(["CONNECT other:443 HTTP/1.1\r\nHost: other\r\n\r\n"]), .malformed)
        XCTAssertEqual(parseError(["GET * HTTP/1.1\r\nHost: a\r\n\r\n"]), .malformed)
        XCTAssertEqual(try parse("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n").target, "*")
        XCTAssertEqual(try parse("GET /x?y=1 HTTP/1.1\r\nHost: a\r\n\r\n").target, "/x?y=1")
        XCTAssertNil(try parse("GET /x HTTP/1.1\r\nHost: a\r\n\r\n").authority)
        // Absolute-form: its authority replaces Host; the target becomes origin-form.
        let absolute = try parse("GET HTTP://Other.example:8080/a/b?c=1 HTTP/1.1\r\nHost: public\r\n\r\n")
        XCTAssertEqual(absolute.target, "/a/b?c=1")
        XCTAssertEqual(absolute.authority, "Other.example:8080")
        XCTAssertEqual(absolute.host, "Other.example:8080")
        XCTAssertEqual(try parse("GET https://x HTTP/1.1\r\nHost: x\r\n\r\n").target, "/")
        XCTAssertEqual(try parse("GET http://x?q HTTP/1.1\r\nHost: x\r\n\r\n").target, "/?q")
        for bad in ["http:/x", "http:///x", "http://user@x/", "ftp://x/", "x/y", "http//x/"] {
            XCTAssertEqual(parseError(["GET \(bad) HTTP/1.1\r\nHost: a\r\n\r\n"]), .malformed, bad)
        }
    }
}
