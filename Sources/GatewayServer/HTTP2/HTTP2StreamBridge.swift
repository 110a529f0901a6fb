import NIOCore
import NIOHPACK
import NIOHTTP2

/// Lets one HTTP/2 stream go through the same `ProxyHandler` as an HTTP/1.1 connection, so both
/// protocols share every phase (routing, auth, limits, cache, retries) instead of having two code
/// paths: the request's HEADERS and DATA frames are written as HTTP/1.1 request bytes, and the
/// HTTP/1.1 response bytes the proxy writes are parsed back (with the parsers used for upstream
/// responses) into HEADERS and DATA frames. It works on frame payloads directly: going through
/// NIOHTTP2's HTTP/1 codec as well cost a second conversion of every head (`HTTPHeaders` both
/// ways, lowercasing, `String` building), measurable at tens of thousands of streams per second.
final class HTTP2StreamBridge: ChannelDuplexHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = HTTP2Frame.FramePayload

    private enum RequestState {
        case head
        /// A head without Content-Length and not ending the stream, held (without its final CRLF)
        /// until the first DATA says whether a body follows: some clients end a GET with an empty
        /// DATA frame, and that must not become a chunked body upstream.
        case headHeld(ByteBuffer)
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

    private var request = RequestState.head
    private var response = ResponseState.head(ByteBuffer())
    private var requestWasHead = false
    /// Completed when the frame carrying END_STREAM has been written to the connection.
    private var responseEndWritten: EventLoopFuture<Void>?

    // MARK: Request: frames in, HTTP/1.1 bytes out

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .headers(let headers):
            guard case .head = request else {
                // Trailers: an HTTP/1.1 upstream gets none (see the README); they end the body.
                endRequest(context: context)
                return
            }
            guard var serialized = Self.requestHead(headers.headers, allocator: context.channel.allocator) else {
                // Malformed (RFC 9113 8.1.1): a stream error, as NIOHTTP2 answers its own checks.
                request = .done
                context.writeAndFlush(wrapOutboundOut(.rstStream(.protocolError)), promise: nil)
                context.close(promise: nil)
                return
            }
            requestWasHead = serialized.isHead
            if headers.endStream || serialized.hasContentLength {
                serialized.bytes.writeStaticString("\r\n")
                request = .contentLength
                fire(serialized.bytes, context: context)
                if headers.endStream { endRequest(context: context) }
            } else {
                request = .headHeld(serialized.bytes)
            }
        case .data(let data):
            guard case .byteBuffer(let body) = data.data else { return }
            if case .headHeld(var head) = request {
                if body.readableBytes == 0 && data.endStream {
                    head.writeStaticString("\r\n")
                    request = .contentLength
                } else {
                    head.writeStaticString("transfer-encoding: chunked\r\n\r\n")
                    request = .chunked
                }
                fire(head, context: context)
            }
            switch request {
            case .chunked where body.readableBytes > 0:
                fire(UpstreamRequestWriter.chunk(body, allocator: context.channel.allocator), context: context)
            case .contentLength:
                fire(body, context: context)
            case .head, .headHeld, .chunked, .done:
                break
            }
            if data.endStream { endRequest(context: context) }
        default:
            // RST_STREAM closes the stream channel itself; flow control and priority are NIOHTTP2's.
            break
        }
    }

    private func endRequest(context: ChannelHandlerContext) {
        switch request {
        case .chunked:
            fire(UpstreamRequestWriter.lastChunk, context: context)
        case .headHeld(var head):
            head.writeStaticString("\r\n")
            fire(head, context: context)
        case .head, .contentLength, .done:
            break
        }
        request = .done
        context.fireChannelReadComplete()
    }

    private func fire(_ bytes: ByteBuffer, context: ChannelHandlerContext) {
        context.fireChannelRead(wrapInboundOut(bytes))
    }

    /// The request line and fields as HTTP/1.1, in one pass over the block. NIOHTTP2 has already
    /// validated it (pseudo-fields first and well-formed, no CR, LF or NUL anywhere, no
    /// connection-specific fields but `te: trailers`). `:authority` becomes `host`; several
    /// `cookie` fields are joined into one (RFC 9113 8.2.3), as HTTP/1.1 servers expect one.
    /// The final CRLF is left to the caller, which may still have to add Transfer-Encoding.
    /// Nil for what RFC 9113 8.3.1 calls malformed and NIOHTTP2 lets through: a `:path` that is
    /// not origin-form (an absolute URI there would override `:authority` in routing) and a
    /// `host` field naming another authority than `:authority`.
    static func requestHead(
        _ headers: HPACKHeaders, allocator: ByteBufferAllocator
    ) -> (bytes: ByteBuffer, hasContentLength: Bool, isHead: Bool)? {
        var bytes = allocator.buffer(capacity: 512)
        var method = ""
        var path = ""
        var authority: String?
        var wroteRequestLine = false
        var hasContentLength = false
        var cookie: String?

        func writeRequestLine() {
            wroteRequestLine = true
            bytes.writeString(method)
            bytes.writeInteger(UInt8(ascii: " "))
            // CONNECT has no :path; its target is the authority.
            bytes.writeString(path.isEmpty ? authority ?? "/" : path)
            bytes.writeStaticString(" HTTP/1.1\r\n")
            if let authority { writeField(&bytes, "host", authority) }
        }

        for (name, value, _) in headers {
            if name.utf8.first == UInt8(ascii: ":") {
                switch name {
                case ":method": method = value
                case ":path": path = value
                case ":authority": authority = value
                default: break
                }
                continue
            }
            if !wroteRequestLine {
                guard isOriginForm(path, method: method) else { return nil }
                writeRequestLine()
            }
            switch name {
            case "host" where authority != nil:
                guard let authority, value.lowercased() == authority.lowercased() else { return nil }
                continue
            case "te":
                continue
            case "cookie":
                cookie = cookie.map { "\($0); \(value)" } ?? value
                continue
            case "content-length":
                hasContentLength = true
            default:
                break
            }
            writeField(&bytes, name, value)
        }
        if !wroteRequestLine {
            guard isOriginForm(path, method: method) else { return nil }
            writeRequestLine()
        }
        if let cookie { writeField(&bytes, "cookie", cookie) }
        return (bytes, hasContentLength, method == "HEAD")
    }

    /// CONNECT has no `:path` (NIOHTTP2 checks that); `*` is for OPTIONS only.
    private static func isOriginForm(_ path: String, method: String) -> Bool {
        path.utf8.first == UInt8(ascii: "/") || (path == "*" && method == "OPTIONS") || method == "CONNECT"
    }

    private static func writeField(_ bytes: inout ByteBuffer, _ name: String, _ value: String) {
        bytes.writeString(name)
        bytes.writeStaticString(": ")
        bytes.writeString(value)
        bytes.writeStaticString("\r\n")
    }

    /// Fields HTTP/2 forbids (RFC 9113 8.2.2), left out on the upstream HTTP/2 side of the
    /// gateway; a client that sent them had its stream refused by NIOHTTP2's validation already.
    static func isConnectionSpecific(_ name: String) -> Bool {
        switch name.lowercased() {
        case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te": true
        default: false
        }
    }

    // MARK: Response: HTTP/1.1 bytes in, frames out

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
                let framing = head.framing(requestWasHead: requestWasHead)
                let headers = Self.responseHeaders(head)
                if case .none = framing {
                    response = .done
                    send(.headers(.init(headers: headers, endStream: true)), context: context)
                    continue
                }
                send(.headers(.init(headers: headers)), context: context)
                switch framing {
                case .none: break
                case .length(let length): response = .length(remaining: length)
                case .chunked: response = .chunked(ChunkedBodyScanner(capturesTrailers: true))
                case .untilClose: response = .untilClose
                }
            case .length(let remaining):
                let take = min(remaining, bytes.readableBytes)
                guard let slice = bytes.readSlice(length: take) else { return }
                let isLast = remaining == take
                response = isLast ? .done : .length(remaining: remaining - take)
                send(.data(.init(data: .byteBuffer(slice), endStream: isLast)), context: context)
            case .chunked(var scanner):
                let consumed = try scanner.scan(bytes) { data in
                    self.send(.data(.init(data: .byteBuffer(data))), context: context)
                }
                bytes.moveReaderIndex(forwardBy: consumed)
                guard scanner.isDone else {
                    response = .chunked(scanner)
                    continue
                }
                response = .done
                // Chunked trailers (gRPC's status) become the stream's trailing HEADERS.
                let trailers = scanner.trailerFields.filter { !Self.isConnectionSpecific($0.name) }
                if trailers.isEmpty {
                    send(.data(.init(data: .byteBuffer(ByteBuffer()), endStream: true)), context: context)
                } else {
                    let fields = HPACKHeaders(trailers.map { ($0.name.lowercased(), $0.value) })
                    send(.headers(.init(headers: fields, endStream: true)), context: context)
                }
            case .untilClose:
                send(.data(.init(data: .byteBuffer(bytes))), context: context)
                return
            case .done:
                // Bytes after the response's end have nowhere to go on this stream.
                return
            }
        }
    }

    /// Written but not flushed, END_STREAM included: the proxy flushes once it has finished with
    /// the exchange (released its upstream connection for reuse). A flush here would close the
    /// stream inside the proxy's own write, and the proxy would see its connection go away with
    /// the upstream connection still held, and close that instead of reusing it.
    private func send(_ payload: HTTP2Frame.FramePayload, context: ChannelHandlerContext) {
        let endsStream: Bool
        switch payload {
        case .headers(let headers): endsStream = headers.endStream
        case .data(let data): endsStream = data.endStream
        default: endsStream = false
        }
        guard endsStream else {
            context.write(wrapOutboundOut(payload), promise: nil)
            return
        }
        let written = context.eventLoop.makePromise(of: Void.self)
        responseEndWritten = written.futureResult
        context.write(wrapOutboundOut(payload), promise: written)
    }

    private static let statusValues = (0..<600).map { String($0) }

    /// `:status` and the fields, names lowercased (HTTP/2 requires it), hop-by-hop fields left
    /// out. The request id is unique per response, so it is kept out of the HPACK dynamic table,
    /// where it would only evict fields that repeat (server, content-type, date).
    static func responseHeaders(_ head: UpstreamResponseHead) -> HPACKHeaders {
        var headers = HPACKHeaders()
        headers.reserveCapacity(head.fields.count + 1)
        let status = head.status < statusValues.count ? statusValues[head.status] : String(head.status)
        headers.add(name: ":status", value: status)
        for field in head.fields {
            switch field.kind {
            case .hopByHop, .upgrade, .transferEncoding:
                continue
            case .requestID:
                headers.add(name: head.lowercasedName(of: field), value: head.value(of: field), indexing: .nonIndexable)
            case .contentLength where head.status == 204:
                // RFC 9110 8.6: never on a 204, and NIOHTTP2 refuses to send one with a length.
                continue
            case .other, .contentLength:
                headers.add(name: head.lowercasedName(of: field), value: head.value(of: field))
            }
        }
        return headers
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        // A close-delimited response ends where the proxy closes: that is END_STREAM here.
        if case .untilClose = response {
            response = .done
            send(.data(.init(data: .byteBuffer(ByteBuffer()), endStream: true)), context: context)
        }
        guard let written = responseEndWritten else {
            context.close(mode: mode, promise: promise)
            return
        }
        // The proxy closes right after the last write of a response that ends the exchange: an
        // answer with Connection: close (a refused request), a close-delimited body, a drain.
        // NIOHTTP2 holds a stream's flushed frames while the parent connection is still reading,
        // and DATA the client's flow-control window has no room for yet; closing now would drop
        // them and reset the stream with CANCEL, so the client would lose the end of the
        // response. Close once END_STREAM is written. If the client never opens its window, the
        // proxy's timeout sweep closes again: `responseEndWritten` is cleared, so that close
        // resets the stream at once.
        responseEndWritten = nil
        context.flush()
        written.assumeIsolated().whenComplete { _ in
            // The stream may have closed itself (both sides ended): the caller still learns when.
            context.close(mode: mode, promise: nil)
            if let promise { context.channel.closeFuture.cascade(to: promise) }
        }
    }
}
