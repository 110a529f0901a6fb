import NIOCore
import NIOHTTP1

/// A client's request head as the bytes that arrived plus the offsets of its parts, with what the
/// proxy phases need (framing, host, request id, keep-alive) found in the parser's single pass.
/// Fields are forwarded by copying their bytes; only the few values a phase reads become strings.
struct RequestHead {
    /// Decided once while parsing, so that writing the upstream head never compares names again.
    enum FieldKind: UInt8 {
        case other
        /// Keep-Alive, Proxy-Connection, TE, Trailer, and the client's framing and Expect fields:
        /// the gateway writes its own.
        case dropped
        /// Forwarded only with a protocol upgrade the gateway tunnels (`isUpgrade`), else dropped.
        case upgrade
        case connection
        case host
        case requestID
        case forwardedFor
        case forwardedProto
        case forwardedHost
        case via
        /// W3C `traceparent`: its trace id goes into error log lines (and, with tracing, spans).
        case traceParent
        /// W3C `tracestate`: dropped when the gateway starts a new trace in place of the client's.
        case traceState
    }

    struct Field {
        var kind: FieldKind
        /// Offsets into `block`.
        var nameStart: Int32
        var nameLength: Int32
        var valueStart: Int32
        var valueLength: Int32
        /// Just past the line's CRLF.
        var lineEnd: Int32

        var valueEnd: Int { Int(valueStart) + Int(valueLength) }
    }

    enum TransferCoding: Equatable {
        case none
        case chunked
        /// Anything but a single `chunked`: the body's length is unknown to us (501).
        case unsupported
    }

    enum Expectation: Equatable {
        case none
        case continue100
        case unsupported
    }

    /// The whole head including the final empty line.
    let block: ByteBuffer
    let method: HTTPMethod
    /// Origin-form (`/path?query`), or `*` for `OPTIONS *`; an absolute-form target arrives here
    /// already reduced to origin-form, its authority in `authority`.
    let target: String
    /// The authority of an absolute-form target, which replaces Host (RFC 9112 3.2.2).
    let authority: String?
    let versionMinor: Int
    let fields: [Field]
    let hostCount: Int
    /// Index into `fields` of the first Host field.
    let hostField: Int?
    let requestIDField: Int?
    let traceParentField: Int?
    /// nil if absent; `contentLengthValid` is false for a malformed or conflicting value, and for
    /// any Transfer-Encoding in an HTTP/1.0 request (faulty framing, RFC 9112 6.1).
    let contentLength: Int?
    let contentLengthValid: Bool
    let transferCoding: TransferCoding
    let expectation: Expectation
    /// The client allows another request on this connection (RFC 9112 9.3).
    let keepAlive: Bool
    /// `Connection` names fields beyond its keep-alive/close options (they must be dropped too).
    let connectionNamesFields: Bool
    /// An HTTP/1.1 request asking to switch protocols (`Connection: upgrade` with an `Upgrade`
    /// field, e.g. WebSocket) and carrying no body: the upgrade is forwarded, and a 101 answer
    /// turns the connection into a byte tunnel (RFC 9110 7.8).
    let isUpgrade: Bool

    var version: HTTPVersion { HTTPVersion(major: 1, minor: versionMinor) }

    /// The body's framing is known: a later request on the connection can be found.
    var hasKnownFraming: Bool {
        contentLengthValid && transferCoding != .unsupported && !(transferCoding == .chunked && contentLength != nil)
    }

    var hasBody: Bool {
        transferCoding != .none || !contentLengthValid || (contentLength ?? 0) > 0
    }

    func value(of index: Int) -> String {
        let field = fields[index]
        return block.getString(at: block.readerIndex + Int(field.valueStart), length: Int(field.valueLength)) ?? ""
    }

    var host: String? { authority ?? hostField.map { value(of: $0) } }

    /// The first value of the field called `name` (any case).
    func firstValue(named name: String) -> String? {
        let index = block.withUnsafeReadableBytes { bytes in
            fields.firstIndex { field in
                FieldBytes.equalsIgnoringCase(bytes, Int(field.nameStart), Int(field.nameLength), name)
            }
        }
        return index.map { value(of: $0) }
    }

    /// Every value of the field called `name` (any case), in order.
    func values(named name: String) -> [String] {
        var result: [String] = []
        for index in fields.indices where nameEquals(index, name) {
            result.append(value(of: index))
        }
        return result
    }

    /// `Content-Type: application/grpc`, `application/grpc+proto`, … (any case): a gRPC call.
    var isGRPC: Bool {
        block.withUnsafeReadableBytes { bytes in
            fields.contains { field in
                field.nameLength == 12 && field.valueLength >= 16
                    && FieldBytes.equalsIgnoringCase(bytes, Int(field.nameStart), 12, "content-type")
                    && FieldBytes.equalsIgnoringCase(bytes, Int(field.valueStart), 16, "application/grpc")
                    && (field.valueLength == 16 || bytes[Int(field.valueStart) + 16] == UInt8(ascii: "+")
                        || bytes[Int(field.valueStart) + 16] == UInt8(ascii: ";"))
            }
        }
    }

    func nameEquals(_ index: Int, _ name: String) -> Bool {
        let field = fields[index]
        return block.withUnsafeReadableBytes { bytes in
            FieldBytes.equalsIgnoringCase(bytes, Int(field.nameStart), Int(field.nameLength), name)
        }
    }
}
