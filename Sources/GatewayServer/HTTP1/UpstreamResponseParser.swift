import NIOCore

/// Parses an upstream's response head (RFC 9112 sections 4-6) from raw bytes. Strict where a
/// lenient reading could desynchronise the connection: bare LF, obs-fold, bad field names,
/// conflicting or malformed `Content-Length`, and `Transfer-Encoding` together with
/// `Content-Length` are errors (a 502), never guesses.
enum UpstreamResponseParser {
    static let maxHeadBytes = 64 * 1024

    /// Index just past the head's final CRLFCRLF in `buffer`'s readable bytes, searching from
    /// `from`; nil if the head is not complete yet.
    static func headEnd(in buffer: ByteBuffer, from: Int) -> Int? {
        buffer.withUnsafeReadableBytes { bytes in
            var index = max(0, from)
            while index + 3 < bytes.count {
                if bytes[index + 3] != 10 {
                    // Skip ahead: the terminator's last byte is LF.
                    index += bytes[index + 3] == 13 ? 1 : 4
                    continue
                }
                if bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 {
                    return index + 4
                }
                index += 1
            }
            return nil
        }
    }

    static func parse(_ block: ByteBuffer) throws(UpstreamResponseError) -> UpstreamResponseHead {
        let result: Result<UpstreamResponseHead, UpstreamResponseError> = block.withUnsafeReadableBytes { bytes in
            // "HTTP/1.x NNN"
            guard bytes.count >= 14, bytes[0] == 72, bytes[1] == 84, bytes[2] == 84, bytes[3] == 80, bytes[4] == 47,
                bytes[5] == 49, bytes[6] == 46, bytes[7] == 48 || bytes[7] == 49, bytes[8] == 32
            else { return .failure(.malformedStatusLine) }
            let versionMinor = Int(bytes[7] - 48)
            var status = 0
            for index in 9..<12 {
                let digit = bytes[index]
                guard digit >= 48 && digit <= 57 else { return .failure(.malformedStatusLine) }
                status = status * 10 + Int(digit - 48)
            }
            guard status >= 100, status <= 599, bytes[12] == 32 || bytes[12] == 13 else {
                return .failure(.malformedStatusLine)
            }
            var cursor = 12
            if bytes[cursor] == 32 { cursor += 1 }
            let statusTextStart = cursor
            guard let statusLineCR = findCRLF(bytes, from: cursor) else { return .failure(.malformedStatusLine) }
            for index in statusTextStart..<statusLineCR where !isFieldValueByte(bytes[index]) {
                return .failure(.malformedStatusLine)
            }

            var fields: [UpstreamResponseHead.Field] = []
            fields.reserveCapacity(12)
            var contentLength: Int?
            var isChunked = false
            var sawTransferEncoding = false
            var connectionClose = false
            var connectionKeepAlive = false
            var connectionNamesFields = false
            cursor = statusLineCR + 2
            while true {
                guard cursor + 1 < bytes.count else { return .failure(.malformedHeader) }
                if bytes[cursor] == 13 && bytes[cursor + 1] == 10 { break }
                guard let lineCR = findCRLF(bytes, from: cursor) else { return .failure(.malformedHeader) }
                // Field name: a token, directly followed by ':' (no whitespace, RFC 9112 5.1).
                var colon = cursor
                while colon < lineCR && bytes[colon] != 58 {
                    guard isTokenByte(bytes[colon]) else { return .failure(.malformedHeader) }
                    colon += 1
                }
                guard colon < lineCR, colon > cursor else { return .failure(.malformedHeader) }
                var valueStart = colon + 1
                while valueStart < lineCR && (bytes[valueStart] == 32 || bytes[valueStart] == 9) { valueStart += 1 }
                var valueEnd = lineCR
                while valueEnd > valueStart && (bytes[valueEnd - 1] == 32 || bytes[valueEnd - 1] == 9) { valueEnd -= 1 }
                for index in valueStart..<valueEnd where !isFieldValueByte(bytes[index]) {
                    return .failure(.malformedHeader)
                }
                var field = UpstreamResponseHead.Field(
                    lineStart: cursor, lineEnd: lineCR + 2, nameStart: cursor, nameLength: colon - cursor,
                    valueStart: valueStart, valueLength: valueEnd - valueStart)
                let nameLength = colon - cursor
                field.kind = classify(bytes, cursor, nameLength)
                fields.append(field)
                if nameLength == 14 && equalsLowercase(bytes, cursor, "content-length") {
                    guard let parsed = parseDecimal(bytes, valueStart, valueEnd) else {
                        return .failure(.conflictingFraming)
                    }
                    if let contentLength, contentLength != parsed { return .failure(.conflictingFraming) }
                    contentLength = parsed
                } else if nameLength == 17 && equalsLowercase(bytes, cursor, "transfer-encoding") {
                    sawTransferEncoding = true
                    // Chunked must be the final coding (RFC 9112 6.3); anything else is read to close.
                    isChunked = endsWithChunked(bytes, valueStart, valueEnd)
                } else if nameLength == 10 && equalsLowercase(bytes, cursor, "connection") {
                    if containsToken(bytes, valueStart, valueEnd, "close") { connectionClose = true }
                    if containsToken(bytes, valueStart, valueEnd, "keep-alive") { connectionKeepAlive = true }
                    if hasOtherToken(bytes, valueStart, valueEnd) { connectionNamesFields = true }
                }
                cursor = lineCR + 2
            }
            if sawTransferEncoding && contentLength != nil { return .failure(.conflictingFraming) }
            if status == 101 { return .failure(.unsupportedUpgrade) }
            // RFC 9112 6.1: an HTTP/1.0 message with Transfer-Encoding ends with the connection.
            let keepAlive =
                versionMinor >= 1 ? !connectionClose : (connectionKeepAlive && !sawTransferEncoding)
            return .success(
                UpstreamResponseHead(
                    block: block, status: status, versionMinor: versionMinor,
                    statusLineEnd: statusLineCR, fields: fields,
                    contentLength: sawTransferEncoding ? nil : contentLength,
                    isChunked: isChunked, keepAlive: keepAlive && (!sawTransferEncoding || isChunked),
                    connectionNamesFields: connectionNamesFields))
        }
        return try result.get()
    }

