import GatewayConfig
import NIOCore
import NIOHTTP1

/// A gateway error for a gRPC client (request `content-type: application/grpc…`): gRPC clients
/// read the status from trailers, not from the HTTP status, so the answer is HTTP 200 with no
/// messages and `grpc-status`/`grpc-message` as trailers (written here as chunked trailers,
/// which `HTTP2StreamBridge` turns into the stream's trailing HEADERS frame).
enum GRPCErrorResponse {
    /// gRPC's "HTTP to gRPC status code mapping" (doc/http-grpc-status-mapping.md), which gRPC
    /// clients apply themselves to a non-200 answer: 400 INTERNAL, 401 UNAUTHENTICATED,
    /// 403 PERMISSION_DENIED, 404 UNIMPLEMENTED, 429/502/503/504 UNAVAILABLE, else UNKNOWN.
    static func status(for error: GatewayError) -> Int {
        switch error.status.code {
        case 400: return 13
        case 401: return 16
        case 403: return 7
        case 404: return 12
        case 429, 502, 503, 504: return 14
        default: return 2
        }
    }

    static func bytes(
        for error: GatewayError, requestID: String, extraFields: [HeaderField], allocator: ByteBufferAllocator
    ) -> ByteBuffer {
        var output = allocator.buffer(capacity: 256 + extraFields.count * 48)
        output.writeStaticString(
            "HTTP/1.1 200 OK\r\ncontent-type: application/grpc\r\ntransfer-encoding: chunked\r\nx-request-id: ")
        output.writeString(requestID)
        output.writeStaticString("\r\nx-gateway-error: ")
        output.writeString(error.code)
        for field in extraFields {
            output.writeStaticString("\r\n")
            output.writeString(field.name)
            output.writeStaticString(": ")
            output.writeString(field.value)
        }
        output.writeStaticString("\r\n\r\n0\r\ngrpc-status: ")
        output.writeString(String(status(for: error)))
        output.writeStaticString("\r\ngrpc-message: ")
        output.writeString(percentEncoded(error.message))
        output.writeStaticString("\r\n\r\n")
        return output
    }

    /// grpc-message is percent-encoded (PROTOCOL-HTTP2.md): bytes outside 0x20–0x7E, and '%'.
    static func percentEncoded(_ message: String) -> String {
        var encoded = ""
        for byte in message.utf8 {
            if byte >= 0x20 && byte <= 0x7E && byte != 0x25 {
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                encoded += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            }
        }
        return encoded
    }
}
