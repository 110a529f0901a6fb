import NIOCore

/// Reads a stored field block (`Name: value\r\n` lines, written by the cache, so every line has
/// a colon and a CRLF). One scanner for the store's own lookups and the data plane's rewriting.
public enum StoredFields {
    /// Calls `body` with each line's name and whole bytes (CRLF included).
    public static func forEachLine(of block: ByteBuffer, _ body: (Substring, UnsafeRawBufferPointer) -> Void) {
        block.withUnsafeReadableBytes { bytes in
            var start = 0
            while start < bytes.count {
                var end = start
                while end + 1 < bytes.count, !(bytes[end] == 13 && bytes[end + 1] == 10) { end += 1 }
                let lineEnd = min(end + 2, bytes.count)
                var colon = start
                while colon < end, bytes[colon] != UInt8(ascii: ":") { colon += 1 }
                let name = Substring(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<colon]), as: UTF8.self)
                body(name, UnsafeRawBufferPointer(rebasing: bytes[start..<lineEnd]))
                start = lineEnd
            }
        }
    }

    /// The value of a line: after the colon and its spaces, before the CRLF.
    public static func value(ofLine line: UnsafeRawBufferPointer, nameLength: Int) -> String {
        var start = nameLength + 1
        while start < line.count, line[start] == UInt8(ascii: " ") || line[start] == UInt8(ascii: "\t") { start += 1 }
        var end = max(start, line.count - 2)
        while end > start, line[end - 1] == UInt8(ascii: " ") || line[end - 1] == UInt8(ascii: "\t") { end -= 1 }
        return String(decoding: UnsafeRawBufferPointer(rebasing: line[start..<end]), as: UTF8.self)
    }
}
