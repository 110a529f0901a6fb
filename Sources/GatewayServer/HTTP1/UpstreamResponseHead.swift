import NIOCore

/// An upstream response head as bytes plus the offsets of its parts. The proxy forwards most of
/// it verbatim, so nothing is turned into `String`s: that copying (and NIO's re-encoding) was the
/// largest cost per proxied response.
struct UpstreamResponseHead {
    /// What the proxy needs to know about a field, decided once while parsing so that writing the
    /// head never compares names again.
    enum FieldKind: UInt8 {
        case other
        /// Connection, Keep-Alive, Proxy-Connection, TE, Trailer.
        case hopByHop
        /// Hop-by-hop too, but kept in a 101 answer to an upgrade the gateway tunnels.
        case upgrade
        case transferEncoding
        case contentLength
        case requestID
    }

    struct Field {
        var kind: FieldKind = .other
        /// Offsets into `block`; `lineStart..<lineEnd` includes the CRLF.
        var lineStart: Int
        var lineEnd: Int
        var nameStart: Int
        var nameLength: Int
        var valueStart: Int
        var valueLength: Int
    }

    enum BodyFraming: Equatable {
        case none
        case length(Int)
        case chunked
        /// The body ends when the upstream closes the connection.
        case untilClose
    }

    /// The whole head including the final empty line.
    let block: ByteBuffer
    let status: Int
    let versionMinor: Int
    /// Offset of the status line's CR.
    let statusLineEnd: Int
    let fields: [Field]
    let contentLength: Int?
    let isChunked: Bool
    /// The upstream allows another request on this connection.
    let keepAlive: Bool
    /// `Connection` names fields beyond its keep-alive/close options (they must be dropped too).
    let connectionNamesFields: Bool

    func framing(requestWasHead: Bool) -> BodyFraming {
        if requestWasHead || status == 204 || status == 304 || (100..<200).contains(status) { return .none }
        if isChunked { return .chunked }
        if let contentLength { return contentLength == 0 ? .none : .length(contentLength) }
        return .untilClose
    }

    /// Case-insensitive comparison with a lowercase configured name.
    func nameEquals(_ field: Field, lowercase expected: String) -> Bool {
        nameEqualsIgnoringCase(field, expected)
    }

    /// Case-insensitive on both sides, for names as the user wrote them in the config.
    func nameEqualsIgnoringCase(_ field: Field, _ name: String) -> Bool {
        block.withUnsafeReadableBytes { bytes in
            FieldBytes.equalsIgnoringCase(bytes, field.nameStart, field.nameLength, name)
        }
    }

    func value(of field: Field) -> String {
        block.getString(at: block.readerIndex + field.valueStart, length: field.valueLength) ?? ""
    }

    func name(of field: Field) -> String {
        block.getString(at: block.readerIndex + field.nameStart, length: field.nameLength) ?? ""
    }

    /// The name as HTTP/2 writes it; most upstreams send lowercase names already, and those are
    /// not copied twice.
    func lowercasedName(of field: Field) -> String {
        let name = self.name(of: field)
        return name.utf8.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") })
            ? name.lowercased() : name
    }
}

enum UpstreamResponseError: Error, Equatable {
    case malformedStatusLine
    case malformedHeader
    case headTooLarge
    case conflictingFraming
    case malformedChunk
    /// A 101 to a request that asked for no upgrade.
    case unsupportedUpgrade
}
