import GatewayConfig
import NIOCore

/// What the proxy needs to know about the peer of a downstream connection, computed once per
/// connection rather than per request.
struct ClientAddress {
    /// Textual IP for `X-Forwarded-For` and logs; "unknown" for non-IP peers (Unix sockets).
    let ip: String
    /// 16 bytes (IPv4 mapped into IPv6), the key for consistent hashing and CIDR checks.
    let bytes: [UInt8]
    /// Whether this peer is a proxy whose `X-Forwarded-*` headers we believe.
    let isTrustedProxy: Bool

    init(_ address: SocketAddress?, trustedProxies: [CIDR]) {
        switch address {
        case .v4(let v4)?:
            let raw = v4.address.sin_addr.s_addr  // network byte order in memory
            let octets = withUnsafeBytes(of: raw) { Array($0) }
            self.bytes = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF] + octets
            self.ip = address?.ipAddress ?? "unknown"
        case .v6(let v6)?:
            self.bytes = withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) }
            self.ip = address?.ipAddress ?? "unknown"
        default:
            self.bytes = []
            self.ip = "unknown"
        }
        let bytes = self.bytes
        self.isTrustedProxy = !bytes.isEmpty && trustedProxies.contains { $0.contains(bytes) }
    }
}
