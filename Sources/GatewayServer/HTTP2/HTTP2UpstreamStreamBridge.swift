import NIOCore
import NIOHTTP1

/// The mirror of `HTTP2StreamBridge`, on the upstream side: it lets one HTTP/2 stream to an
/// upstream (`protocol: h2c` or `h2`) stand in for an HTTP/1.1 connection, so `ProxyHandler` and
/// `UpstreamHandler` drive it unchanged (retries, timeouts, breakers, backpressure). The request
/// bytes the proxy writes are parsed back into request parts for NIOHTTP2's client codec; the
/// response parts are written as HTTP/1.1 bytes, chunked when they carry no Content-Length, with
/// the HTTP/2 trailers (gRPC's `grpc-status`) as chunked trailers, which reach an HTTP/2 client as
/// trailers again through `HTTP2StreamBridge`.
final class HTTP2UpstreamStreamBridge: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = HTTPClientRequestPart

    /// The request bytes are the gateway's own (`UpstreamRequestWriter`), so the limits only
    /// guard against a mistake, not a client.
    private var requestParser = RequestParser(maxHeadBytes: 1 << 20, maxFields: 10_000)
    private var pendingRequest = PendingInput()
    private var requestWasHead = false
    private var responseIsChunked = false
    private var responseHasBody = true
    /// A gRPC "Trailers-Only" answer (status in the only HEADERS frame) is passed on as headers
    /// plus trailers: an HTTP/1.1-shaped response cannot end inside its head, and gRPC clients
    /// accept both forms, but not a status in headers followed by an empty end of stream.
    private var statusMovedToTrailers: [(String, String)] = []

    // MARK: Request: HTTP/1.1 bytes in, parts out

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        var bytes = unwrapOutboundIn(data)
        pendingRequest.append(&bytes)
        do {
            while let event = try requestParser.next(&pendingRequest.bytes) {
                switch event {
                case .head(let head):
                    requestWasHead = head.method == .HEAD
                    context.write(wrapOutboundOut(.head(Self.requestHead(head))), promise: nil)
                case .body(let body):
                    context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
                case .end:
                    context.write(wrapOutboundOut(.end(nil)), promise: nil)
                }
            }
            pendingRequest.releaseIfConsumed()
            promise?.succeed()
        } catch {
            promise?.fail(error)
            context.fireErrorCaught(error)
        }
    }

    /// Fields HTTP/2 forbids (RFC 9113 8.2.2) are left out; `host` becomes `:authority` in the
    /// codec. `te: trailers` is added, as gRPC servers require and as HTTP/2 allows.
    private static func requestHead(_ head: RequestHead) -> HTTPRequestHead {
        var headers = HTTPHeaders()
        headers.reserveCapacity(head.fields.count + 1)
        for index in head.fields.indices {
            let field = head.fields[index]
            switch field.kind {
            case .connection, .upgrade:
                continue
            case .dropped:
                // Content-Length stays (HTTP/2 checks DATA against it); the rest is hop-by-hop.
                guard field.nameLength == 14, head.nameEquals(index, "content-length") else { continue }
            default:
                break
            }
            let name =
                head.block.getString(at: head.block.readerIndex + Int(field.nameStart), length: Int(field.nameLength))
                ?? ""
            headers.add(name: name.lowercased(), value: head.value(of: index))
        }
        headers.add(name: "te", value: "trailers")
        return HTTPRequestHead(version: .http1_1, method: head.method, uri: head.target, headers: headers)
    }

    // MARK: Response: parts in, HTTP/1.1 bytes out

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            // Interim responses are not forwarded (the HTTP/1.1 path drops them too).
            guard head.status.code >= 200 else { return }
            responseHasBody = !requestWasHead && head.status != .noContent && head.status != .notModified
            // Trailers-Only carries `content-length: 0` (grpc-swift sends it): dropped, as the status
            // moves to trailers, which need chunked framing.
            let isTrailersOnly = head.headers.contains(name: "grpc-status")
            responseIsChunked = responseHasBody && (isTrailersOnly || !head.headers.contains(name: "content-length"))
            var text = "HTTP/1.1 \(head.status.code) \(head.status.reasonPhrase)\r\n"
            for (name, value) in head.headers where !HTTP2StreamBridge.isConnectionSpecific(name) {
                if responseIsChunked, Self.isGRPCStatusField(name) {
                    statusMovedToTrailers.append((name, value))
                    continue
                }
                if isTrailersOnly, name.lowercased() == "content-length" { continue }
                text += "\(name): \(value)\r\n"
            }
            if responseIsChunked { text += "transfer-encoding: chunked\r\n" }
            text += "\r\n"
            context.fireChannelRead(wrapInboundOut(ByteBuffer(string: text)))
        case .body(let body):
            guard responseHasBody, body.readableBytes > 0 else { return }
            if responseIsChunked {
                context.fireChannelRead(
                    wrapInboundOut(UpstreamRequestWriter.chunk(body, allocator: context.channel.allocator)))
            } else {
                context.fireChannelRead(wrapInboundOut(body))
            }
        case .end(let trailers):
            // With a Content-Length the body's end is already known and trailers cannot be said.
            guard responseIsChunked else { return }
            var text = "0\r\n"
            for (name, value) in statusMovedToTrailers {
                text += "\(name): \(value)\r\n"
            }
            for (name, value) in trailers ?? [:] where !HTTP2StreamBridge.isConnectionSpecific(name) {
                text += "\(name): \(value)\r\n"
            }
            text += "\r\n"
            context.fireChannelRead(wrapInboundOut(ByteBuffer(string: text)))
        }
    }

    private static func isGRPCStatusField(_ name: String) -> Bool {
        switch name.lowercased() {
        case "grpc-status", "grpc-message", "grpc-status-details-bin": true
        default: false
        }
    }
}
