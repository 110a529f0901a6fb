import GatewayConfig
import NIOCore
import XCTest

@testable import GatewayServer

final class UpstreamResponseParsingTests: XCTestCase {
    private func parse(_ text: String) throws -> UpstreamResponseHead {
        try UpstreamResponseParser.parse(ByteBuffer(string: text))
    }

    private func assertRejected(_ text: String, _ expected: UpstreamResponseError, line: UInt = #line) {
        XCTAssertThrowsError(try parse(text), line: line) { error in
            XCTAssertEqual(error as? UpstreamResponseError, expected, line: line)
        }
    }

    func testFindsTheEndOfTheHead() {
        let text = "HTTP/1.1 200 OK\r\nA: b\r\n\r\nbody"
        XCTAssertEqual(FieldBytes.headEnd(in: ByteBuffer(string: text), from: 0), text.utf8.count - 4)
        XCTAssertNil(FieldBytes.headEnd(in: ByteBuffer(string: "HTTP/1.1 200 OK\r\nA: b\r\n\r"), from: 0))
        XCTAssertNil(FieldBytes.headEnd(in: ByteBuffer(string: "HTTP/1.1 200 OK\n\n"), from: 0))
    }

    func testParsesStatusFieldsAndFraming() throws {
        let head = try parse(
            "HTTP/1.1 201 Created\r\nContent-Type: text/plain\r\nContent-Length:  12 \r\nX-Empty:\r\n\r\n")
        XCTAssertEqual(head.status, 201)
        XCTAssertEqual(head.versionMinor, 1)
        XCTAssertEqual(head.contentLength, 12)
        XCTAssertFalse(head.isChunked)
        XCTAssertTrue(head.keepAlive)
        XCTAssertEqual(head.fields.count, 3)
        XCTAssertEqual(head.value(of: head.fields[1]), "12")
        XCTAssertEqual(head.value(of: head.fields[2]), "")
        XCTAssertTrue(head.nameEquals(head.fields[0], lowercase: "content-type"))
        XCTAssertEqual(head.framing(requestWasHead: false), .length(12))
        XCTAssertEqual(head.framing(requestWasHead: true), .none)
    }

