/// `host:port` as written; `host` may be an IPv4/IPv6 literal or a name.
public struct HostPort: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

public enum ListenerProtocol: String, Sendable, Equatable {
    case http1
    case h2c
    case h2
}

public struct ListenerConfig: Sendable, Equatable {
    public var name: String
    public var address: HostPort
    public var protocols: [ListenerProtocol]
    public var maxConnections: Int
    public var timeouts: ListenerTimeouts
    public var limits: ListenerLimits
    /// nil: cleartext.
    public var tls: ListenerTLSConfig?
    /// Every request on this listener is redirected to `https://host[:port]/target`; nil: proxied.
    public var httpsRedirectPort: Int?

    public init(
        name: String,
        address: HostPort,
        protocols: [ListenerProtocol] = [.http1],
        maxConnections: Int = 20_000,
        timeouts: ListenerTimeouts = ListenerTimeouts(),
        limits: ListenerLimits = ListenerLimits(),
        tls: ListenerTLSConfig? = nil,
        httpsRedirectPort: Int? = nil
    ) {
        self.tls = tls
        self.httpsRedirectPort = httpsRedirectPort
        self.name = name
        self.address = address
        self.protocols = protocols
        self.maxConnections = maxConnections
        self.timeouts = timeouts
        self.limits = limits
    }
}

public struct ListenerTimeouts: Sendable, Equatable {
    public var headerRead: Duration
    public var bodyRead: Duration
    public var idle: Duration

    public init(headerRead: Duration = .seconds(10), bodyRead: Duration = .seconds(30), idle: Duration = .seconds(60)) {
        self.headerRead = headerRead
        self.bodyRead = bodyRead
        self.idle = idle
    }
}

public struct ListenerLimits: Sendable, Equatable {
    public var maxHeaderBytes: Int
    public var maxHeaders: Int
    /// Applies to every request on the listener; nil means unlimited.
    public var maxBody: Int?

    public init(maxHeaderBytes: Int = 32 * 1024, maxHeaders: Int = 100, maxBody: Int? = 10 * 1024 * 1024) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaders = maxHeaders
        self.maxBody = maxBody
    }
}

/// `tls:` of a listener: TLS termination with one or more certificates chosen by SNI.
public struct ListenerTLSConfig: Sendable, Hashable {
    public enum Version: String, Sendable, Hashable {
        case tls12 = "1.2"
        case tls13 = "1.3"
    }

    public var minVersion: Version
    /// In config order; the one without `hosts` (else the first) answers clients that name no
    /// host or a host no certificate lists.
    public var certificates: [TLSCertificateConfig]

    public init(minVersion: Version = .tls12, certificates: [TLSCertificateConfig]) {
        self.minVersion = minVersion
        self.certificates = certificates
    }
}

public struct TLSCertificateConfig: Sendable, Hashable {
    /// PEM file paths as written (relative ones are read from the working directory).
    public var certificatePath: String
    public var keyPath: String
    /// Lowercased server names, exact (`api.example.test`) or one-label wildcards
    /// (`*.api.example.test`); empty: the default certificate.
    public var hosts: [String]

    public init(certificatePath: String, keyPath: String, hosts: [String] = []) {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        self.hosts = hosts
    }
}
