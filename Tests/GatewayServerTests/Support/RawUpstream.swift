import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// An "upstream" that answers every request with fixed bytes, whatever they are: for responses a
/// well-behaved server would never send. Counts connections so tests can see reuse decisions.
final class RawUpstream: Sendable {
    let group: MultiThreadedEventLoopGroup
    let channel: Channel
    private let accepted = NIOLockedValueBox(0)

    var port: Int { channel.localAddress?.port ?? 0 }
    var connectionsAccepted: Int { accepted.withLockedValue { $0 } }

    /// `closesAfterAnswer`: the connection is closed after the answer (a close-delimited body).
    init(answer: String, closesAfterAnswer: Bool = false) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.group = group
        let accepted = self.accepted
        self.channel = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                accepted.withLockedValue { $0 += 1 }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        FixedAnswerHandler(answer: answer, closesAfterAnswer: closesAfterAnswer))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
    }

    func stop() async {
        try? await channel.close()
        try? await group.shutdownGracefully()
    }
}

private final class FixedAnswerHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    private let answer: String
    private let closesAfterAnswer: Bool
    private var received = ""

    init(answer: String, closesAfterAnswer: Bool) {
        self.answer = answer
        self.closesAfterAnswer = closesAfterAnswer
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received += String(buffer: unwrapInboundIn(data))
        // One answer per complete request head (these tests send bodiless requests).
        while let end = received.range(of: "\r\n\r\n") {
            received.removeSubrange(..<end.upperBound)
            let written = context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: answer)))
            if closesAfterAnswer {
                written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
                return
            }
        }
    }
}
