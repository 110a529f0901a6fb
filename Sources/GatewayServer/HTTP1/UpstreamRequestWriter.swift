import GatewayConfig
import NIOCore

/// Writes the request head the upstream receives, straight from the client's head bytes: one
/// pass over its fields (classified by the parser), each copied as it arrived or skipped, then the
/// gateway's own fields.
///
/// Skipped: hop-by-hop fields and those `Connection` names (RFC 9110 7.6.1), the client's framing
/// fields (the gateway frames the body itself, see `Framing`), `Expect` (the gateway answers it),
/// fields the route removes or sets, and the fields re-written below.
/// Written: the route's set/add fields; `X-Forwarded-For/-Proto/-Host`, extended from a trusted
/// proxy and replaced for anyone else (so clients cannot spoof their address); `Via` extended;
/// `X-Request-Id`; with tracing, the attempt's `traceparent` in place of the client's (last, so a
/// retry can put its own span id in place: `replaceTraceParent`).
enum UpstreamRequestWriter {
    enum Framing {
        case none
        case contentLength(Int)
        case chunked
    }

    /// What a connection's requests say about where they came from, with the lines that are the
    /// same for each of them rendered once.
    struct Forwarding {
        let client: ClientAddress
        let scheme: String
        let via: String
        /// `x-forwarded-for: IP` and `x-forwarded-proto: SCHEME` lines, for a request that brings no
        /// trusted forwarding fields of its own (the usual case).
        let clientLines: ByteBuffer
        /// `via: VIA`, for a request that brings no `Via` of its own.
        let viaLine: ByteBuffer

        init(client: ClientAddress, scheme: String, via: String) {
            self.client = client
            self.scheme = scheme
            self.via = via
            clientLines = ByteBuffer(string: "x-forwarded-for: \(client.ip)\r\nx-forwarded-proto: \(scheme)\r\n")
            viaLine = ByteBuffer(string: "via: \(via)\r\n")
        }
    }

    /// The trace fields the upstream gets instead of the client's.
    struct TraceFields {
        /// 55 bytes: `00-<trace id>-<span id>-<flags>`.
        let traceParent: String
        let dropsTraceState: Bool
    }

    /// Enough for the head without growing the buffer in the usual case.
    static func capacity(for request: RequestHead, target: String) -> Int {
        request.block.readableBytes + target.utf8.count + 256
    }

    /// Appends the head to `output` (a recycled buffer, so a keep-alive connection allocates none).
    static func write(
        _ request: RequestHead, target: String, operations: HeaderOperations, forwarding: Forwarding,
        requestID: RequestID, framing: Framing, trace: TraceFields? = nil, into output: inout ByteBuffer
    ) {
        output.writeHead(estimatedSize: capacity(for: request, target: target)) { writer in
            writer.append(request.method.rawValue)
            writer.append(" ")
            writer.append(target)
            writer.append(" HTTP/1.1\r\n")

            let connectionNamed = request.connectionNamesFields ? connectionNamedFields(request) : []
            let trusted = forwarding.client.isTrustedProxy
            var forwardedFor: String?
            var forwardedProto: Int?
            var forwardedHost: Int?
            var via: String?
            request.block.withUnsafeReadableBytes { bytes in
                // Kept lines are copied as they arrived, in runs: adjacent kept fields are adjacent bytes.
                var runStart = 0
                var runEnd = 0
                for (index, field) in request.fields.enumerated() {
                    switch field.kind {
                    case .dropped, .connection, .requestID:
                        continue
                    case .upgrade:
                        if !request.isUpgrade { continue }
                    case .host:
                        // An absolute-form target's authority is the Host (written below).
                        if request.authority != nil { continue }
                    case .forwardedFor:
                        if trusted {
                            let value = request.value(of: index)
                            forwardedFor = forwardedFor.map { $0 + ", " + value } ?? value
                        }
                        continue
                    case .forwardedProto:
                        if trusted { forwardedProto = index }
                        continue
                    case .forwardedHost:
                        if trusted { forwardedHost = index }
                        continue
                    case .via:
                        let value = request.value(of: index)
                        via = via.map { $0 + ", " + value } ?? value
                        continue
                    case .traceParent where trace != nil:
                        continue
                    case .traceState where trace?.dropsTraceState == true:
                        continue
                    case .other, .traceParent, .traceState:
                        if !connectionNamed.isEmpty,
                            connectionNamed.contains(where: {
                                FieldBytes.equalsIgnoringCase(bytes, Int(field.nameStart), Int(field.nameLength), $0)
                            })
                        {
                            continue
                        }
                    }
                    if !operations.isEmpty, isReplacedByRoute(bytes, field, operations) { continue }
                    if Int(field.nameStart) != runEnd {
                        writer.append(UnsafeRawBufferPointer(rebasing: bytes[runStart..<runEnd]))
                        runStart = Int(field.nameStart)
                    }
                    runEnd = Int(field.lineEnd)
                }
                writer.append(UnsafeRawBufferPointer(rebasing: bytes[runStart..<runEnd]))
            }
            // With tracing, the gateway's traceparent is the one the upstream gets (and it must be
            // the last field: replaceTraceParent finds it there).
            for field in operations.set where trace == nil || !isTraceParent(field.name) {
                writer.appendField(field.name, field.value)
            }
            for field in operations.add where trace == nil || !isTraceParent(field.name) {
                writer.appendField(field.name, field.value)
            }

            if forwardedFor == nil && forwardedProto == nil {
                writer.append(forwarding.clientLines)
            } else {
                writer.append("x-forwarded-for: ")
                if let forwardedFor {
                    writer.append(forwardedFor)
                    writer.append(", ")
                }
                writer.append(forwarding.client.ip)
                writer.append("\r\nx-forwarded-proto: ")
                writeValue(of: forwardedProto, in: request, orString: forwarding.scheme, to: &writer)
                writer.append("\r\n")
            }
            if let authority = request.authority {
                writer.append("host: ")
                writer.append(authority)
                writer.append("\r\n")
            }
            if forwardedHost != nil || request.authority != nil || request.hostField != nil {
                writer.append("x-forwarded-host: ")
                writeValue(
                    of: forwardedHost ?? (request.authority == nil ? request.hostField : nil), in: request,
                    orString: request.authority ?? "", to: &writer)
                writer.append("\r\n")
            }
            if let via {
                writer.append("via: ")
                writer.append(via)
                writer.append(", ")
                writer.append(forwarding.via)
                writer.append("\r\n")
            } else {
                writer.append(forwarding.viaLine)
            }
            writer.append("x-request-id: ")
            requestID.append(to: &writer)
            writer.append("\r\n")
            if request.isUpgrade { writer.append("connection: upgrade\r\n") }
            switch framing {
            case .none: break
            case .contentLength(let length): writer.appendFraming(contentLength: length, chunked: false)
            case .chunked: writer.appendFraming(contentLength: nil, chunked: true)
            }
            if let trace {
                writer.append(traceParentName)
                writer.append(trace.traceParent)
                writer.append("\r\n")
            }
            writer.append("\r\n")
        }
    }

