/// The admin API's bearer token check. The comparison takes the same time whatever the first
/// differing byte, so the token cannot be guessed byte by byte from response times.
struct AdminAuthorization: Sendable {
    /// nil: no token configured (loopback only, enforced by config validation).
    private let token: [UInt8]?

    init(token: String?) {
        self.token = token.map { Array($0.utf8) }
    }

    var requiresToken: Bool { token != nil }

    func allows(authorizationHeader: String?) -> Bool {
        guard let token else { return true }
        guard let header = authorizationHeader else { return false }
        let bytes = Array(header.utf8)
        let scheme = Array("bearer ".utf8)
        guard bytes.count > scheme.count,
            zip(bytes.prefix(scheme.count), scheme).allSatisfy({ ($0 | 0x20) == $1 })
        else { return false }
        var presented = bytes[scheme.count...].drop { $0 == UInt8(ascii: " ") }[...]
        while presented.last == UInt8(ascii: " ") { presented.removeLast() }
        return Self.constantTimeEquals(Array(presented), token)
    }

    /// Time depends on the lengths only, never on where the bytes differ.
    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        difference |= UInt8(truncatingIfNeeded: (a.count ^ b.count) >> 8)
        let length = max(a.count, b.count)
        for index in 0..<length {
            let x = index < a.count ? a[index] : 0
            let y = index < b.count ? b[index] : 0
            difference |= x ^ y
        }
        return difference == 0 && a.count == b.count
    }
}
