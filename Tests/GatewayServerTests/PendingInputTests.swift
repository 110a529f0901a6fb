import NIOCore
import XCTest

@testable import GatewayServer

final class PendingInputTests: XCTestCase {
    /// A client whose every read ends inside a request must not make the connection hold all it
    /// ever sent (the read part was kept before appending once).
    func testReadBytesAreDroppedBeforeAppending() {
        var input = PendingInput()
        for _ in 0..<10_000 {
            var read = ByteBuffer(string: String(repeating: "x", count: 100))
            input.append(&read)
            input.bytes.moveReaderIndex(forwardBy: input.bytes.readableBytes - 1)
            input.releaseIfConsumed()
        }
        XCTAssertEqual(input.bytes.readableBytes, 1)
        XCTAssertLessThanOrEqual(input.bytes.capacity, 4096)
    }

    func testFullyReadInputIsLetGo() {
        var input = PendingInput()
        var read = ByteBuffer(string: "GET / HTTP/1.1\r\n\r\n")
        input.append(&read)
        input.bytes.moveReaderIndex(forwardBy: input.bytes.readableBytes)
        input.releaseIfConsumed()
        XCTAssertEqual(input.bytes.capacity, 0)
    }
}
