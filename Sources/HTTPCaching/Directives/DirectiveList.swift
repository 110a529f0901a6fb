/// Splits a `Cache-Control`-style field value (RFC 9110 5.6.1 list of `token [ "=" ( token /
/// quoted-string ) ]`) into directives. Commas inside quoted strings do not split. Anything that
/// does not fit the grammar is reported, so callers can fail safe instead of guessing.
struct DirectiveList {
    struct Directive: Equatable {
        /// Lowercased.
        var name: String
        /// Unquoted; nil when the directive has no `=`.
        var argument: String?
    }

    private(set) var directives: [Directive] = []
    /// Something in the value did not parse: an empty name, an unterminated quote, a stray
    /// character after a quoted string.
    private(set) var isMalformed = false

    init(values: some Sequence<String>) {
        for value in values {
            parse(Array(value.utf8))
        }
    }

    private mutating func parse(_ bytes: [UInt8]) {
        var index = 0
        let count = bytes.count
        while index < count {
            skipSpaceAndCommas(bytes, &index)
            guard index < count else { return }
            let nameStart = index
            while index < count, isTokenByte(bytes[index]) { index += 1 }
            guard index > nameStart else {
                isMalformed = true
                skipToComma(bytes, &index)
                continue
            }
            let name = String(decoding: bytes[nameStart..<index], as: UTF8.self).lowercased()
            skipSpace(bytes, &index)
            var argument: String?
            if index < count, bytes[index] == UInt8(ascii: "=") {
                index += 1
                skipSpace(bytes, &index)
                if index < count, bytes[index] == UInt8(ascii: "\"") {
                    guard let quoted = readQuoted(bytes, &index) else {
                        isMalformed = true
                        return
                    }
                    argument = quoted
                } else {
                    let start = index
                    while index < count, isTokenByte(bytes[index]) { index += 1 }
                    argument = String(decoding: bytes[start..<index], as: UTF8.self)
                }
                skipSpace(bytes, &index)
            }
            if index < count, bytes[index] != UInt8(ascii: ",") {
                isMalformed = true
                skipToComma(bytes, &index)
            }
            directives.append(Directive(name: name, argument: argument))
        }
    }

    private func readQuoted(_ bytes: [UInt8], _ index: inout Int) -> String? {
        index += 1
        var result: [UInt8] = []
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\\") {
                guard index + 1 < bytes.count else { return nil }
                result.append(bytes[index + 1])
                index += 2
            } else if byte == UInt8(ascii: "\"") {
                index += 1
                return String(decoding: result, as: UTF8.self)
            } else {
                result.append(byte)
                index += 1
            }
        }
        return nil
    }

    private func skipSpace(_ bytes: [UInt8], _ index: inout Int) {
        while index < bytes.count, bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\t") {
            index += 1
        }
    }

    private func skipSpaceAndCommas(_ bytes: [UInt8], _ index: inout Int) {
        while index < bytes.count,
            bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\t") || bytes[index] == UInt8(ascii: ",")
        {
            index += 1
        }
    }

    private func skipToComma(_ bytes: [UInt8], _ index: inout Int) {
        var inQuotes = false
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") { inQuotes.toggle() }
            if byte == UInt8(ascii: ","), !inQuotes { return }
            index += 1
        }
    }
}

/// RFC 9110 5.6.2 tchar.
func isTokenByte(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
        UInt8(ascii: "0")...UInt8(ascii: "9"):
        return true
    case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
        UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
        UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
        return true
    default:
        return false
    }
}
