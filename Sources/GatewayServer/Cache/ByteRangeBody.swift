import GatewayConfig
import HTTPCaching
import NIOCore

/// The body and fields of a 206 cut from a stored entry: one part is a slice of the stored
/// body (no copy); several are a multipart/byteranges document (RFC 9110 14.6).
enum ByteRangeBody {
    static func make(_ ranges: [ClosedRange<Int>], of entry: CacheEntry, allocator: ByteBufferAllocator) -> (
        body: ByteBuffer, fields: [HeaderField]
    ) {
        let total = entry.body.readableBytes
        if ranges.count == 1, let range = ranges.first {
            let slice =
                entry.body.getSlice(at: entry.body.readerIndex + range.lowerBound, length: range.count) ?? ByteBuffer()
            return (
                slice,
                [HeaderField(name: "Content-Range", value: "bytes \(range.lowerBound)-\(range.upperBound)/\(total)")]
            )
        }
        let boundary = "gateway-" + String(UInt64.random(in: .min ... .max), radix: 16)
        let contentType = entry.field("content-type")
        var body = allocator.buffer(capacity: ranges.reduce(0) { $0 + $1.count + 128 })
        for range in ranges {
            body.writeString("\r\n--\(boundary)\r\n")
            if let contentType { body.writeString("Content-Type: \(contentType)\r\n") }
            body.writeString("Content-Range: bytes \(range.lowerBound)-\(range.upperBound)/\(total)\r\n\r\n")
            if var part = entry.body.getSlice(at: entry.body.readerIndex + range.lowerBound, length: range.count) {
                body.writeBuffer(&part)
            }
        }
        body.writeString("\r\n--\(boundary)--\r\n")
        return (body, [HeaderField(name: "Content-Type", value: "multipart/byteranges; boundary=\(boundary)")])
    }
}
