import GatewayConfig

/// Finds a credential in a request: the `Authorization: Bearer` token, a header, a query
/// parameter (percent-decoded) or a cookie.
enum CredentialReader {
    static func read(_ source: CredentialSource, head: RequestHead) -> [UInt8]? {
        switch source {
        case .bearer:
            guard let value = head.values(named: "authorization").first else { return nil }
            let bytes = Array(value.utf8)
            // The scheme is case-insensitive (RFC 9110 §11.1); one or more spaces follow it.
            guard bytes.count > 7, String(decoding: bytes[0..<6], as: UTF8.self).lowercased() == "bearer",
                bytes[6] == UInt8(ascii: " ")
            else { return nil }
            let token = bytes[7...].drop { $0 == UInt8(ascii: " ") }
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
                guard parts.count == 2, let key = percentDecoded(parts[0]), key == Array(name.utf8) else { continue }
                return percentDecoded(parts[1]).flatMap { $0.isEmpty ? nil : $0 }
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

    private static func percentDecoded(_ bytes: some Collection<UInt8>) -> [UInt8]? {
        var output: [UInt8] = []
        var iterator = bytes.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                    return nil
                }
                output.append(high << 4 | low)
            } else {
                output.append(byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
            }
        }
        return output
    }

    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
