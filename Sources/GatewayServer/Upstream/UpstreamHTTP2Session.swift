import NIOCore
import NIOHTTP1
import NIOHTTP2

/// One HTTP/2 connection to an endpoint of an upstream declared `protocol: h2c` or `h2`, shared
/// by the requests of one event loop: each request gets a stream of its own (a child channel with
/// `HTTP2UpstreamStreamBridge` and the usual `UpstreamHandler`), and the pool counts streams
/// where it counts connections for HTTP/1.1.
final class UpstreamHTTP2Session {
    let channel: Channel
    let multiplexer: NIOHTTP2Handler.StreamMultiplexer
    /// False once the upstream sent GOAWAY or the connection failed: streams already open finish,
    /// new ones go to a new connection.
    var isAcceptingStreams = true
    /// Whether a stream was already opened on it (a stream that fails at once on a connection
    /// that carried others may be retried once on a fresh one, as for HTTP/1.1 keep-alive).
    var hasCarriedStreams = false
    /// When the last stream ended, while none is open.
    var idleSince: NIODeadline?

    init(channel: Channel, multiplexer: NIOHTTP2Handler.StreamMultiplexer) {
        self.channel = channel
        self.multiplexer = multiplexer
    }

    var isUsable: Bool { isAcceptingStreams && channel.isActive }

    /// NIOHTTP2 as a client, after the pool's TLS handler if any (its ALPN offers only `h2`).
    /// Push is off, and the windows are larger than the defaults so one stream can fill a fast link.
    static func configure(_ channel: Channel) throws {
        let sync = channel.pipeline.syncOperations
        var connection = NIOHTTP2Handler.ConnectionConfiguration()
        connection.initialSettings = [
            HTTP2Setting(parameter: .enablePush, value: 0),
            HTTP2Setting(parameter: .maxConcurrentStreams, value: 100),
            HTTP2Setting(parameter: .initialWindowSize, value: 1 << 20),
        ]
        _ = try sync.configureHTTP2Pipeline(
            mode: .client, connectionConfiguration: connection, streamConfiguration: .init()
        ) { pushed in
            // Servers may not open streams to a client that disabled push: refuse any.
            pushed.close()
        }
    }

    /// The session of a connection `configure` set up; `closed` runs when the connection ends. A
    /// connection it cannot use is closed.
    static func start(on channel: Channel, closed: @escaping (UpstreamHTTP2Session) -> Void) throws
        -> UpstreamHTTP2Session
    {
        do {
            let sync = channel.pipeline.syncOperations
            let session = UpstreamHTTP2Session(
                channel: channel, multiplexer: try sync.handler(type: NIOHTTP2Handler.self).syncMultiplexer())
            try sync.addHandler(UpstreamHTTP2SessionWatcher(session: session, closed: closed))
            return session
        } catch {
            channel.close(promise: nil)
            throw error
        }
    }

    /// A new stream's pipeline, ending in the `UpstreamHandler` the proxy talks to.
    static func configureStream(_ stream: Channel, https: Bool) throws {
        let sync = stream.pipeline.syncOperations
        try sync.addHandler(HTTP2FramePayloadToHTTP1ClientCodec(httpProtocol: https ? .https : .http))
        try sync.addHandler(HTTP2UpstreamStreamBridge())
        try sync.addHandler(UpstreamHandler())
    }
}

/// Last on the session's connection pipeline: connection-level frames arrive here. A GOAWAY
/// means no new streams on this connection; an error or the close means none at all.
final class UpstreamHTTP2SessionWatcher: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame
    private let session: UpstreamHTTP2Session
    private let closed: (UpstreamHTTP2Session) -> Void

    init(session: UpstreamHTTP2Session, closed: @escaping (UpstreamHTTP2Session) -> Void) {
        self.session = session
        self.closed = closed
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .goAway = unwrapInboundIn(data).payload {
            session.isAcceptingStreams = false
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        session.isAcceptingStreams = false
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        session.isAcceptingStreams = false
        closed(session)
        context.fireChannelInactive()
    }
}