    func testFramingRules() throws {
        XCTAssertEqual(
            try parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n").framing(requestWasHead: false),
            .chunked)
        XCTAssertEqual(try parse("HTTP/1.1 200 OK\r\n\r\n").framing(requestWasHead: false), .untilClose)
        XCTAssertEqual(
            try parse("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n").framing(requestWasHead: false), .none)
        XCTAssertEqual(try parse("HTTP/1.1 304 Not Modified\r\n\r\n").framing(requestWasHead: false), .none)
        XCTAssertEqual(try parse("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").framing(requestWasHead: false), .none)
        XCTAssertEqual(
            try parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").framing(requestWasHead: false), .chunked)
        XCTAssertFalse(
            try parse("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n").keepAlive)
        let gzipOnly = try parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n")
        XCTAssertEqual(gzipOnly.framing(requestWasHead: false), .untilClose)
        XCTAssertFalse(gzipOnly.keepAlive)
    }

    func testKeepAliveByVersionAndConnection() throws {
        XCTAssertFalse(try parse("HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 0\r\n\r\n").keepAlive)
        XCTAssertFalse(try parse("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").keepAlive)
        XCTAssertTrue(try parse("HTTP/1.0 200 OK\r\nConnection: x, keep-alive\r\nContent-Length: 0\r\n\r\n").keepAlive)
    }

    func testRejectsWhatCouldDesynchroniseTheConnection() {
        assertRejected("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", .conflictingFraming)
        assertRejected(
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", .conflictingFraming)
        assertRejected("HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n", .conflictingFraming)
        assertRejected("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n", .conflictingFraming)
        assertRejected("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", .conflictingFraming)
        assertRejected("HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", .malformedHeader)
        assertRejected("HTTP/1.1 200 OK\r\nName : x\r\n\r\n", .malformedHeader)
        assertRejected("HTTP/1.1 200 OK\r\n folded: x\r\n\r\n", .malformedHeader)
        assertRejected("HTTP/1.1 200 OK\r\nA: b\nC: d\r\n\r\n", .malformedHeader)
        assertRejected("HTTP/1.1 200 OK\r\nA: b\u{0}c\r\n\r\n", .malformedHeader)
        assertRejected("HTTP/2.0 200 OK\r\n\r\n", .malformedStatusLine)
        assertRejected("HTTP/1.1 2x0 OK\r\n\r\n", .malformedStatusLine)
        assertRejected("HTTP/1.1 099 Low\r\n\r\n", .malformedStatusLine)
        assertRejected("HTTP/1.1 2040 X\r\n\r\n", .malformedStatusLine)
        assertRejected("HTTP/1.1 600 Nope\r\n\r\n", .malformedStatusLine)
        assertRejected("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", .unsupportedUpgrade)
    }

    func testChunkedScannerFindsTheEndAcrossSplits() throws {
        let body = "5\r\nhello\r\n1A;ext=1\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: t\r\n\r\nNEXT"
        let bytes = Array(body.utf8)
        // Every split point: the result must not depend on how the bytes arrive.
        for split in 0...bytes.count {
            var scanner = ChunkedBodyScanner()
            var data = ""
            var consumed = 0
            for part in [bytes[0..<split], bytes[split...]] where !part.isEmpty && !scanner.isDone {
                consumed += try scanner.scan(ByteBuffer(bytes: part)) { data += String(buffer: $0) }
            }
            XCTAssertTrue(scanner.isDone, "split \(split)")
            XCTAssertEqual(consumed, bytes.count - 4, "split \(split)")
            XCTAssertEqual(data, "helloabcdefghijklmnopqrstuvwxyz", "split \(split)")
        }
    }

    func testChunkedScannerRejectsMalformedFraming() {
        for bad in [
            "x\r\n", "5\r\nhelloXX", "5\nhello\r\n", "\r\n", "FFFFFFFFFFFFFFFFF\r\n", "0\r\nbad\ntrailer\r\n\r\n",
        ] {
            var scanner = ChunkedBodyScanner()
            XCTAssertThrowsError(try scanner.scan(ByteBuffer(string: bad)) { _ in }, bad)
        }
    }
}

final class DownstreamHeadWriterTests: XCTestCase {
    private func write(
        _ text: String, framing: DownstreamHeadWriter.ClientFraming, operations: HeaderOperations = HeaderOperations(),
        keepAlive: Bool = true, clientVersionMinor: Int = 1
    ) throws -> String {
        let head = try UpstreamResponseParser.parse(ByteBuffer(string: text))
        let options = DownstreamHeadWriter.Options(
            requestID: RequestID(passedOn: "rid"), operations: operations, framing: framing, keepAlive: keepAlive,
            clientVersionMinor: clientVersionMinor)
        var bytes = ByteBuffer()
        DownstreamHeadWriter.writeProxiedHead(head, options: options, into: &bytes)
        return String(buffer: bytes)
    }

    func testProxiedHeadDropsHopByHopAndAppliesRules() throws {
        let written = try write(
            "HTTP/1.1 200 OK\r\nServer: origin\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\n"
                + "Keep-Alive: timeout=5\r\nTransfer-Encoding: chunked\r\nX-Kept: yes\r\nX-Replaced: old\r\n\r\n",
            framing: .chunked,
            operations: .init(set: [.init(name: "X-Replaced", value: "new")], remove: ["server"]))
        XCTAssertEqual(
            written,
            "HTTP/1.1 200 OK\r\nX-Kept: yes\r\ntransfer-encoding: chunked\r\nX-Replaced: new\r\nx-request-id: rid\r\n\r\n"
        )
    }

    func testFramingCannotBeRemovedByConnectionOrRouteRules() throws {
        let written = try write(
            "HTTP/1.1 200 OK\r\nConnection: content-length, transfer-encoding\r\nContent-Length: 5\r\n\r\n",
            framing: .contentLength(5), operations: .init(remove: ["content-length"]))
        XCTAssertEqual(written, "HTTP/1.1 200 OK\r\ncontent-length: 5\r\nx-request-id: rid\r\n\r\n")
    }

    func testHeadResponseKeepsItsContentLengthOnce() throws {
        let written = try write(
            "HTTP/1.1 200 OK\r\nContent-Length: 42\r\nContent-Length: 42\r\n\r\n", framing: .noBody)
        XCTAssertEqual(written, "HTTP/1.1 200 OK\r\nContent-Length: 42\r\nx-request-id: rid\r\n\r\n")
    }

    func testHTTP10ClientAndClose() throws {
        let text = "HTTP/1.0 404 Not Found\r\nContent-Length: 3\r\nX-Request-Id: up\r\n\r\n"
        XCTAssertEqual(
            try write(text, framing: .contentLength(3), clientVersionMinor: 0),
            "HTTP/1.1 404 Not Found\r\nX-Request-Id: up\r\ncontent-length: 3\r\nconnection: keep-alive\r\n\r\n")
        XCTAssertTrue(try write(text, framing: .untilClose, keepAlive: false).hasSuffix("connection: close\r\n\r\n"))
    }

    func testLocalHeadForHTTP10KeepAlive() {
        let head = DownstreamHeadWriter.localHead(
            status: .notFound, contentType: "application/json", contentLength: 2, date: "d", requestID: "r",
            keepAlive: true, clientVersionMinor: 0, allocator: .init())
        XCTAssertTrue(String(buffer: head).hasSuffix("x-request-id: r\r\nconnection: keep-alive\r\n\r\n"))
    }
}
