import NIOCore

/// Below NIOHTTP2 on a client connection: every stream flushes when its response ends, and those
/// ends come from different upstream connections, so each would be its own TLS record and write
/// syscall. Flushes asked for during one pass of the event loop become a single flush at the end
/// of that pass (after the loop has handled the I/O it woke up for), as nginx batches the
/// responses it has ready into one write.
final class FlushCoalescer: ChannelOutboundHandler {
    typealias OutboundIn = Any

    private var flushScheduled = false

    func flush(context: ChannelHandlerContext) {
        guard !flushScheduled else { return }
        flushScheduled = true
        context.eventLoop.assumeIsolated().execute {
            self.flushScheduled = false
            context.flush()
        }
    }
}
