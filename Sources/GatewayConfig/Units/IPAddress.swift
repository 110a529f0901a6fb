/// Textual IP address parsing into the 16-byte form `CIDR` uses. Written by hand instead of
/// calling `inet_pton` so the accepted syntax is the same on every platform and documented here:
/// dotted-quad IPv4 without leading zeros (`010` is octal to some tools and decimal to others),
/// RFC 4291 IPv6 text with `::` and an optional dotted IPv4 tail, no zone IDs.
enum IPAddress {
    /// The IPv4-mapped IPv6 prefix `::ffff:0:0/96`.
    static let mappedPrefix: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF]

    static func parseIPv4(_ text: Substring) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.utf8.allSatisfy(UnitParser.isASCIIDigit) else { return nil }
            guard part == "0" || !part.hasPrefix("0") else { return nil }
            guard let value = UInt8(part) else { return nil }
            bytes.append(value)
        }
        return bytes
    }

    static func parseIPv6(_ text: Substring) -> [UInt8]? {
        guard !text.isEmpty else { return nil }
        let halves = text.split(separator: "::", omittingEmptySubsequences: false)
        guard halves.count <= 2 else { return nil }
        guard let head = parseGroups(halves[0], allowIPv4Tail: halves.count == 1) else { return nil }
        if halves.count == 1 {
            return head.count == 16 ? head : nil
        }
        guard let tail = parseGroups(halves[1], allowIPv4Tail: true) else { return nil }
        // `::` stands for at least one zero group.
        guard head.count + tail.count <= 14 else { return nil }
        return head + [UInt8](repeating: 0, count: 16 - head.count - tail.count) + tail
    }

    /// Colon-separated hex groups (possibly none), each to two bytes.
    private static func parseGroups(_ text: Substring, allowIPv4Tail: Bool) -> [UInt8]? {
        if text.isEmpty { return [] }
        let groups = text.split(separator: ":", omittingEmptySubsequences: false)
        var bytes: [UInt8] = []
        for (index, group) in groups.enumerated() {
            if allowIPv4Tail, index == groups.count - 1, group.contains(".") {
                guard let v4 = parseIPv4(group) else { return nil }
                bytes += v4
                continue
            }
            guard (1...4).contains(group.count), let value = UInt16(group, radix: 16),
                group.utf8.allSatisfy({ $0 != UInt8(ascii: "+") && $0 != UInt8(ascii: "-") })
            else { return nil }
            bytes += [UInt8(value >> 8), UInt8(value & 0xFF)]
        }
        return bytes
    }

    /// Either family, as 16 bytes; `isIPv4` tells which one was written.
    static func parse(_ text: Substring) -> (bytes: [UInt8], isIPv4: Bool)? {
        if let v4 = parseIPv4(text) { return (mappedPrefix + v4, true) }
        if let v6 = parseIPv6(text) { return (v6, false) }
        return nil
    }

    /// RFC 5952 text for 16 bytes: lowercase, longest run of two or more zero groups as `::`.
    static func formatIPv6(_ bytes: [UInt8]) -> String {
        guard bytes.count == 16 else { return "" }
        let groups = stride(from: 0, to: 16, by: 2).map { UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]) }
        var best: Range<Int>?
        var index = 0
        while index < groups.count {
            guard groups[index] == 0 else {
                index += 1
                continue
            }
            let start = index
            while index < groups.count, groups[index] == 0 { index += 1 }
            if index - start >= 2, index - start > (best?.count ?? 0) { best = start..<index }
        }
        let hex = groups.map { String($0, radix: 16) }
        guard let best else { return hex.joined(separator: ":") }
        return hex[..<best.lowerBound].joined(separator: ":") + "::" + hex[best.upperBound...].joined(separator: ":")
    }
}

extension UnitParser {
    /// The 16-byte form of a textual IPv4 or IPv6 address (IPv4 mapped), for CIDR checks.
    public static func parseIPAddress(_ text: Substring) -> [UInt8]? {
        IPAddress.parse(text)?.bytes
    }
}
