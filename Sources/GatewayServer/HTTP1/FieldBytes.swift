import NIOCore

/// Byte-level pieces of HTTP/1 field syntax (RFC 9110 5.5, 5.6) shared by the request and
/// response parsers, which both work on raw head bytes instead of decoded strings.
enum FieldBytes {
    /// tchar (RFC 9110 5.6.2), as a bitmap of the ASCII range: one shift and mask per byte.
    @inline(__always)
    static func isTokenByte(_ byte: UInt8) -> Bool {
        if byte < 64 { return (0x03FF_6CFA_0000_0000 as UInt64) >> byte & 1 == 1 }
        if byte < 128 { return (0x57FF_FFFF_C7FF_FFFE as UInt64) >> (byte - 64) & 1 == 1 }
        return false
    }

    /// field-vchar, SP and HTAB; no CR, LF or NUL (RFC 9110 5.5).
    @inline(__always)
    static func isFieldValueByte(_ byte: UInt8) -> Bool {
        byte == 9 || (byte >= 32 && byte != 127)
    }

    /// ASCII case-insensitive comparison of `bytes[start...]` with a lowercase constant; the caller
    /// has checked the length.
    @inline(__always)
    static func equalsLowercase(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ expected: StaticString) -> Bool {
        expected.withUTF8Buffer { expectedBytes in
            for index in 0..<expectedBytes.count {
                let byte = bytes[start + index]
                let folded = (byte >= 65 && byte <= 90) ? byte | 0x20 : byte
                if folded != expectedBytes[index] { return false }
            }
            return true
        }
    }

    /// ASCII case-insensitive comparison with a name as the user wrote it in the config.
    static func equalsIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ length: Int, _ name: String)
        -> Bool
    {
        guard length == name.utf8.count else { return false }
        var index = start
        for other in name.utf8 {
            let byte = bytes[index]
            let folded = (byte >= 65 && byte <= 90) ? byte | 0x20 : byte
            let otherFolded = (other >= 65 && other <= 90) ? other | 0x20 : other
            if folded != otherFolded { return false }
            index += 1
        }
        return true
    }

    /// Digits only: "5, 5", "+5" or " 5" would be read differently by another parser (smuggling).
    static func parseDecimal(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Int? {
        guard start < end, end - start <= 18 else { return nil }
        var value = 0
        for index in start..<end {
            let byte = bytes[index]
            guard byte >= 48 && byte <= 57 else { return nil }
            value = value * 10 + Int(byte - 48)
        }
        return value
    }

    /// A field line's parts (RFC 9112 5), found in one pass from `lineStart`: the name is a token
    /// directly followed by ':' (no whitespace before it, so obs-fold fails too), the value is
    /// trimmed of OWS and holds no control bytes, and the line ends with CRLF (a bare CR or LF is
    /// an error). Offsets are into `bytes`; nil for a malformed line.
    static func scanFieldLine(_ bytes: UnsafeRawBufferPointer, lineStart: Int)
        -> (nameEnd: Int, valueStart: Int, valueEnd: Int, lineCR: Int)?
    {
        let count = bytes.count
        var index = lineStart
        while index < count && bytes[index] != 58 {
            guard isTokenByte(bytes[index]) else { return nil }
            index += 1
        }
        guard index < count, index > lineStart else { return nil }
        let colon = index
        index += 1
        while index < count && (bytes[index] == 32 || bytes[index] == 9) { index += 1 }
        let valueStart = index
        var valueEnd = index
        while index < count {
            let byte = bytes[index]
            if byte > 32 && byte != 127 {
                index += 1
                valueEnd = index
            } else if byte == 32 || byte == 9 {
                index += 1
            } else if byte == 13 {
                guard index + 1 < count, bytes[index + 1] == 10 else { return nil }
                return (colon, valueStart, valueEnd, index)
            } else {
                return nil
            }
        }
        return nil
    }

    /// Whether the last transfer coding in `start..<end` is `chunked` (RFC 9112 6.3).
    static func endsWithChunked(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Bool {
        var tokenStart = start
        var index = start
        while index < end {
            if bytes[index] == 44 { tokenStart = index + 1 }
            index += 1
        }
        while tokenStart < end && (bytes[tokenStart] == 32 || bytes[tokenStart] == 9) { tokenStart += 1 }
        return end - tokenStart == 7 && equalsLowercase(bytes, tokenStart, "chunked")
    }

    /// Whether the value is exactly one `chunked` coding, in any case, with optional whitespace.
    static func isOnlyChunked(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Bool {
        var from = start
        var to = end
        while from < to && (bytes[from] == 32 || bytes[from] == 9) { from += 1 }
        while to > from && (bytes[to - 1] == 32 || bytes[to - 1] == 9) { to -= 1 }
        return to - from == 7 && equalsLowercase(bytes, from, "chunked")
    }

    /// What a Connection value lists, in one pass: `close`, `keep-alive`, and anything else (field
    /// names, which must be dropped too).
    static func connectionOptions(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int)
        -> (close: Bool, keepAlive: Bool, namesFields: Bool, upgrade: Bool)
    {
        var result = (close: false, keepAlive: false, namesFields: false, upgrade: false)
        _ = firstToken(bytes, start, end) { from, length in
            if length == 5 && equalsLowercase(bytes, from, "close") {
                result.close = true
            } else if length == 10 && equalsLowercase(bytes, from, "keep-alive") {
                result.keepAlive = true
            } else if length == 7 && equalsLowercase(bytes, from, "upgrade") {
                // Names the Upgrade field, which is hop-by-hop anyway: nothing more to drop.
                result.upgrade = true
            } else if length > 0 {
                result.namesFields = true
            }
            return false
        }
        return result
    }

    /// Calls `matches` with each comma-separated element (trimmed of OWS) of the value in
    /// `start..<end`, until it returns true.
    static func firstToken(
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

    /// Index of the CR of the next CRLF from `from`; nil if the line is incomplete or has a bare LF
    /// or bare CR (both are errors once the whole head is in).
    @inline(__always)
    static func findCRLF(_ bytes: UnsafeRawBufferPointer, from: Int) -> Int? {
        var index = from
        while index + 1 < bytes.count {
            let byte = bytes[index]
            if byte == 13 {
                return bytes[index + 1] == 10 ? index : nil
            }
            if byte == 10 { return nil }
            index += 1
        }
        return nil
    }

    /// Whether `buffer`'s readable bytes from `from` hold an LF not preceded by CR.
    static func containsBareLF(_ buffer: ByteBuffer, from: Int) -> Bool {
        buffer.withUnsafeReadableBytes { bytes in
            var index = max(0, from)
            while index < bytes.count {
                if bytes[index] == 10 && (index == 0 || bytes[index - 1] != 13) { return true }
                index += 1
            }
            return false
        }
    }

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
}
