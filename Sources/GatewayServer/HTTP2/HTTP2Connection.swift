import NIOCore
import NIOHTTP1
import NIOHTTP2

/// An HTTP/2 connection (h2 after ALPN, or h2c with prior knowledge): NIOHTTP2 does the framing,
/// flow control and HPACK; every stream becomes a child channel whose request goes through the
/// same `ProxyHandler` as HTTP/1.1, behind `HTTP2StreamBridge`.
enum HTTP2Connection {
    /// Streams one connection may have open at once (RFC 9113 recommends at least 100).
    static let maxConcurrentStreams = 128

    static func configure(
        _ channel: Channel, loop: NIOLoopBound<LoopContext>, listener: ListenerRuntime
    ) throws {
        var connection = NIOHTTP2Handler.ConnectionConfiguration()
        connection.initialSettings = [
            HTTP2Setting(parameter: .maxConcurrentStreams, value: maxConcurrentStreams),
            HTTP2Setting(parameter: .maxHeaderListSize, value: listener.maxHeaderBytes),
            HTTP2Setting(parameter: .initialWindowSize, value: 65_535),
        ]
        // Rapid reset (CVE-2023-44487) and other floods are bounded by NIOHTTP2: at most 200
        // stream resets per 30 s and a budget of "glitches" per connection, past which it is closed.
        var stream = NIOHTTP2Handler.StreamConfiguration()
        stream.streamResetFrameRateLimit.maximumCount = 200
        stream.streamResetFrameRateLimit.windowLength = .seconds(30)
        loop.value.register(http2Connection: channel)
        try channel.pipeline.syncOperations.addHandler(FlushCoalescer())
        let peer = NIOLoopBound(ConnectionPeer(sharedByStreams: true), eventLoop: channel.eventLoop)
        channel.closeFuture.whenComplete { _ in peer.value.streamTimer?.stop() }
        _ = try channel.pipeline.syncOperations.configureHTTP2Pipeline(
            mode: .server, connectionConfiguration: connection, streamConfiguration: stream
        ) { streamChannel in
            streamChannel.eventLoop.makeCompletedFuture {
                let sync = streamChannel.pipeline.syncOperations
                try sync.addHandler(HTTP2StreamBridge())
                try sync.addHandler(
                    ProxyHandler(loop: loop.value, listener: listener, isStream: true, peer: peer.value))
            }
        }
        try channel.pipeline.syncOperations.addHandler(ConnectionErrorCloser())
    }
}

/// Last on an HTTP/2 connection's pipeline: NIOHTTP2 reports a connection error (a protocol
/// violation, too many resets, a flood of control frames) after sending its GOAWAY, and it is
/// this handler that ends the connection then, instead of leaving the abuser connected.
///
/// A malformed request (RFC 9113 8.1.1) is a stream error: NIOHTTP2 has queued RST_STREAM
/// PROTOCOL_ERROR for that stream and reports the error the same way. Closing then would drop
/// the reset before it is flushed and every other stream of the connection with it, as nginx does
/// not; repeated stream errors still become a connection error through NIOHTTP2's glitch budget.
private final class ConnectionErrorCloser: ChannelInboundHandler {
    typealias InboundIn = Never

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if Self.isMalformedRequest(error) { return }
        context.close(promise: nil)
    }

    /// The errors of NIOHTTP2's header-block and content-length checks, trailers without
    /// END_STREAM, and a stream opened after our GOAWAY: NIOHTTP2 raises these as stream errors
    /// only (checked against swift-nio-http2 1.46.0). Not `FlowControlViolation` or
    /// `BadStreamStateTransition`, which are also connection errors.
    static func isMalformedRequest(_ error: Error) -> Bool {
        switch error {
        case is NIOHTTP2Errors.MissingPseudoHeader, is NIOHTTP2Errors.DuplicatePseudoHeader,
            is NIOHTTP2Errors.PseudoHeaderAfterRegularHeader, is NIOHTTP2Errors.UnknownPseudoHeader,
            is NIOHTTP2Errors.UnsupportedPseudoHeader, is NIOHTTP2Errors.InvalidPseudoHeaders,
            is NIOHTTP2Errors.InvalidPseudoHeaderValue, is NIOHTTP2Errors.EmptyPathHeader,
            is NIOHTTP2Errors.InvalidHTTP2HeaderFieldName, is NIOHTTP2Errors.InvalidHTTP2HeaderFieldValue,
            is NIOHTTP2Errors.ForbiddenHeaderField, is NIOHTTP2Errors.ContentLengthViolated,
            is NIOHTTP2Errors.ContentLengthHeadersMismatch, is NIOHTTP2Errors.ContentLengthHeaderNegative,
            is NIOHTTP2Errors.ContentLengthHeaderMalformedValue, is NIOHTTP2Errors.TrailersWithoutEndStream,
            is NIOHTTP2Errors.StreamError:
            true
        default:
            false
        }
    }
}

extension HTTP2Connection {
    /// A graceful GOAWAY (RFC 9113 6.8): no new streams, the open ones may finish. The last stream
    /// id is the highest possible, so no request the client already sent is lost; the connection
    /// closes when the drain ends.
    static func goAway(_ channel: Channel) {
        let frame = HTTP2Frame(
            streamID: .rootStream, payload: .goAway(lastStreamID: .maxID, errorCode: .noError, opaqueData: nil))
        channel.writeAndFlush(frame, promise: nil)
    }
}

/// On a cleartext listener that speaks both HTTP/1.1 and h2c: looks at the first bytes for the
/// HTTP/2 connection preface, then sets up one protocol or the other and steps aside.
final class HTTP2PrefaceSniffer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
    private let setUp: (Channel, _ http2: Bool) throws -> Void
    private var buffered = ByteBuffer()
    private var decided = false

    init(setUp: @escaping (Channel, _ http2: Bool) throws -> Void) {
        self.setUp = setUp
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        guard !decided else { return context.fireChannelRead(data) }
        buffered.writeBuffer(&bytes)
        let seen = buffered.readableBytesView
        let prefix = Self.preface.prefix(seen.count)
        let isPreface = seen.prefix(Self.preface.count).elementsEqual(prefix)
        // Undecided until either the whole preface arrived or the bytes stopped matching it.
        if isPreface && seen.count < Self.preface.count { return }
        decided = true
        do {
            try setUp(context.channel, isPreface)
        } catch {
            context.close(promise: nil)
            return
        }
        let pending = buffered
        buffered = ByteBuffer()
        context.fireChannelRead(wrapInboundOut(pending))
        context.fireChannelReadComplete()
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}
