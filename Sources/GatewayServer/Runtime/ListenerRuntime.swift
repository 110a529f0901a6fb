import GatewayConfig
import NIOCore

/// The per-listener settings a downstream connection reads, converted once to NIO units.
struct ListenerRuntime: Sendable {
    /// Which binding accepted the connection: a reload that moves a listener to a new address
    /// keeps its name, and only the old binding's connections are drained.
    let bindingID: Int
    let name: String
    let scheme: String
    let maxHeaders: Int
    let maxHeaderBytes: Int
    let maxBody: Int?
    let headerReadTimeout: TimeAmount
    let bodyReadTimeout: TimeAmount
    let idleTimeout: TimeAmount
    /// Set on a cleartext listener whose requests are all redirected to HTTPS on this port.
    let httpsRedirectPort: Int?
    let protocols: [ListenerProtocol]

    init(_ config: ListenerConfig, bindingID: Int) {
        self.bindingID = bindingID
        self.name = config.name
        self.scheme = config.tls == nil ? "http" : "https"
        self.httpsRedirectPort = config.httpsRedirectPort
        self.protocols = config.protocols
        self.maxHeaders = config.limits.maxHeaders
        self.maxHeaderBytes = config.limits.maxHeaderBytes
        self.maxBody = config.limits.maxBody
        self.headerReadTimeout = TimeAmount(config.timeouts.headerRead)
        self.bodyReadTimeout = TimeAmount(config.timeouts.bodyRead)
        self.idleTimeout = TimeAmount(config.timeouts.idle)
    }
}
