import NIOHTTP1

/// Removal of hop-by-hop fields (RFC 9110 7.6.1): the fixed set plus any field the `Connection`
/// header names. They describe one connection and must not travel past the proxy.
enum HopByHopHeaders {
    static let fixed: [String] = [
        "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
    ]

    /// Returns the headers without hop-by-hop fields. The common case (none present) copies nothing.
    /// `keepTransferEncoding` keeps a `transfer-encoding` field because NIO's encoder frames the
    /// forwarded body from it (chunked in, chunked out).
    static func removing(from headers: HTTPHeaders, keepTransferEncoding: Bool = false) -> HTTPHeaders {
        var connectionNamed: [Substring] = []
        var found = false
        for (name, value) in headers {
            if isFixed(name, keepTransferEncoding: keepTransferEncoding) {
                found = true
                if headerNameEquals(name, lowercase: "connection") {
                    for token in value.split(separator: ",") {
                        let trimmed = token.trimmingSpaces()
                        if !trimmed.isEmpty { connectionNamed.append(trimmed) }
                    }
                }
            }
        }
        guard found else { return headers }
        var result = HTTPHeaders()
        result.reserveCapacity(headers.count)
        for (name, value) in headers {
            if isFixed(name, keepTransferEncoding: keepTransferEncoding) { continue }
            // `Connection: host` must not strip the Host header the upstream routes on.
            if headerNameEquals(name, lowercase: "host") {
                result.add(name: name, value: value)
                continue
            }
            if connectionNamed.contains(where: {
                $0.utf8.count == name.utf8.count && name.lowercased() == $0.lowercased()
            }) {
                continue
            }
            result.add(name: name, value: value)
        }
        return result
    }

    @inline(__always)
    static func isFixed(_ name: String, keepTransferEncoding: Bool) -> Bool {
        // Length first: almost every header is rejected by one integer compare.
        switch name.utf8.count {
        case 2: return headerNameEquals(name, lowercase: "te")
        case 7: return headerNameEquals(name, lowercase: "trailer") || headerNameEquals(name, lowercase: "upgrade")
        case 10:
            return headerNameEquals(name, lowercase: "connection") || headerNameEquals(name, lowercase: "keep-alive")
        case 16: return headerNameEquals(name, lowercase: "proxy-connection")
        case 17: return !keepTransferEncoding && headerNameEquals(name, lowercase: "transfer-encoding")
        default: return false
        }
    }
}

extension Substring {
    func trimmingSpaces() -> Substring {
        var result = self
        while let first = result.first, first == " " || first == "\t" { result.removeFirst() }
        while let last = result.last, last == " " || last == "\t" { result.removeLast() }
        return result
    }
}
