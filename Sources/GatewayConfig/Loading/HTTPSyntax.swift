/// Lexical rules of HTTP the config must respect, so a bad name fails at load time rather than
/// as a malformed request on the wire.
enum HTTPSyntax {
    /// RFC 9110 `token`: header names and method names.
    static func isToken(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy(isTokenByte)
    }

    private static func isTokenByte(_ c: UInt8) -> Bool {
        if UnitParser.isASCIIDigit(c) || UnitParser.isASCIILetter(c) { return true }
        return "!#$%&'*+-.^_`|~".utf8.contains(c)
    }

    /// Field values may carry almost anything except what would end or split the header line.
    static func isValidFieldValue(_ text: String) -> Bool {
        !text.utf8.contains { $0 == 0x0D || $0 == 0x0A || $0 == 0x00 }
    }

    /// Headers a proxy manages itself (RFC 9110 §7.6.1 hop-by-hop fields, plus `host` and
    /// `content-length`, which the proxy derives from the target and the body); setting them
    /// from config would break framing or routing.
    static let proxyManagedHeaders: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
        "host", "content-length",
        // Written by the gateway on every request; a configured copy would be a second field.
        "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "via", "x-request-id",
    ]

    /// Text that goes on the wire unquoted (a request target, a `Via` pseudonym): visible ASCII only.
    static func isWireSafe(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }
}

extension ConfigReader {
    /// A header (or cookie) name: must be an HTTP token; returned as written.
    mutating func headerName(_ entry: Entry, what: String = "header name") -> String? {
        guard let text = scalarText(entry.value, expected: "a \(what)") else { return nil }
        return checkedToken(text, line: entry.line, what: what)
    }

    mutating func checkedToken(_ text: String, line: Position?, what: String = "header name") -> String? {
        guard HTTPSyntax.isToken(text) else {
            error(line, "'\(text)' is not a valid \(what)")
            return nil
        }
        return text
    }
}
