import NIOCore

/// The pieces both head writers (to the upstream and to the client) emit the same way.
extension ByteBuffer {
    mutating func writeHeaderField(_ name: String, _ value: String) {
        writeString(name)
        writeStaticString(": ")
        writeString(value)
        writeStaticString("\r\n")
    }

    /// `content-length: N` or `transfer-encoding: chunked`, or nothing, for a body the gateway frames.
    mutating func writeFramingField(contentLength: Int?, chunked: Bool) {
        if chunked {
            writeStaticString("transfer-encoding: chunked\r\n")
        } else if let contentLength {
            writeStaticString("content-length: ")
            writeString(String(contentLength))
            writeStaticString("\r\n")
        }
    }
}

enum ConnectionOptions {
    /// Field names a `Connection` value lists beyond its keep-alive/close options, lowercased
    /// (RFC 9110 7.6.1). `host` is never one: stripping it would break routing upstream.
    static func namedFields(in value: Substring, into names: inout [String]) {
        for token in value.split(separator: ",") {
            let name = token.trimmingSpaces().lowercased()
            if !name.isEmpty && name != "keep-alive" && name != "close" && name != "host" {
                names.append(name)
            }
        }
    }
}
