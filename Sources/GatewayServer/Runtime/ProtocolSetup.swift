import GatewayConfig
import NIOCore
import NIOSSL
import NIOTLS

/// Builds a new client connection's pipeline for the listener's protocols: TLS if configured,
/// then HTTP/1.1, HTTP/2 (chosen by ALPN over TLS, by the connection preface in cleartext), or
/// either. HTTP/1.1 is one handler that parses requests from the bytes itself (RequestParser),
/// orders pipelined ones and writes responses as bytes (DownstreamHeadWriter).
enum ProtocolSetup {
    /// ALPN names in the server's order of preference.
    static func alpn(for protocols: [ListenerProtocol]) -> [String] {
        var names: [String] = []
        if protocols.contains(.h2) { names.append("h2") }
        if protocols.contains(.http1) { names.append("http/1.1") }
        return names
    }

    static func configure(
        _ channel: Channel, loop: NIOLoopBound<LoopContext>, listener: ListenerRuntime, tls: ServerTLS?
    ) throws {
        let sync = channel.pipeline.syncOperations
        let speaksHTTP1 = listener.protocols.contains(.http1)
        if let tls {
            try sync.addHandler(NIOSSLServerHandler(context: tls.context))
            guard listener.protocols.contains(.h2) else {
                return try addHTTP1(channel, loop: loop, listener: listener)
            }
            let negotiation = ApplicationProtocolNegotiationHandler { result, channel in
                channel.eventLoop.makeCompletedFuture {
                    switch result {
                    case .negotiated("h2"):
                        try HTTP2Connection.configure(channel, loop: loop, listener: listener)
                    case .negotiated, .fallback:
                        // No ALPN (or http/1.1): HTTP/1.1 if the listener speaks it.
                        guard speaksHTTP1 else { throw ChannelError.inappropriateOperationForState }
                        try addHTTP1(channel, loop: loop, listener: listener)
                    }
                }
            }
            return try sync.addHandler(negotiation)
        }
        switch (speaksHTTP1, listener.protocols.contains(.h2c)) {
        case (true, true):
            try sync.addHandler(
                HTTP2PrefaceSniffer { channel, http2 in
                    if http2 {
                        try HTTP2Connection.configure(channel, loop: loop, listener: listener)
                    } else {
                        try addHTTP1(channel, loop: loop, listener: listener)
                    }
                })
        case (false, true):
            try HTTP2Connection.configure(channel, loop: loop, listener: listener)
        default:
            try addHTTP1(channel, loop: loop, listener: listener)
        }
    }

    private static func addHTTP1(_ channel: Channel, loop: NIOLoopBound<LoopContext>, listener: ListenerRuntime) throws
    {
        try channel.pipeline.syncOperations.addHandler(ProxyHandler(loop: loop.value, listener: listener))
    }
}
