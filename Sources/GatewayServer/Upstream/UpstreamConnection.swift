import NIOCore

/// One keep-alive connection to an endpoint, owned by the pool of the loop it lives on.
final class UpstreamConnection {
    let channel: Channel
    let handler: UpstreamHandler
    unowned let pool: EndpointPool
    /// When it last went idle; non-idempotent requests only take recently used connections.
    var idleSince: NIODeadline = .now()
    private(set) var isUsable = true
    private(set) var isClosed = false

    init(channel: Channel, handler: UpstreamHandler, pool: EndpointPool) {
        self.channel = channel
        self.handler = handler
        self.pool = pool
    }

    func markUnusable() {
        isUsable = false
    }

    /// Called once when the channel goes inactive, from whichever state it was in.
    func closed() {
        guard !isClosed else { return }
        isClosed = true
        isUsable = false
        pool.connectionClosed(self)
    }

    func close() {
        isUsable = false
        channel.close(promise: nil)
    }
}