    private static let traceParentName = "traceparent: "

    private static func isTraceParent(_ name: String) -> Bool {
        name.utf8.count == 11 && name.lowercased() == "traceparent"
    }

    /// Puts a retry's `traceparent` (same length: only the span id differs) where `write` put the
    /// first attempt's, at the end of `head`. False if `head` does not end with one.
    @discardableResult
    static func replaceTraceParent(_ value: String, in head: inout ByteBuffer) -> Bool {
        let valueLength = value.utf8.count
        let valueStart = head.writerIndex - 4 - valueLength
        let nameStart = valueStart - traceParentName.utf8.count
        guard nameStart >= head.readerIndex,
            head.getString(at: nameStart, length: traceParentName.utf8.count) == traceParentName,
            head.getString(at: head.writerIndex - 4, length: 4) == "\r\n\r\n"
        else { return false }
        head.setString(value, at: valueStart)
        return true
    }

    private static func writeValue(
        of field: Int?, in request: RequestHead, orString fallback: String, to writer: inout HeadBytesWriter
    ) {
        guard let field else {
            writer.append(fallback)
            return
        }
        let value = request.fields[field]
        request.block.withUnsafeReadableBytes { bytes in
            writer.append(UnsafeRawBufferPointer(rebasing: bytes[Int(value.valueStart)..<value.valueEnd]))
        }
    }

    /// Chunk framing pieces (RFC 9112 7.1) for re-chunking a request body.
    static func chunkHeader(size: Int, allocator: ByteBufferAllocator) -> ByteBuffer {
        var header = allocator.buffer(capacity: 20)
        header.writeString(String(size, radix: 16))
        header.writeStaticString("\r\n")
        return header
    }

    static let chunkTrailer = ByteBuffer(staticString: "\r\n")
    static let lastChunk = ByteBuffer(staticString: "0\r\n\r\n")

    /// `data` as one complete chunk in a single buffer (for the HTTP/2 bridges, which hand each
    /// piece on as one read).
    static func chunk(_ data: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        var chunk = chunkHeader(size: data.readableBytes, allocator: allocator)
        chunk.reserveCapacity(minimumWritableBytes: data.readableBytes + 2)
        chunk.writeImmutableBuffer(data)
        chunk.writeImmutableBuffer(chunkTrailer)
        return chunk
    }

    private static func isReplacedByRoute(
        _ bytes: UnsafeRawBufferPointer, _ field: RequestHead.Field, _ operations: HeaderOperations
    ) -> Bool {
        let start = Int(field.nameStart)
        let length = Int(field.nameLength)
        for removed in operations.remove where FieldBytes.equalsIgnoringCase(bytes, start, length, removed) {
            return true
        }
        for set in operations.set where FieldBytes.equalsIgnoringCase(bytes, start, length, set.name) {
            return true
        }
        return false
    }

    /// Names listed in `Connection` other than its keep-alive/close options, lowercased.
    private static func connectionNamedFields(_ request: RequestHead) -> [String] {
        var names: [String] = []
        for (index, field) in request.fields.enumerated() where field.kind == .connection {
            ConnectionOptions.namedFields(in: Substring(request.value(of: index)), into: &names)
        }
        return names
    }
}
