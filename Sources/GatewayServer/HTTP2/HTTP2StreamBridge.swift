import NIOCore
import NIOHTTP1

/// Lets one HTTP/2 stream go through the same `ProxyHandler` as an HTTP/1.1 connection, so both
/// protocols share every phase (routing, auth, limits, cache, retries) instead of having two code
/// paths: the request parts NIOHTTP2's codec produces are written as HTTP/1.1 request bytes, and
/// the HTTP/1.1 response bytes the proxy writes are parsed back (with the parsers used for
/// upstream responses) into response parts for the codec. The cost is one extra serialisation
/// and parse of the head per request, on HTTP/2 only.
final class HTTP2StreamBridge: ChannelDuplexHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = HTTPServerResponsePart

    private enum RequestState {
        case idle
        /// A head without Content-Length, held until the first body part or the end says whether
        /// a (chunked) body follows.
        case headHeld(HTTPRequestHead)
        case contentLength
        case chunked
        case done
    }

    private enum ResponseState {
        case head(ByteBuffer)
        case length(remaining: Int)
        case chunked(ChunkedBodyScanner)
        case untilClose
        case done
    }

    private var request = RequestState.idle
    private var response = ResponseState.head(ByteBuffer())
    private var requestWasHead = false

    // MARK: Request: parts in, HTTP/1.1 bytes out

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            requestWasHead = head.method == .HEAD
            if head.headers.contains(name: "content-length") {
                request = .contentLength
                fire(Self.serialize(head, chunked: false), context: context)
            } else {
                request = .headHeld(head)
            }
        case .body(let body):
            if case .headHeld(let head) = request {
                request = .chunked
                fire(Self.serialize(head, chunked: true), context: context)
            }
            switch request {
            case .chunked:
                guard body.readableBytes > 0 else { return }
                fire(UpstreamRequestWriter.chunk(body, allocator: context.channel.allocator), context: context)
            case .contentLength:
                fire(body, context: context)
            case .idle, .headHeld, .done:
                break
            }
        case .end:
            switch request {
            case .headHeld(let head):
                fire(Self.serialize(head, chunked: false), context: context)
            case .chunked:
                fire(UpstreamRequestWriter.lastChunk, context: context)
            case .idle, .contentLength, .done:
                break
            }
            request = .done
            context.fireChannelReadComplete()
        }
    }

    private func fire(_ bytes: ByteBuffer, context: ChannelHandlerContext) {
        context.fireChannelRead(wrapInboundOut(bytes))
    }

    /// The request line and fields as HTTP/1.1. NIOHTTP2 has already validated names and values
    /// (no CR, LF or NUL can be in them) and turned `:authority` into `host`.
    static func serialize(_ head: HTTPRequestHead, chunked: Bool) -> ByteBuffer {
        var text = "\(head.method.rawValue) \(head.uri) HTTP/1.1\r\n"
        for (name, value) in head.headers where !Self.isConnectionSpecific(name) {
            text += "\(name): \(value)\r\n"
        }
        if chunked { text += "transfer-encoding: chunked\r\n" }
        text += "\r\n"
        return ByteBuffer(string: text)
    }

    /// Fields HTTP/2 forbids (RFC 9113 8.2.2), left out in both directions and on both sides of
    /// the gateway; a client that sent them had its stream refused by NIOHTTP2's validation
    /// already, this is for `TE` and anything that slipped through.
    static func isConnectionSpecific(_ name: String) -> Bool {
        switch name.lowercased() {
        case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te": true
        default: false
        }
    }

    // MARK: Response: HTTP/1.1 bytes in, parts out

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        var bytes = unwrapOutboundIn(data)
        do {
            try process(&bytes, context: context)
            promise?.succeed()
        } catch {
            promise?.fail(error)
            context.close(promise: nil)
        }
    }

    private func process(_ bytes: inout ByteBuffer, context: ChannelHandlerContext) throws {
        while bytes.readableBytes > 0 {
            switch response {
            case .head(var pending):
                pending.writeBuffer(&bytes)
                guard let end = FieldBytes.headEnd(in: pending, from: 0) else {
                    if pending.readableBytes > UpstreamResponseParser.maxHeadBytes {
                        throw UpstreamResponseError.headTooLarge
                    }
                    response = .head(pending)
                    return
                }
                guard let block = pending.readSlice(length: end) else { throw UpstreamResponseError.malformedHeader }
                bytes = pending
                let head = try UpstreamResponseParser.parse(block)
                if head.status < 200 {
                    // 100 Continue: the gateway's own, for HTTP/1.1 clients; an HTTP/2 client does
                    // not wait for it.
                    response = .head(ByteBuffer())
                    continue
                }
                context.write(wrapOutboundOut(.head(Self.responseHead(head))), promise: nil)
                switch head.framing(requestWasHead: requestWasHead) {
                case .none:
                    finishResponse(context: context)
                case .length(let length): response = .length(remaining: length)
                case .chunked: response = .chunked(ChunkedBodyScanner(capturesTrailers: true))
                case .untilClose: response = .untilClose
                }
            case .length(let remaining):
                let take = min(remaining, bytes.readableBytes)
                guard let slice = bytes.readSlice(length: take) else { return }
                context.write(wrapOutboundOut(.body(.byteBuffer(slice))), promise: nil)
                if remaining == take {
                    finishResponse(context: context)
                } else {
                    response = .length(remaining: remaining - take)
                }
            case .chunked(var scanner):
                let consumed = try scanner.scan(bytes) { data in
                    context.write(self.wrapOutboundOut(.body(.byteBuffer(data))), promise: nil)
                }
                bytes.moveReaderIndex(forwardBy: consumed)
                if scanner.isDone {
                    // Chunked trailers (gRPC's status) become the stream's trailing HEADERS.
                    let fields = scanner.trailerFields
                    var trailers: HTTPHeaders?
                    if !fields.isEmpty {
                        trailers = HTTPHeaders(
                            fields.filter { !Self.isConnectionSpecific($0.name) }.map {
                                ($0.name.lowercased(), $0.value)
                            })
                    }
                    finishResponse(context: context, trailers: trailers)
                } else {
                    response = .chunked(scanner)
                }
            case .untilClose:
                context.write(wrapOutboundOut(.body(.byteBuffer(bytes))), promise: nil)
                return
            case .done:
                // Bytes after the response's end have nowhere to go on this stream.
                return
            }
        }
    }

    /// END_STREAM is written but not flushed: the proxy flushes once it has finished with the
    /// exchange (released its upstream connection for reuse). A flush here would close the
    /// stream inside the proxy's own write, and the proxy would see its connection go away with
    /// the upstream connection still held, and close that instead of reusing it.
    private func finishResponse(context: ChannelHandlerContext, flush: Bool = false, trailers: HTTPHeaders? = nil) {
        response = .done
        if flush {
            context.writeAndFlush(wrapOutboundOut(.end(trailers)), promise: nil)
        } else {
            context.write(wrapOutboundOut(.end(trailers)), promise: nil)
        }
    }

    /// The status and fields; hop-by-hop fields are dropped by NIOHTTP2's normalisation.
    private static func responseHead(_ head: UpstreamResponseHead) -> HTTPResponseHead {
        var headers = HTTPHeaders()
        for field in head.fields
        where field.kind != .hopByHop && field.kind != .upgrade
            && field.kind != .transferEncoding
        {
            headers.add(name: head.name(of: field), value: head.value(of: field))
        }
        return HTTPResponseHead(
            version: .http1_1, status: HTTPResponseStatus(statusCode: head.status), headers: headers)
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        // A close-delimited response ends where the proxy closes: that is END_STREAM here.
        if case .untilClose = response {
            finishResponse(context: context, flush: true)
        }
        context.close(mode: mode, promise: promise)
    }
}
