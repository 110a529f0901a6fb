import GatewayConfig
import NIOConcurrencyHelpers

/// The settings a listener socket gives its new connections. A reload that keeps the address
/// swaps them here (connections read them once, when accepted); one that moves the address binds
/// a new socket with a new binding and closes the old one.
final class ListenerBinding: Sendable {
    let id: Int
    /// `max_connections` across all event loops: touched once per connection, not per request.
    let limiter: Bulkhead
    private let settings: NIOLockedValueBox<(config: ListenerConfig, runtime: ListenerRuntime, tls: ServerTLS?)>

    init(id: Int, config: ListenerConfig, tls: ServerTLS?) {
        self.id = id
        self.limiter = Bulkhead(name: "listener:\(config.name)", limit: config.maxConnections)
        self.settings = NIOLockedValueBox((config, ListenerRuntime(config, bindingID: id), tls))
    }

    /// Read once per accepted connection: a reload's new certificates apply to new connections.
    var tls: ServerTLS? { settings.withLockedValue { $0.tls } }

    var config: ListenerConfig { settings.withLockedValue { $0.config } }

    /// Read once per accepted connection, never per request.
    var runtime: ListenerRuntime { settings.withLockedValue { $0.runtime } }

    func update(_ config: ListenerConfig, tls: ServerTLS?) {
        settings.withLockedValue { $0 = (config, ListenerRuntime(config, bindingID: id), tls) }
        limiter.limit = config.maxConnections
    }
}
