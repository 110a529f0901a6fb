import NIOCore

/// Renders a `GatewayError` as the JSON body users rely on (the head is DownstreamHeadWriter's):
/// `{"error": "...", "message": "...", "request_id": "..."}`.
enum ErrorResponse {
    static func body(for error: GatewayError, requestID: String, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 96 + error.message.utf8.count + requestID.utf8.count)
        buffer.writeStaticString("{\"error\":\"")
        writeEscaped(error.code, to: &buffer)
        buffer.writeStaticString("\",\"message\":\"")
        writeEscaped(error.message, to: &buffer)
        buffer.writeStaticString("\",\"request_id\":\"")
        writeEscaped(requestID, to: &buffer)
        buffer.writeStaticString("\"}\n")
        return buffer
    }

    /// Request ids can come from clients, so everything is escaped as a JSON string.
    static func writeEscaped(_ string: String, to buffer: inout ByteBuffer) {
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): buffer.writeStaticString("\\\"")
            case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
            case 0..<0x20:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                buffer.writeStaticString("\\u00")
                buffer.writeInteger(hex[Int(byte >> 4)])
                buffer.writeInteger(hex[Int(byte & 0xF)])
            default: buffer.writeInteger(byte)
            }
        }
    }
}
