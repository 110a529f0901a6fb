/// `Host` as RFC 9110 7.2 / RFC 3986 3.2.2 allow it: `host [":" port]`, the host a reg-name
/// (letters, digits, `-._~`, `!$&'()*+,;=`, %-escapes) or a bracketed IP literal, the port
/// digits up to 65535. Anything else (spaces, `@`, `/`, `\`) is how a client tries to make the
/// gateway and the upstream read different hosts; it gets 400. An empty value is allowed (RFC
/// 9112 3.2: no authority) and routes as no host.
enum HostSyntax {
    static func isValid(_ value: String) -> Bool {
        var host = Substring(value)
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return false }
            let literal = host[host.index(after: host.startIndex)..<close]
            guard !literal.isEmpty,
                literal.utf8.allSatisfy({ isHexDigit($0) || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".") })
            else { return false }
            host = host[host.index(after: close)...]
            return host.isEmpty || isPort(host)
        }
        if let colon = host.lastIndex(of: ":") {
            guard isPort(host[colon...]) else { return false }
            host = host[..<colon]
        }
        return host.utf8.allSatisfy(isRegNameByte)
    }

    /// `:` followed by 1-5 digits, at most 65535.
    private static func isPort(_ text: Substring) -> Bool {
        let digits = text.dropFirst()
        guard text.first == ":", !digits.isEmpty, digits.count <= 5, digits.utf8.allSatisfy(isDigit),
            let port = Int(digits), port <= 65535
        else { return false }
        return true
    }

    private static func isRegNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "-._~!$&'()*+,;=%".utf8.contains(byte)
        }
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        isDigit(byte) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "F"))
    }
}
