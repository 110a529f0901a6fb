/// `admin`: the admin API's own listener and how callers prove who they are.
public struct AdminConfig: Sendable, Equatable {
    public var address: HostPort
    /// The environment variable holding the bearer token; nil means no token is asked for, which
    /// validation allows only on a loopback address.
    public var tokenEnvironmentVariable: String?

    public init(address: HostPort = HostPort(host: "127.0.0.1", port: 9901), tokenEnvironmentVariable: String? = nil) {
        self.address = address
        self.tokenEnvironmentVariable = tokenEnvironmentVariable
    }

    /// 127.0.0.0/8, ::1 and `localhost`: reachable from this machine only.
    public var isLoopback: Bool {
        let host = address.host.lowercased()
        if host == "localhost" || host == "::1" || host == "[::1]" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }
}