    private static func classify(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ length: Int)
        -> UpstreamResponseHead.FieldKind
    {
        switch length {
        case 2: return equalsLowercase(bytes, start, "te") ? .hopByHop : .other
        case 7:
            return equalsLowercase(bytes, start, "trailer") || equalsLowercase(bytes, start, "upgrade")
                ? .hopByHop : .other
        case 10:
            return equalsLowercase(bytes, start, "connection") || equalsLowercase(bytes, start, "keep-alive")
                ? .hopByHop : .other
        case 12: return equalsLowercase(bytes, start, "x-request-id") ? .requestID : .other
        case 14: return equalsLowercase(bytes, start, "content-length") ? .contentLength : .other
        case 16: return equalsLowercase(bytes, start, "proxy-connection") ? .hopByHop : .other
        case 17: return equalsLowercase(bytes, start, "transfer-encoding") ? .transferEncoding : .other
        default: return .other
        }
    }

    /// Whether a Connection value lists anything but keep-alive and close.
    private static func hasOtherToken(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Bool {
        firstToken(bytes, start, end) { from, length in
            !(length == 0 || (length == 5 && equalsLowercase(bytes, from, "close"))
                || (length == 10 && equalsLowercase(bytes, from, "keep-alive")))
        }
    }

    /// Calls `matches` with each comma-separated element (trimmed of OWS) of the value in
    /// `start..<end`, until it returns true.
    private static func firstToken(
        _ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int, where matches: (_ from: Int, _ length: Int) -> Bool
    ) -> Bool {
        var tokenStart = start
        var index = start
        while index <= end {
            if index == end || bytes[index] == 44 {
                var from = tokenStart
                var to = index
                while from < to && (bytes[from] == 32 || bytes[from] == 9) { from += 1 }
                while to > from && (bytes[to - 1] == 32 || bytes[to - 1] == 9) { to -= 1 }
                if matches(from, to - from) { return true }
                tokenStart = index + 1
            }
            index += 1
        }
        return false
    }

    private static func findCRLF(_ bytes: UnsafeRawBufferPointer, from: Int) -> Int? {
        var index = from
        while index + 1 < bytes.count {
            if bytes[index] == 13 {
                return bytes[index + 1] == 10 ? index : nil
            }
            if bytes[index] == 10 { return nil }  // bare LF
            index += 1
        }
        return nil
    }

    /// tchar (RFC 9110 5.6.2).
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 48...57, 65...90, 97...122: return true
        case 33, 35, 36, 37, 38, 39, 42, 43, 45, 46, 94, 95, 96, 124, 126: return true
        default: return false
        }
    }

    /// field-vchar, SP and HTAB; no CR, LF or NUL (RFC 9110 5.5).
    static func isFieldValueByte(_ byte: UInt8) -> Bool {
        byte == 9 || (byte >= 32 && byte != 127)
    }

    private static func equalsLowercase(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ expected: StaticString)
        -> Bool
    {
        expected.withUTF8Buffer { expectedBytes in
            for index in 0..<expectedBytes.count {
                let byte = bytes[start + index]
                let folded = (byte >= 65 && byte <= 90) ? byte | 0x20 : byte
                if folded != expectedBytes[index] { return false }
            }
            return true
        }
    }

    private static func parseDecimal(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Int? {
        guard start < end, end - start <= 18 else { return nil }
        var value = 0
        for index in start..<end {
            let byte = bytes[index]
            guard byte >= 48 && byte <= 57 else { return nil }
            value = value * 10 + Int(byte - 48)
        }
        return value
    }

    private static func endsWithChunked(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Bool {
        var tokenStart = start
        var index = start
        while index < end {
            if bytes[index] == 44 { tokenStart = index + 1 }
            index += 1
        }
        while tokenStart < end && (bytes[tokenStart] == 32 || bytes[tokenStart] == 9) { tokenStart += 1 }
        return end - tokenStart == 7 && equalsLowercase(bytes, tokenStart, "chunked")
    }

    private static func containsToken(
        _ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int, _ token: StaticString
    ) -> Bool {
        firstToken(bytes, start, end) { from, length in
            length == token.utf8CodeUnitCount && equalsLowercase(bytes, from, token)
        }
    }
}
