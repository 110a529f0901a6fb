/// An IPv4 or IPv6 network, for `trusted_proxies` and (later) geo mapping.
public struct CIDR: Sendable, Hashable, CustomStringConvertible {
    /// 16 bytes; IPv4 networks are stored as IPv4-mapped IPv6 (`::ffff:a.b.c.d`).
    public let network: [UInt8]
    /// Prefix length over the 128-bit form (an IPv4 /24 is 96 + 24).
    public let prefixLength: Int
    public let description: String

    public init(network: [UInt8], prefixLength: Int, description: String) {
        self.network = network
        self.prefixLength = prefixLength
        self.description = description
    }
}
