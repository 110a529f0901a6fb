/// Host names as the router compares them: ASCII case-insensitive, without port or one trailing dot.
enum RouteHostName {
    /// The part of a raw `Host` value that names the host, as a view into it (no copy, no lowercasing: the
    /// host table folds case while hashing and comparing).
    ///
    /// `Example.COM.:8080` → `Example.COM`; `[::1]:8080` → `[::1]` (the brackets stay, so an IPv6 literal is
    /// configured as `[::1]`). A reg-name cannot contain `:`, so everything from the first `:` is the port.
    static func requested(_ host: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        var end = host.count
        if host.first == UInt8(ascii: "[") {
            if let close = host.firstIndex(of: UInt8(ascii: "]")) {
                end = close + 1
            }
        } else if let colon = host.firstIndex(of: UInt8(ascii: ":")) {
            end = colon
        }
        if end > 0, host[end - 1] == UInt8(ascii: ".") {
            end -= 1
        }
        return UnsafeBufferPointer(rebasing: host[0..<end])
    }

    /// A configured host as a table key: lowercased, one trailing dot dropped (as for requests), and for
    /// `*.suffix` the suffix with its leading dot, which is the form the matcher looks up.
    static func configured(_ host: String) -> (key: [UInt8], isWildcard: Bool) {
        var bytes = host.utf8.map(RouteByteTable.lowercased)
        if bytes.last == UInt8(ascii: ".") {
            bytes.removeLast()
        }
        if bytes.count >= 2, bytes[0] == UInt8(ascii: "*"), bytes[1] == UInt8(ascii: ".") {
            return (Array(bytes.dropFirst()), true)
        }
        return (bytes, false)
    }
}
