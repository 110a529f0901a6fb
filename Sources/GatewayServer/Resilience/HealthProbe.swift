import NIOCore

/// Reads just the status line of a health check response, then lets the checker close the
/// connection: the rest of the response does not matter, and reading it would let a misbehaving
/// endpoint keep the check busy.
final class HealthProbeHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    enum ProbeError: Error, CustomStringConvertible {
        case closedBeforeStatus
        case malformedStatusLine

        var description: String {
            switch self {
            case .closedBeforeStatus: "connection closed before a status line"
            case .malformedStatusLine: "malformed status line"
            }
        }
    }

    private let promise: EventLoopPromise<Int>
    private var received = ByteBuffer()
    private var done = false
    /// A status line longer than this is not HTTP.
    private static let maxStatusLine = 1024

    init(promise: EventLoopPromise<Int>) {
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !done else { return }
        var buffer = unwrapInboundIn(data)
        received.writeBuffer(&buffer)
        let bytes = received.readableBytesView
        guard let lineEnd = bytes.firstIndex(of: UInt8(ascii: "\n")) else {
            if bytes.count > Self.maxStatusLine { finish(.failure(ProbeError.malformedStatusLine), context: context) }
            return
        }
        // "HTTP/1.1 200 OK": the three digits after the first space.
        let line = bytes[bytes.startIndex..<lineEnd]
        guard line.starts(with: "HTTP/1.".utf8), let space = line.firstIndex(of: UInt8(ascii: " ")),
            line.distance(from: space, to: line.endIndex) >= 4
        else {
            return finish(.failure(ProbeError.malformedStatusLine), context: context)
        }
        var status = 0
        for byte in line[(space + 1)..<(space + 4)] {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else {
                return finish(.failure(ProbeError.malformedStatusLine), context: context)
            }
            status = status * 10 + Int(byte - UInt8(ascii: "0"))
        }
        finish(.success(status), context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(.failure(ProbeError.closedBeforeStatus), context: context)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        finish(.failure(error), context: context)
    }

    private func finish(_ result: Result<Int, Error>, context: ChannelHandlerContext) {
        guard !done else { return }
        done = true
        promise.completeWith(result)
        context.close(promise: nil)
    }
}
