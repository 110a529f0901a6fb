import GatewayConfig

/// Finds a credential in a request: the `Authorization: Bearer` token, a header, a query
/// parameter (percent-decoded) or a cookie.
enum CredentialReader {
    static func read(_ source: CredentialSource, head: RequestHead) -> [UInt8]? {
        switch source {
        case .bearer:
            guard let value = head.values(named: "authorization").first else { return nil }
            let bytes = value.utf8
            // The scheme is case-insensitive (RFC 9110 §11.1); one or more spaces follow it.
            guard bytes.count > 7,
                zip(bytes.prefix(6), "bearer".utf8).allSatisfy({ $0 | 0x20 == $1 }),
                bytes.dropFirst(6).first == UInt8(ascii: " ")
            else { return nil }
            let token = bytes.dropFirst(7).drop { $0 == UInt8(ascii: " ") }
            return token.isEmpty ? nil : Array(token)
        case .header(let name):
            guard let value = head.values(named: name).first, !value.isEmpty else { return nil }
            return Array(value.utf8)
        case .query(let name):
            guard let questionMark = head.target.utf8.firstIndex(of: UInt8(ascii: "?")) else { return nil }
            for pair in head.target.utf8[head.target.utf8.index(after: questionMark)...].split(
                separator: UInt8(ascii: "&"))
            {
                let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2, let key = PercentDecoding.decode(parts[0]), key == Array(name.utf8) else {
                    continue
                }
                return PercentDecoding.decode(parts[1]).flatMap { $0.isEmpty ? nil : $0 }
            }
            return nil
        case .cookie(let name):
            for header in head.values(named: "cookie") {
                for pair in header.split(separator: ";") {
                    let trimmed = pair.drop { $0 == " " }
                    guard let equals = trimmed.firstIndex(of: "="), trimmed[..<equals] == name else { continue }
                    let value = trimmed[trimmed.index(after: equals)...]
                    return value.isEmpty ? nil : Array(value.utf8)
                }
            }
            return nil
        }
    }
}
