extension UnitParser {
    /// `host:port` with an IPv4 literal or a DNS name, or `[ipv6]:port`. Port 0...65535: 0 asks
    /// the OS for a free port (tests), and callers that need a real port check the range themselves.
    /// `HostPort.host` keeps IPv6 without brackets, which `HostPort.description` puts back.
    public static func parseHostPort(_ text: String) -> HostPort? {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { return nil }
            portText = rest.dropFirst()
            guard IPAddress.parseIPv6(host) != nil else { return nil }
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            // An unbracketed IPv6 literal would make the port ambiguous (`::1:80`).
            guard !host.contains(":"), isValidHost(host) else { return nil }
        }
        guard let port = parsePort(portText) else { return nil }
        return HostPort(host: String(host), port: port)
    }

    static func parsePort(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.count <= 5, text.utf8.allSatisfy(isASCIIDigit), let port = Int(text),
            port <= 65_535
        else { return nil }
        return port
    }

    /// An IPv4 literal or a DNS name (RFC 1123 labels; `_` allowed because container and service
    /// discovery names use it). Something that looks numeric must be a valid IPv4 address, so
    /// `300.1.1.1` is refused instead of being looked up as a name.
    static func isValidHost(_ host: Substring) -> Bool {
        if IPAddress.parseIPv4(host) != nil { return true }
        if host.utf8.allSatisfy({ isASCIIDigit($0) || $0 == UInt8(ascii: ".") }) { return false }
        return isValidDNSName(host)
    }

    static func isValidDNSName(_ name: Substring) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 253 else { return false }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        for label in labels {
            guard (1...63).contains(label.utf8.count), label.first != "-", label.last != "-" else { return false }
            let ok = label.utf8.allSatisfy {
                isASCIIDigit($0) || isASCIILetter($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_")
            }
            guard ok else { return false }
        }
        return true
    }
}
