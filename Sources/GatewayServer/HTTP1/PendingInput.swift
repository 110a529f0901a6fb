import NIOCore

/// Client bytes not parsed yet. Appending compacts first, so a connection that always leaves a
/// partial request behind holds only its unread bytes, never everything it ever sent; once all is
/// read the buffer is let go, so NIO can reuse its receive buffer (it does only when nobody else
/// holds it).
struct PendingInput {
    private static let empty = ByteBuffer()
    var bytes = PendingInput.empty

    mutating func append(_ buffer: inout ByteBuffer) {
        if bytes.readableBytes == 0 {
            bytes = buffer
            return
        }
        if bytes.readerIndex > 0 {
            bytes.discardReadBytes()
        }
        bytes.writeBuffer(&buffer)
    }

    mutating func releaseIfConsumed() {
        if bytes.readableBytes == 0 {
            bytes = Self.empty
        }
    }

    mutating func clear() {
        bytes = Self.empty
    }
}
