import NIOCore
import NIOPosix

/// The floor of any SwiftNIO proxy: each client connection is paired with one upstream connection
/// and bytes are relayed both ways untouched (no HTTP parsing, no pools, no headers added). Per
/// request it still does what every NIO proxy must: two reads and two writes+flushes through NIO
/// channels. `proxy-bench`-style runs against it show how much of the gateway's CPU per request is
/// NIO itself.
///
/// `@unchecked Sendable`: both handlers of a pair live on the client channel's event loop (the
/// upstream is connected with `client.eventLoop`), so `peer` and `pending` are only touched there.
final class Relay: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    var peer: Channel?
    var pending: [ByteBuffer] = []

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        if let peer { peer.write(buffer, promise: nil) } else { pending.append(buffer) }
    }

    func channelReadComplete(context: ChannelHandlerContext) { peer?.flush() }
    func channelInactive(context: ChannelHandlerContext) { peer?.close(promise: nil) }
}

@main
struct NIORelay {
    static func main() throws {
        let arguments = CommandLine.arguments
        guard arguments.count == 3, let listenPort = Int(arguments[1]), let upstreamPort = Int(arguments[2]) else {
            print("usage: nio-relay LISTEN_PORT UPSTREAM_PORT   (both on 127.0.0.1)")
            return
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let server = try ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { client in
                let downstream = Relay()
                let upstream = Relay()
                upstream.peer = client
                return client.pipeline.addHandler(downstream).flatMap {
                    ClientBootstrap(group: client.eventLoop)
                        .channelOption(.socketOption(.tcp_nodelay), value: 1)
                        .channelInitializer { $0.pipeline.addHandler(upstream) }
                        .connect(host: "127.0.0.1", port: upstreamPort)
                        .map { channel in
                            downstream.peer = channel
                            for buffer in downstream.pending { channel.write(buffer, promise: nil) }
                            downstream.pending = []
                            channel.flush()
                        }
                }
            }
            .bind(host: "127.0.0.1", port: listenPort).wait()
        try server.closeFuture.wait()
    }
}
