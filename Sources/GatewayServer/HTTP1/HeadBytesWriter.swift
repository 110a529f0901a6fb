import NIOCore

/// Appends a head's pieces straight into a buffer's spare capacity: one pointer bump per piece
/// instead of `ByteBuffer`'s uniqueness and capacity checks on every write (those were the largest
/// cost of building heads). Every append is checked against the space reserved; if it runs out,
/// `ByteBuffer.writeHead` starts again with twice the space, so an estimate can never overflow.
struct HeadBytesWriter {
    private let base: UnsafeMutableRawBufferPointer
    private(set) var count = 0
    private(set) var overflowed = false

    init(_ base: UnsafeMutableRawBufferPointer) {
        self.base = base
    }

    @inline(__always)
    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard !overflowed, bytes.count <= base.count - count else {
            overflowed = true
            return
        }
        if let source = bytes.baseAddress, let destination = base.baseAddress {
            (destination + count).copyMemory(from: source, byteCount: bytes.count)
        }
        count += bytes.count
    }

    @inline(__always)
    mutating func append(_ string: StaticString) {
        string.withUTF8Buffer { append(UnsafeRawBufferPointer($0)) }
    }

    mutating func append(_ string: String) {
        let appended: Void? = string.utf8.withContiguousStorageIfAvailable { append(UnsafeRawBufferPointer($0)) }
        if appended == nil {
            for byte in string.utf8 { withUnsafeBytes(of: byte) { append($0) } }
        }
    }

    mutating func append(_ buffer: ByteBuffer) {
        buffer.withUnsafeReadableBytes { append($0) }
    }

    mutating func appendDecimal(_ value: Int) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        let length = withUnsafeMutableBytes(of: &digits) { scratch in
            var remaining = value.magnitude
            var index = scratch.count
            repeat {
                index -= 1
                scratch[index] = UInt8(truncatingIfNeeded: 48 + remaining % 10)
                remaining /= 10
            } while remaining > 0 && index > 0
            if value < 0 && index > 0 {
                index -= 1
                scratch[index] = 45
            }
            return scratch.count - index
        }
        withUnsafeBytes(of: &digits) { append(UnsafeRawBufferPointer(rebasing: $0[($0.count - length)...])) }
    }

    /// `name: value` CRLF.
    mutating func appendField(_ name: String, _ value: String) {
        append(name)
        append(": ")
        append(value)
        append("\r\n")
    }

    /// The end of every head sent to a client: the request id (unless the response has one),
    /// the connection's fate for this client, and the empty line.
    mutating func appendClientTail(requestID: RequestID?, keepAlive: Bool, clientVersionMinor: Int) {
        if let requestID {
            append("x-request-id: ")
            requestID.append(to: &self)
            append("\r\n")
        }
        if !keepAlive {
            append("connection: close\r\n")
        } else if clientVersionMinor == 0 {
            append("connection: keep-alive\r\n")
        }
        append("\r\n")
    }

    /// `content-length: N` or `transfer-encoding: chunked`, or nothing, for a body the gateway frames.
    mutating func appendFraming(contentLength: Int?, chunked: Bool) {
        if chunked {
            append("transfer-encoding: chunked\r\n")
        } else if let contentLength {
            append("content-length: ")
            appendDecimal(contentLength)
            append("\r\n")
        }
    }
}

extension ByteBuffer {
    /// Writes what `body` appends, reserving `estimatedSize` bytes first (more if it did not fit).
    mutating func writeHead(estimatedSize: Int, _ body: (inout HeadBytesWriter) -> Void) {
        var reserve = max(estimatedSize, 64)
        while true {
            var fitted = false
            writeWithUnsafeMutableBytes(minimumWritableBytes: reserve) { space in
                var writer = HeadBytesWriter(space)
                body(&writer)
                fitted = !writer.overflowed
                return fitted ? writer.count : 0
            }
            if fitted { return }
            reserve *= 2
        }
    }
}
