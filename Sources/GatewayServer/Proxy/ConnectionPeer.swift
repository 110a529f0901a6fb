import GatewayConfig
import NIOCore

/// What every request of one client connection shares: who the peer is, and the forwarding
/// fields that follow from it. An HTTP/1.1 connection has one handler and one of these; the
/// streams of an HTTP/2 connection each have a handler of their own but share one peer, so the
/// address text and the `X-Forwarded-*` lines are not rebuilt for every stream.
final class ConnectionPeer {
    /// For the streams of an HTTP/2 connection; an HTTP/1.1 handler has a timer of its own.
    let streamTimer: SharedDeadlineTimer?
    private(set) var client = ClientAddress(nil, trustedProxies: [])
    private var resolved = false
    private var forwarding: UpstreamRequestWriter.Forwarding?
    private var forwardingGeneration = -1

    init(sharedByStreams: Bool = false) {
        streamTimer = sharedByStreams ? SharedDeadlineTimer() : nil
    }

    /// Decided by the first request: the peer of a connection does not change, and a reload that
    /// changes the trusted proxies applies to new connections, as for HTTP/1.1.
    func resolve(_ address: SocketAddress?, trustedProxies: [CIDR]) {
        guard !resolved else { return }
        resolved = true
        client = ClientAddress(address, trustedProxies: trustedProxies)
    }

    func forwarding(scheme: String, snapshot: Snapshot) -> UpstreamRequestWriter.Forwarding {
        if let forwarding, forwardingGeneration == snapshot.generation {
            return forwarding
        }
        let fresh = UpstreamRequestWriter.Forwarding(client: client, scheme: scheme, via: snapshot.viaValue)
        forwarding = fresh
        forwardingGeneration = snapshot.generation
        return fresh
    }
}
