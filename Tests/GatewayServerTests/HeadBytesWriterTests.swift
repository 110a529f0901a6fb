import NIOCore
import XCTest

@testable import GatewayServer

final class HeadBytesWriterTests: XCTestCase {
    func testEstimateTooSmallIsRetriedWithMoreSpace() {
        var buffer = ByteBufferAllocator().buffer(capacity: 0)
        buffer.writeStaticString("prefix|")
        let long = String(repeating: "x", count: 5000)
        var runs = 0
        buffer.writeHead(estimatedSize: 16) { writer in
            runs += 1
            writer.append("GET ")
            writer.append(long)
            writer.appendField("a", "b")
        }
        XCTAssertGreaterThan(runs, 1)
        XCTAssertEqual(String(buffer: buffer), "prefix|GET " + long + "a: b\r\n")
    }

    func testDecimalsAndFraming() {
        var buffer = ByteBuffer()
        buffer.writeHead(estimatedSize: 256) { writer in
            for value in [0, 7, 10, 1_234_567_890, -42, Int.max] {
                writer.appendDecimal(value)
                writer.append(" ")
            }
            writer.appendFraming(contentLength: 1024, chunked: false)
            writer.appendFraming(contentLength: nil, chunked: true)
            writer.appendFraming(contentLength: nil, chunked: false)
        }
        XCTAssertEqual(
            String(buffer: buffer),
            "0 7 10 1234567890 -42 \(Int.max) content-length: 1024\r\ntransfer-encoding: chunked\r\n")
    }

    func testSmallAndLargeStringsAndBuffers() {
        var buffer = ByteBuffer()
        let large = String(repeating: "é", count: 40)
        buffer.writeHead(estimatedSize: 8) { writer in
            writer.append("ok")
            writer.append(large)
            writer.append(ByteBuffer(string: "|tail"))
        }
        XCTAssertEqual(String(buffer: buffer), "ok" + large + "|tail")
    }
}
