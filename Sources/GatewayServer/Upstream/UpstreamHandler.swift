import NIOCore

/// The only handler of an upstream connection's pipeline. Requests go out as bytes written by
/// `UpstreamRequestWriter`; responses come in as raw bytes, parsed here just enough to find the head and the end of the
/// body (`UpstreamResponseParser`, `ChunkedBodyScanner`), so the proxy can forward them as they
/// came. It also holds reads while the downstream cannot take more (backpressure end to end).
final class UpstreamHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum ResponseState {
        case head(pending: ByteBuffer?, searchFrom: Int)
        case length(remaining: Int)
        case chunked(ChunkedBodyScanner)
        case untilClose
        /// After a 101: bytes both ways until either side closes.
        case tunnel
        case done
    }

    /// The downstream exchange using this connection; nil while the connection is idle in its pool.
    var exchange: ProxyHandler?
    /// Strong, not weak: a weak reference would move the connection's reference counts to a side
    /// table and make every retain of it on the request path a slow call. The cycle (connection →
    /// channel → pipeline → this handler) is broken when the channel closes.
    var connection: UpstreamConnection?
    private(set) var context: ChannelHandlerContext?
    private var readsAllowed = true
    private var readPending = false
    private var needsFlush = false
    /// Kept from writability events, so checking it costs nothing per request.
    private(set) var isWritable = true
    private var state = ResponseState.done
    private var requestWasHead = false
    /// The request asked to switch protocols, so a 101 may answer it.
    private var requestedUpgrade = false
    /// Forward only chunk data (for an HTTP/1.0 client) instead of the chunked bytes as they came.
    private var dechunk = false
    /// The previous response head's field array, reused once that head is gone.
    private var fieldStorage: [UpstreamResponseHead.Field] = []

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        connection = nil
    }

    /// Called when an exchange starts using the connection, before its request is written.
    func beginResponse(requestWasHead: Bool, dechunk: Bool, requestedUpgrade: Bool = false) {
        self.requestWasHead = requestWasHead
        self.dechunk = dechunk
        self.requestedUpgrade = requestedUpgrade
        state = .head(pending: nil, searchFrom: 0)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        guard let exchange, !isDone else {
            // Bytes on an idle connection (or after a complete response) mean the upstream is
            // confused or closing: never reuse it.
            connection?.markUnusable()
            context.close(promise: nil)
            return
        }
        do {
            try process(buffer, exchange: exchange)
        } catch {
            fail(error, context: context)
        }
    }

    private var isDone: Bool {
        if case .done = state { return true }
        return false
    }

    private func process(_ input: ByteBuffer, exchange: ProxyHandler) throws {
        var buffer = input
        while buffer.readableBytes > 0 {
            switch state {
            case .head(let pending, let searchFrom):
                if var pending {
                    // The head began in an earlier read (rare): continue it with these bytes.
                    pending.writeBuffer(&buffer)
                    buffer = pending
                }
                guard let end = FieldBytes.headEnd(in: buffer, from: searchFrom) else {
                    // A head with bare-LF line ends would never be complete: refuse it at once.
                    if FieldBytes.containsBareLF(buffer, from: max(0, searchFrom - 1)) {
                        throw UpstreamResponseError.malformedHeader
                    }
                    if buffer.readableBytes > UpstreamResponseParser.maxHeadBytes {
                        throw UpstreamResponseError.headTooLarge
                    }
                    state = .head(pending: buffer, searchFrom: max(0, buffer.readableBytes - 3))
                    return
                }
                guard let block = buffer.readSlice(length: end) else {
                    throw UpstreamResponseError.malformedHeader
                }
                let head = try UpstreamResponseParser.parse(
                    block, fieldStorage: &fieldStorage, allowUpgrade: requestedUpgrade)
                if head.status == 101 {
                    // Never reused: once switched, the connection belongs to that one tunnel.
                    connection?.markUnusable()
                    state = .tunnel
                    exchange.upstreamSwitchedProtocols(head)
                    guard self.exchange === exchange else { return }
                    if buffer.readableBytes > 0 { exchange.upstreamTunnelData(buffer) }
                    return
                }
                if head.status < 200 {
                    // Interim responses (100, 103) are not forwarded: the gateway answers
                    // Expect itself and the client gets the final response only.
                    state = .head(pending: nil, searchFrom: 0)
                    continue
                }
                let framing = head.framing(requestWasHead: requestWasHead)
                switch framing {
                case .none: state = .done
                case .length(let length): state = .length(remaining: length)
                case .chunked: state = .chunked(ChunkedBodyScanner())
                case .untilClose: state = .untilClose
                }
                exchange.upstreamResponseHead(head, framing: framing)
                guard self.exchange === exchange else {
                    // The exchange let go of this connection on seeing the head (to retry on
                    // another endpoint): the rest of these bytes are nobody's.
                    state = .done
                    return
                }
                if isDone {
                    finish(leftover: buffer.readableBytes, exchange: exchange)
                    return
                }
            case .length(let remaining):
                let take = min(remaining, buffer.readableBytes)
                guard let slice = buffer.readSlice(length: take) else { return }
                state = remaining == take ? .done : .length(remaining: remaining - take)
                exchange.upstreamResponseBody(slice)
                if isDone {
                    finish(leftover: buffer.readableBytes, exchange: exchange)
                    return
                }
            case .chunked(var scanner):
                let dechunk = self.dechunk
                let consumed = try scanner.scan(buffer) { data in
                    if dechunk { exchange.upstreamResponseBody(data) }
                }
                if !dechunk, let slice = buffer.readSlice(length: consumed) {
                    exchange.upstreamResponseBody(slice)
                } else {
                    buffer.moveReaderIndex(forwardBy: consumed)
                }
                state = scanner.isDone ? .done : .chunked(scanner)
                if isDone {
                    finish(leftover: buffer.readableBytes, exchange: exchange)
                    return
                }
            case .untilClose:
                exchange.upstreamResponseBody(buffer)
                return
            case .tunnel:
                exchange.upstreamTunnelData(buffer)
                return
            case .done:
                return
            }
        }
    }

    private func finish(leftover: Int, exchange: ProxyHandler) {
        if leftover > 0 {
            // More bytes than the response framed: the next exchange must not read them.
            connection?.markUnusable()
        }
        exchange.upstreamResponseEnd()
    }

    private func fail(_ error: Error, context: ChannelHandlerContext) {
        connection?.markUnusable()
        let exchange = self.exchange
        self.exchange = nil
        state = .done
        exchange?.upstreamFailed(error)
        context.close(promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        exchange?.upstreamReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        connection?.closed()
        connection = nil
        if case .untilClose = state, let exchange {
            // A close-delimited body ends here, cleanly.
            state = .done
            exchange.upstreamResponseEnd()
            return
        }
        if case .tunnel = state, let exchange {
            state = .done
            self.exchange = nil
            exchange.upstreamTunnelClosed()
            return
        }
        let exchange = self.exchange
        self.exchange = nil
        exchange?.upstreamFailed(UpstreamConnectionError.closed)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        fail(error, context: context)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        isWritable = context.channel.isWritable
        exchange?.upstreamWritabilityChanged(isWritable: isWritable)
    }

    func read(context: ChannelHandlerContext) {
        if readsAllowed {
            context.read()
        } else {
            readPending = true
        }
    }

    func setReadsAllowed(_ allowed: Bool) {
        readsAllowed = allowed
        if allowed, readPending, let context {
            readPending = false
            context.read()
        }
    }

    func write(_ bytes: ByteBuffer) {
        context?.write(wrapOutboundOut(bytes), promise: nil)
        needsFlush = true
    }

    /// A flush with nothing written still walks the pipeline, so it is skipped.
    func flush() {
        guard needsFlush else { return }
        needsFlush = false
        context?.flush()
    }
}

enum UpstreamConnectionError: Error {
    case closed
    case unresolved
}
