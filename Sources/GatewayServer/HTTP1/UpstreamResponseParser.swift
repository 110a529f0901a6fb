import NIOCore

/// Parses an upstream's response head (RFC 9112 sections 4-6) from raw bytes. Strict where a
/// lenient reading could desynchronise the connection: bare LF, obs-fold, bad field names,
/// conflicting or malformed `Content-Length`, and `Transfer-Encoding` together with
/// `Content-Length` are errors (a 502), never guesses.
enum UpstreamResponseParser {
    static let maxHeadBytes = 64 * 1024

    static func parse(_ block: ByteBuffer, allowUpgrade: Bool = false) throws(UpstreamResponseError)
        -> UpstreamResponseHead
    {
        var fieldStorage: [UpstreamResponseHead.Field] = []
        return try parse(block, fieldStorage: &fieldStorage, allowUpgrade: allowUpgrade)
    }

    /// `fieldStorage` is emptied and filled; the head shares it (so a connection reuses one array).
    /// A 101 is accepted only with `allowUpgrade` (the request asked for the switch).
    static func parse(
        _ block: ByteBuffer, fieldStorage fields: inout [UpstreamResponseHead.Field], allowUpgrade: Bool = false
    ) throws(UpstreamResponseError) -> UpstreamResponseHead {
        fields.removeAll(keepingCapacity: true)
        return try block.withUnsafeReadableBytes { (bytes) throws(UpstreamResponseError) -> UpstreamResponseHead in
            // "HTTP/1.x NNN"
            guard bytes.count >= 14, bytes[0] == 72, bytes[1] == 84, bytes[2] == 84, bytes[3] == 80, bytes[4] == 47,
                bytes[5] == 49, bytes[6] == 46, bytes[7] == 48 || bytes[7] == 49, bytes[8] == 32
            else { throw .malformedStatusLine }
            let versionMinor = Int(bytes[7] - 48)
            var status = 0
            for index in 9..<12 {
                let digit = bytes[index]
                guard digit >= 48 && digit <= 57 else { throw .malformedStatusLine }
                status = status * 10 + Int(digit - 48)
            }
            guard status >= 100, status <= 599, bytes[12] == 32 || bytes[12] == 13 else {
                throw .malformedStatusLine
            }
            var cursor = 12
            if bytes[cursor] == 32 { cursor += 1 }
            let statusTextStart = cursor
            guard let statusLineCR = FieldBytes.findCRLF(bytes, from: cursor) else {
                throw .malformedStatusLine
            }
            for index in statusTextStart..<statusLineCR where !FieldBytes.isFieldValueByte(bytes[index]) {
                throw .malformedStatusLine
            }

            fields.reserveCapacity(12)
            var contentLength: Int?
            var isChunked = false
            var sawTransferEncoding = false
            var connectionClose = false
            var connectionKeepAlive = false
            var connectionNamesFields = false
            cursor = statusLineCR + 2
            while true {
                guard cursor + 1 < bytes.count else { throw .malformedHeader }
                if bytes[cursor] == 13 && bytes[cursor + 1] == 10 { break }
                guard let (colon, valueStart, valueEnd, lineCR) = FieldBytes.scanFieldLine(bytes, lineStart: cursor)
                else { throw .malformedHeader }
                var field = UpstreamResponseHead.Field(
                    lineStart: cursor, lineEnd: lineCR + 2, nameStart: cursor, nameLength: colon - cursor,
                    valueStart: valueStart, valueLength: valueEnd - valueStart)
                let nameLength = colon - cursor
                field.kind = classify(bytes, cursor, nameLength)
                fields.append(field)
                switch field.kind {
                case .contentLength:
                    guard let parsed = FieldBytes.parseDecimal(bytes, valueStart, valueEnd) else {
                        throw .conflictingFraming
                    }
                    if let contentLength, contentLength != parsed { throw .conflictingFraming }
                    contentLength = parsed
                case .transferEncoding:
                    sawTransferEncoding = true
                    // Chunked must be the final coding (RFC 9112 6.3); anything else is read to close.
                    isChunked = FieldBytes.endsWithChunked(bytes, valueStart, valueEnd)
                case .hopByHop where nameLength == 10 && FieldBytes.equalsLowercase(bytes, cursor, "connection"):
                    let options = FieldBytes.connectionOptions(bytes, valueStart, valueEnd)
                    connectionClose = connectionClose || options.close
                    connectionKeepAlive = connectionKeepAlive || options.keepAlive
                    connectionNamesFields = connectionNamesFields || options.namesFields
                default:
                    break
                }
                cursor = lineCR + 2
            }
            if sawTransferEncoding && contentLength != nil { throw .conflictingFraming }
            if status == 101 && !allowUpgrade { throw .unsupportedUpgrade }
            // RFC 9112 6.1: an HTTP/1.0 message with Transfer-Encoding ends with the connection.
            let keepAlive =
                !connectionClose && (versionMinor >= 1 || (connectionKeepAlive && !sawTransferEncoding))
            return UpstreamResponseHead(
                block: block, status: status, versionMinor: versionMinor,
                statusLineEnd: statusLineCR, fields: fields,
                contentLength: sawTransferEncoding ? nil : contentLength,
                isChunked: isChunked, keepAlive: keepAlive && (!sawTransferEncoding || isChunked),
                connectionNamesFields: connectionNamesFields)
        }
    }

    private static func classify(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ length: Int)
        -> UpstreamResponseHead.FieldKind
    {
        switch length {
        case 2: return FieldBytes.equalsLowercase(bytes, start, "te") ? .hopByHop : .other
        case 7:
            if FieldBytes.equalsLowercase(bytes, start, "upgrade") { return .upgrade }
            return FieldBytes.equalsLowercase(bytes, start, "trailer") ? .hopByHop : .other
        case 10:
            return FieldBytes.equalsLowercase(bytes, start, "connection")
                || FieldBytes.equalsLowercase(bytes, start, "keep-alive")
                ? .hopByHop : .other
        case 12: return FieldBytes.equalsLowercase(bytes, start, "x-request-id") ? .requestID : .other
        case 14: return FieldBytes.equalsLowercase(bytes, start, "content-length") ? .contentLength : .other
        case 16: return FieldBytes.equalsLowercase(bytes, start, "proxy-connection") ? .hopByHop : .other
        case 17: return FieldBytes.equalsLowercase(bytes, start, "transfer-encoding") ? .transferEncoding : .other
        default: return .other
        }
    }
}
