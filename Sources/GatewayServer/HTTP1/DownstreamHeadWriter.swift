import GatewayConfig
import NIOCore
import NIOHTTP1

/// Writes response heads for the client as bytes. A proxied head is the upstream's, copied line by
/// line, minus hop-by-hop fields and fields the route removes or sets, plus the gateway's own.
enum DownstreamHeadWriter {
    /// How the body that follows is framed for the client.
    enum ClientFraming {
        /// No body follows (HEAD, 204, 304): the upstream's Content-Length is kept as it is, since
        /// it describes the representation, not this message.
        case noBody
        case contentLength(Int)
        /// The chunked bytes go out as they came.
        case chunked
        /// The body ends when the connection closes (de-chunked for HTTP/1.0, or close-delimited).
        case untilClose
        /// A 101: the upstream's `Upgrade` is kept and the connection becomes a tunnel.
        case switchingProtocols
    }

    struct Options {
        var requestID: RequestID
        var operations: HeaderOperations
        var framing: ClientFraming
        var keepAlive: Bool
        var clientVersionMinor: Int
    }

    /// Enough for the head without growing the buffer in the usual case.
    static func capacity(for head: UpstreamResponseHead) -> Int {
        head.block.readableBytes + 128
    }

    /// Appends the head to `output` (a recycled buffer, so a keep-alive connection allocates none).
    static func writeProxiedHead(_ head: UpstreamResponseHead, options: Options, into output: inout ByteBuffer) {
        output.writeHead(estimatedSize: capacity(for: head)) { writer in
            let connectionNamed = head.connectionNamesFields ? connectionNamedFields(head) : []
            var sawRequestID = false
            head.block.withUnsafeReadableBytes { bytes in
                writer.append("HTTP/1.1 ")
                // From the status code (offset 9, after "HTTP/1.x ") to the end of the reason phrase.
                writer.append(UnsafeRawBufferPointer(rebasing: bytes[9..<head.statusLineEnd]))
                writer.append("\r\n")

                // Kept lines are copied in runs: adjacent kept fields are adjacent bytes in the block.
                var runStart = 0
                var runEnd = 0
                var wroteContentLength = false
                for field in head.fields {
                    switch field.kind {
                    case .hopByHop, .transferEncoding:
                        // Framing is written below from what the gateway actually does with the body;
                        // nothing the upstream says (not even `Connection: content-length`) changes that.
                        continue
                    case .upgrade:
                        guard case .switchingProtocols = options.framing else { continue }
                    case .contentLength:
                        guard case .noBody = options.framing, !wroteContentLength else { continue }
                        wroteContentLength = true
                    case .requestID:
                        sawRequestID = true
                    case .other:
                        if !connectionNamed.isEmpty,
                            connectionNamed.contains(where: { head.nameEquals(field, lowercase: $0) })
                        {
                            continue
                        }
                        if !options.operations.isEmpty,
                            isReplacedByRoute(field, head: head, operations: options.operations)
                        {
                            continue
                        }
                    }
                    if field.lineStart != runEnd {
                        writer.append(UnsafeRawBufferPointer(rebasing: bytes[runStart..<runEnd]))
                        runStart = field.lineStart
                    }
                    runEnd = field.lineEnd
                }
                writer.append(UnsafeRawBufferPointer(rebasing: bytes[runStart..<runEnd]))
            }
            switch options.framing {
            case .noBody, .untilClose: break
            case .switchingProtocols: writer.append("connection: upgrade\r\n")
            case .contentLength(let length): writer.appendFraming(contentLength: length, chunked: false)
            case .chunked: writer.appendFraming(contentLength: nil, chunked: true)
            }
            for field in options.operations.set {
                writer.appendField(field.name, field.value)
            }
            for field in options.operations.add {
                writer.appendField(field.name, field.value)
            }
            writer.appendClientTail(
                requestID: sawRequestID ? nil : options.requestID, keepAlive: options.keepAlive,
                clientVersionMinor: options.clientVersionMinor)
        }
    }

    /// The head of a response the gateway makes itself (errors, refusals).
    static func localHead(
        status: HTTPResponseStatus, contentType: StaticString, contentLength: Int, date: String, requestID: String,
        keepAlive: Bool, clientVersionMinor: Int, allocator: ByteBufferAllocator, extraFields: [HeaderField] = []
    ) -> ByteBuffer {
        var output = allocator.buffer(capacity: 192 + extraFields.count * 48)
        output.writeStaticString("HTTP/1.1 ")
        output.writeString(String(status.code))
        output.writeStaticString(" ")
        output.writeString(status.reasonPhrase)
        output.writeStaticString("\r\ncontent-type: ")
        output.writeStaticString(contentType)
        output.writeStaticString("\r\ncontent-length: ")
        output.writeString(String(contentLength))
        output.writeStaticString("\r\ndate: ")
        output.writeString(date)
        output.writeStaticString("\r\nx-request-id: ")
        output.writeString(requestID)
        for field in extraFields {
            output.writeStaticString("\r\n")
            output.writeString(field.name)
            output.writeStaticString(": ")
            output.writeString(field.value)
        }
        if !keepAlive {
            output.writeStaticString("\r\nconnection: close\r\n\r\n")
        } else if clientVersionMinor == 0 {
            output.writeStaticString("\r\nconnection: keep-alive\r\n\r\n")
        } else {
            output.writeStaticString("\r\n\r\n")
        }
        return output
    }

    private static func isReplacedByRoute(
        _ field: UpstreamResponseHead.Field, head: UpstreamResponseHead, operations: HeaderOperations
    ) -> Bool {
        for name in operations.remove where head.nameEquals(field, lowercase: name) { return true }
        for set in operations.set where head.nameEqualsIgnoringCase(field, set.name) { return true }
        return false
    }

    /// Fields named by `Connection` (other than the keep-alive/close options), lowercased. Empty,
    /// and allocation-free, for the usual `Connection: keep-alive`.
    private static func connectionNamedFields(_ head: UpstreamResponseHead) -> [String] {
        var names: [String] = []
        for field in head.fields where field.nameLength == 10 && head.nameEquals(field, lowercase: "connection") {
            ConnectionOptions.namedFields(in: Substring(head.value(of: field)), into: &names)
        }
        return names
    }
}
