import NIOConcurrencyHelpers
import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOPosix

/// An HTTP/2 client at frame level (NIOHTTP2Handler without a multiplexer): tests send HEADERS and
/// DATA frames exactly as they choose and see every frame the server answers with, which the
/// HTTP-level clients (curl, AsyncHTTPClient) hide.
final class RawHTTP2Client: Sendable {
    private let group: MultiThreadedEventLoopGroup
    let channel: Channel
    private let collector: FrameCollector

    /// `validatesHeaders: false` lets a test send header blocks RFC 9113 calls malformed (NIOHTTP2
    /// refuses to send them otherwise), to see what the server does with them.
    init(port: Int, validatesHeaders: Bool = true) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let collector = FrameCollector()
        self.group = group
        self.collector = collector
        channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        NIOHTTP2Handler(
                            mode: .client, headerBlockValidation: validatesHeaders ? .enabled : .disabled,
                            contentLengthValidation: validatesHeaders ? .enabled : .disabled))
                    try channel.pipeline.syncOperations.addHandler(collector)
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
    }

    func send(_ stream: Int, _ payload: HTTP2Frame.FramePayload) {
        channel.writeAndFlush(HTTP2Frame(streamID: HTTP2StreamID(stream), payload: payload), promise: nil)
    }

    /// Every HEADERS and DATA frame of the stream, once the server has ended it.
    func response(_ stream: Int) async throws -> [HTTP2Frame.FramePayload] {
        let promise = channel.eventLoop.makePromise(of: [HTTP2Frame.FramePayload].self)
        channel.eventLoop.execute { self.collector.whenEnded(HTTP2StreamID(stream), promise) }
        return try await bounded(promise.futureResult, "stream \(stream) to end", timeout: .seconds(10)).get()
    }

    /// Returns once at least `bytes` bytes of DATA arrived on the stream (this client never
    /// grants flow-control window by itself: a test sends WINDOW_UPDATE when it chooses).
    func dataReceived(_ stream: Int, atLeast bytes: Int) async throws {
        let promise = channel.eventLoop.makePromise(of: Void.self)
        channel.eventLoop.execute { self.collector.whenData(HTTP2StreamID(stream), atLeast: bytes, promise) }
        try await bounded(promise.futureResult, "\(bytes) bytes on stream \(stream)", timeout: .seconds(10)).get()
    }

    func close() async throws {
        try? await channel.close()
        try await group.shutdownGracefully()
    }
}

/// Used on the client's event loop only; the lock is what lets the channel initializer capture it.
private final class FrameCollector: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTP2Frame

    private struct State {
        var frames: [HTTP2StreamID: [HTTP2Frame.FramePayload]] = [:]
        var ended: Set<HTTP2StreamID> = []
        var waiters: [HTTP2StreamID: EventLoopPromise<[HTTP2Frame.FramePayload]>] = [:]
        var goAway: HTTP2Frame.FramePayload?
        var dataBytes: [HTTP2StreamID: Int] = [:]
        var dataWaiters: [(stream: HTTP2StreamID, bytes: Int, promise: EventLoopPromise<Void>)] = []
    }

    private let state = NIOLockedValueBox(State())

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        let ends: Bool
        switch frame.payload {
        case .headers(let headers): ends = headers.endStream
        case .data(let data):
            ends = data.endStream
            let ready = state.withLockedValue { state in
                state.dataBytes[frame.streamID, default: 0] += data.data.readableBytes
                let received = state.dataBytes[frame.streamID, default: 0]
                let ready = state.dataWaiters.filter { $0.stream == frame.streamID && $0.bytes <= received }
                state.dataWaiters.removeAll { $0.stream == frame.streamID && $0.bytes <= received }
                return ready.map(\.promise)
            }
            for promise in ready { promise.succeed() }
        case .rstStream: ends = true
        case .goAway:
            // A connection error: every stream still open ends here, with the GOAWAY as its last frame.
            endWaitingStreams(lastFrame: frame.payload)
            return
        default: return
        }
        let waiter = state.withLockedValue {
            state -> (EventLoopPromise<[HTTP2Frame.FramePayload]>, [HTTP2Frame.FramePayload])? in
            state.frames[frame.streamID, default: []].append(frame.payload)
            guard ends else { return nil }
            state.ended.insert(frame.streamID)
            guard let waiter = state.waiters.removeValue(forKey: frame.streamID) else { return nil }
            return (waiter, state.frames[frame.streamID] ?? [])
        }
        if let (promise, frames) = waiter { promise.succeed(frames) }
    }

    /// A connection closed without GOAWAY: streams still waited for end with what they got.
    func channelInactive(context: ChannelHandlerContext) {
        endWaitingStreams(lastFrame: nil)
        context.fireChannelInactive()
    }

    /// Ends every stream a test waits for with what it got, plus `lastFrame` (a GOAWAY), which
    /// later waiters also get.
    private func endWaitingStreams(lastFrame: HTTP2Frame.FramePayload?) {
        let waiters = state.withLockedValue { state in
            let waiting = state.waiters
            state.waiters = [:]
            if let lastFrame {
                state.goAway = lastFrame
                for stream in waiting.keys {
                    state.frames[stream, default: []].append(lastFrame)
                    state.ended.insert(stream)
                }
            }
            return waiting.map { ($0.value, state.frames[$0.key] ?? []) }
        }
        for (promise, frames) in waiters { promise.succeed(frames) }
    }

    func whenData(_ stream: HTTP2StreamID, atLeast bytes: Int, _ promise: EventLoopPromise<Void>) {
        let ready = state.withLockedValue { state in
            guard state.dataBytes[stream, default: 0] >= bytes else {
                state.dataWaiters.append((stream, bytes, promise))
                return false
            }
            return true
        }
        if ready { promise.succeed() }
    }

    func whenEnded(_ stream: HTTP2StreamID, _ promise: EventLoopPromise<[HTTP2Frame.FramePayload]>) {
        let frames = state.withLockedValue { state -> [HTTP2Frame.FramePayload]? in
            if !state.ended.contains(stream), let goAway = state.goAway {
                return (state.frames[stream] ?? []) + [goAway]
            }
            guard state.ended.contains(stream) else {
                state.waiters[stream] = promise
                return nil
            }
            return state.frames[stream] ?? []
        }
        if let frames { promise.succeed(frames) }
    }
}
