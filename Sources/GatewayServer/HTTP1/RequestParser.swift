import NIOCore
import NIOHTTP1

enum RequestParseError: Error, Equatable {
    case malformed
    case headTooLarge
    /// The request line alone is over the head limit (414, as nginx).
    case requestLineTooLong
    case tooManyFields
    case versionNotSupported
    case malformedChunk
    /// A path `TargetNormalizer` refuses (encoded slash, backslash, `..` above the root, bad escape).
    case badPath
}

/// Parses a client connection's byte stream into requests (RFC 9112): heads as `RequestHead`
/// (bytes plus offsets), bodies as slices of the buffers that arrived. It replaces NIO's llhttp
/// decoder, whose per-request callbacks, `String` headers and boxed parts were the largest user-space
/// cost of a proxied request.
///
/// Strict where leniency could let the gateway and an upstream disagree about where a message
/// ends: bare CR or LF, obs-fold, whitespace before a colon, bad tokens and bad versions are
/// errors, never guesses. It stops after a head whose body framing it cannot know (the handler
/// answers it and closes), and yields nothing more until a pipelined request may start.
struct RequestParser {
    enum Event {
        case head(RequestHead)
        case body(ByteBuffer)
        case end
    }

    private enum State {
        case head
        case fixedBody(remaining: Int)
        case chunkedBody
        case endOfMessage
        /// After a head with unknowable framing, or an error: nothing more is parsed.
        case stopped
    }

    let maxHeadBytes: Int
    let maxFields: Int
    private var state = State.head
    private var chunkScanner = ChunkedBodyScanner()
    /// Body bytes of the current request as they came on the wire (chunk framing included): what
    /// a budget for reading and dropping a body must count.
    private(set) var bodyWireBytes = 0
    /// How far an incomplete head was already searched for its end.
    private var searchedHeadBytes = 0
    /// Some bytes of the next head arrived, but not all of it.
    private var hasPartialHead = false
    /// The field array of the previous head: unshared again once the handler is done with that
    /// head, so parsing the next one allocates nothing.
    private var fieldStorage: [RequestHead.Field] = []

    init(maxHeadBytes: Int, maxFields: Int) {
        self.maxHeadBytes = maxHeadBytes
        self.maxFields = maxFields
    }

    /// True between messages: no partial request has been consumed.
    var isAtMessageBoundary: Bool {
        if case .head = state { return !hasPartialHead }
        return false
    }

    /// The next event from `input`, consuming its bytes; nil when more input is needed.
    mutating func next(_ input: inout ByteBuffer) throws(RequestParseError) -> Event? {
        while true {
            switch state {
            case .head:
                return try nextHead(&input)
            case .fixedBody(let remaining):
                guard input.readableBytes > 0 else { return nil }
                let take = min(remaining, input.readableBytes)
                guard let slice = input.readSlice(length: take) else { return nil }
                bodyWireBytes += take
                state = take == remaining ? .endOfMessage : .fixedBody(remaining: remaining - take)
                return .body(slice)
            case .chunkedBody:
                guard input.readableBytes > 0 else { return nil }
                var data: ByteBuffer?
                let consumed: Int
                do {
                    consumed = try chunkScanner.scan(input, stopAfterData: true) { data = $0 }
                } catch {
                    state = .stopped
                    throw .malformedChunk
                }
                input.moveReaderIndex(forwardBy: consumed)
                bodyWireBytes += consumed
                if chunkScanner.isDone {
                    state = .endOfMessage
                }
                if let data {
                    return .body(data)
                }
                if !chunkScanner.isDone {
                    return nil
                }
            case .endOfMessage:
                state = .head
                return .end
            case .stopped:
                return nil
            }
        }
    }

    /// Whether the request line's CRLF lies within the first `limit` bytes.
    private static func requestLineEnds(in input: ByteBuffer, within limit: Int) -> Bool {
        input.withUnsafeReadableBytes { bytes in
            FieldBytes.findCRLF(UnsafeRawBufferPointer(rebasing: bytes.prefix(limit)), from: 0) != nil
        }
    }

    private mutating func nextHead(_ input: inout ByteBuffer) throws(RequestParseError) -> Event? {
        if searchedHeadBytes == 0 {
            // RFC 9112 2.2: empty lines before a request line are ignored.
            while let pair = input.getInteger(at: input.readerIndex, as: UInt16.self), pair == 0x0D0A {
                input.moveReaderIndex(forwardBy: 2)
            }
        }
        guard let end = FieldBytes.headEnd(in: input, from: searchedHeadBytes) else {
            // A head with bare-LF line ends would never be complete: refuse it at its first one.
            guard !FieldBytes.containsBareLF(input, from: max(0, searchedHeadBytes - 1)) else {
                state = .stopped
                throw .malformed
            }
            guard input.readableBytes <= maxHeadBytes else {
                state = .stopped
                throw Self.requestLineEnds(in: input, within: maxHeadBytes) ? .headTooLarge : .requestLineTooLong
            }
            searchedHeadBytes = max(0, input.readableBytes - 3)
            hasPartialHead = input.readableBytes > 0
            return nil
        }
        searchedHeadBytes = 0
        hasPartialHead = false
        bodyWireBytes = 0
        guard end <= maxHeadBytes, let block = input.readSlice(length: end) else {
            state = .stopped
            throw Self.requestLineEnds(in: input, within: maxHeadBytes) ? .headTooLarge : .requestLineTooLong
        }
        let head: RequestHead
        do {
            head = try Self.parseHead(block, maxFields: maxFields, fieldStorage: &fieldStorage)
        } catch {
            state = .stopped
            throw error
        }
        if !head.hasKnownFraming {
            state = .stopped
        } else if head.transferCoding == .chunked {
            chunkScanner = ChunkedBodyScanner()
            state = .chunkedBody
        } else if let length = head.contentLength, length > 0 {
            state = .fixedBody(remaining: length)
        } else {
            state = .endOfMessage
        }
        return .head(head)
    }

    static func parseHead(_ block: ByteBuffer, maxFields: Int) throws(RequestParseError) -> RequestHead {
        var fieldStorage: [RequestHead.Field] = []
        return try parseHead(block, maxFields: maxFields, fieldStorage: &fieldStorage)
    }

    /// `fieldStorage` is emptied and filled; the head shares it.
    static func parseHead(_ block: ByteBuffer, maxFields: Int, fieldStorage: inout [RequestHead.Field])
        throws(RequestParseError) -> RequestHead
    {
        fieldStorage.removeAll(keepingCapacity: true)
        return try block.withUnsafeReadableBytes { (bytes) throws(RequestParseError) -> RequestHead in
            // request-line = method SP request-target SP HTTP-version CRLF
            var cursor = 0
            while cursor < bytes.count && FieldBytes.isTokenByte(bytes[cursor]) { cursor += 1 }
            let methodEnd = cursor
            guard methodEnd > 0, cursor < bytes.count, bytes[cursor] == 32 else { throw .malformed }
            cursor += 1
            let targetStart = cursor
            while cursor < bytes.count && bytes[cursor] > 32 && bytes[cursor] < 127 { cursor += 1 }
            let targetEnd = cursor
            guard targetEnd > targetStart, cursor < bytes.count, bytes[cursor] == 32 else {
                throw .malformed
            }
            // Origin-form, `OPTIONS *`, or absolute-form (RFC 9112 3.2.2: its authority replaces
            // Host, and the upstream gets origin-form with that authority as its Host).
            let isOriginForm = bytes[targetStart] == 47
            let method = method(bytes, methodEnd)
            let isAsterisk = targetEnd - targetStart == 1 && bytes[targetStart] == 42 && method == .OPTIONS
            let absolute = isOriginForm || isAsterisk ? nil : absoluteForm(bytes, targetStart, targetEnd)
            cursor += 1
            guard let lineCR = FieldBytes.findCRLF(bytes, from: cursor), lineCR - cursor == 8,
                bytes[cursor] == 72, bytes[cursor + 1] == 84, bytes[cursor + 2] == 84, bytes[cursor + 3] == 80,
                bytes[cursor + 4] == 47, bytes[cursor + 6] == 46
            else { throw .malformed }
            let major = bytes[cursor + 5]
            let minor = bytes[cursor + 7]
            guard major >= 48, major <= 57, minor >= 48, minor <= 57 else { throw .malformed }
            guard major == 49 else { throw .versionNotSupported }
            guard isOriginForm || isAsterisk || absolute != nil else { throw .malformed }
            let versionMinor = minor == 48 ? 0 : 1

            fieldStorage.reserveCapacity(16)
            var hostCount = 0
            var hostField: Int?
            var requestIDField: Int?
            var traceParentField: Int?
            var contentLength: Int?
            var contentLengthValid = true
            var transferCoding = RequestHead.TransferCoding.none
            var expectation = RequestHead.Expectation.none
            var connectionClose = false
            var connectionKeepAlive = false
            var connectionNamesFields = false
            var connectionUpgrade = false
            var sawUpgrade = false
            cursor = lineCR + 2
            while true {
                guard cursor + 1 < bytes.count else { throw .malformed }
                if bytes[cursor] == 13 && bytes[cursor + 1] == 10 { break }
                guard let (colon, valueStart, valueEnd, lineCR) = FieldBytes.scanFieldLine(bytes, lineStart: cursor)
                else { throw .malformed }
                guard fieldStorage.count < maxFields else { throw .tooManyFields }
                let nameLength = colon - cursor
                let kind = classify(bytes, cursor, nameLength)
                switch kind {
                case .host:
                    hostCount += 1
                    if hostField == nil { hostField = fieldStorage.count }
                case .requestID:
                    if requestIDField == nil { requestIDField = fieldStorage.count }
                case .traceParent:
                    if traceParentField == nil { traceParentField = fieldStorage.count }
                case .connection:
                    let options = FieldBytes.connectionOptions(bytes, valueStart, valueEnd)
                    connectionClose = connectionClose || options.close
                    connectionKeepAlive = connectionKeepAlive || options.keepAlive
                    connectionNamesFields = connectionNamesFields || options.namesFields
                    connectionUpgrade = connectionUpgrade || options.upgrade
                case .upgrade:
                    sawUpgrade = true
                case .dropped:
                    if nameLength == 14 && FieldBytes.equalsLowercase(bytes, cursor, "content-length") {
                        if let parsed = FieldBytes.parseDecimal(bytes, valueStart, valueEnd),
                            contentLength == nil || contentLength == parsed
                        {
                            contentLength = parsed
                        } else {
                            contentLengthValid = false
                        }
                    } else if nameLength == 17 && FieldBytes.equalsLowercase(bytes, cursor, "transfer-encoding") {
                        // Only one plain `chunked` is forwarded faithfully; any other coding (or a
                        // second field) would reach the upstream relabelled (RFC 9112 6.1).
                        transferCoding =
                            transferCoding == .none && FieldBytes.isOnlyChunked(bytes, valueStart, valueEnd)
                            ? .chunked : .unsupported
                    } else if nameLength == 6 && FieldBytes.equalsLowercase(bytes, cursor, "expect") {
                        let isContinue =
                            valueEnd - valueStart == 12 && FieldBytes.equalsLowercase(bytes, valueStart, "100-continue")
                        if expectation != .unsupported { expectation = isContinue ? .continue100 : .unsupported }
                    }
                default:
                    break
                }
                fieldStorage.append(
                    RequestHead.Field(
                        kind: kind, nameStart: Int32(cursor), nameLength: Int32(nameLength),
                        valueStart: Int32(valueStart), valueLength: Int32(valueEnd - valueStart),
                        lineEnd: Int32(lineCR + 2)))
                cursor = lineCR + 2
            }
            if versionMinor == 0 && transferCoding != .none {
                // RFC 9112 6.1: Transfer-Encoding in an HTTP/1.0 message means faulty framing.
                contentLengthValid = false
            }
            let target: String
            do {
                target = try TargetNormalizer.normalize(
                    absolute?.originForm
                        ?? String(
                            decoding: UnsafeRawBufferPointer(rebasing: bytes[targetStart..<targetEnd]), as: UTF8.self)
                )
            } catch {
                throw .badPath
            }
            return RequestHead(
                block: block, method: method,
                target: target,
                authority: absolute?.authority,
                versionMinor: versionMinor, fields: fieldStorage, hostCount: hostCount, hostField: hostField,
                requestIDField: requestIDField, traceParentField: traceParentField, contentLength: contentLength,
                contentLengthValid: contentLengthValid, transferCoding: transferCoding, expectation: expectation,
                keepAlive: !connectionClose && (versionMinor >= 1 || connectionKeepAlive),
                connectionNamesFields: connectionNamesFields,
                // A body would leave no clear point where the tunnel's bytes begin.
                isUpgrade: connectionUpgrade && sawUpgrade && versionMinor == 1 && contentLengthValid
                    && transferCoding == .none && (contentLength ?? 0) == 0)
        }
    }

    /// `http://authority/path?query` (or https) split into its authority and origin-form target;
    /// nil for any other form, an empty authority or one with userinfo (RFC 9110 4.2.4).
    private static func absoluteForm(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int)
        -> (authority: String, originForm: String)?
    {
        var cursor = start
        if end - cursor >= 7 && FieldBytes.equalsLowercase(bytes, cursor, "http://") {
            cursor += 7
        } else if end - cursor >= 8 && FieldBytes.equalsLowercase(bytes, cursor, "https://") {
            cursor += 8
        } else {
            return nil
        }
        let authorityStart = cursor
        while cursor < end && bytes[cursor] != 47 && bytes[cursor] != 63 {
            if bytes[cursor] == 64 { return nil }
            cursor += 1
        }
        guard cursor > authorityStart else { return nil }
        let authority = String(
            decoding: UnsafeRawBufferPointer(rebasing: bytes[authorityStart..<cursor]), as: UTF8.self)
        let rest = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[cursor..<end]), as: UTF8.self)
        return (authority, rest.hasPrefix("/") ? rest : "/" + rest)
    }

    /// Length first: almost every field is classified by one integer compare.
    private static func classify(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ length: Int)
        -> RequestHead.FieldKind
    {
        switch length {
        case 2: return FieldBytes.equalsLowercase(bytes, start, "te") ? .dropped : .other
        case 3: return FieldBytes.equalsLowercase(bytes, start, "via") ? .via : .other
        case 4: return FieldBytes.equalsLowercase(bytes, start, "host") ? .host : .other
        case 6: return FieldBytes.equalsLowercase(bytes, start, "expect") ? .dropped : .other
        case 7:
            if FieldBytes.equalsLowercase(bytes, start, "upgrade") { return .upgrade }
            return FieldBytes.equalsLowercase(bytes, start, "trailer") ? .dropped : .other
        case 11: return FieldBytes.equalsLowercase(bytes, start, "traceparent") ? .traceParent : .other
        case 10:
            if FieldBytes.equalsLowercase(bytes, start, "connection") { return .connection }
            if FieldBytes.equalsLowercase(bytes, start, "tracestate") { return .traceState }
            return FieldBytes.equalsLowercase(bytes, start, "keep-alive") ? .dropped : .other
        case 12: return FieldBytes.equalsLowercase(bytes, start, "x-request-id") ? .requestID : .other
        case 14: return FieldBytes.equalsLowercase(bytes, start, "content-length") ? .dropped : .other
        case 15: return FieldBytes.equalsLowercase(bytes, start, "x-forwarded-for") ? .forwardedFor : .other
        case 16:
            if FieldBytes.equalsLowercase(bytes, start, "x-forwarded-host") { return .forwardedHost }
            return FieldBytes.equalsLowercase(bytes, start, "proxy-connection") ? .dropped : .other
        case 17:
            if FieldBytes.equalsLowercase(bytes, start, "x-forwarded-proto") { return .forwardedProto }
            return FieldBytes.equalsLowercase(bytes, start, "transfer-encoding") ? .dropped : .other
        default: return .other
        }
    }

    /// Methods are case-sensitive (RFC 9110 9.1): only exact spellings are the well-known ones.
    private static func method(_ bytes: UnsafeRawBufferPointer, _ length: Int) -> HTTPMethod {
        func isMethod(_ name: StaticString) -> Bool {
            name.utf8CodeUnitCount == length
                && name.withUTF8Buffer { name in
                    for index in 0..<length where name[index] != bytes[index] { return false }
                    return true
                }
        }
        switch length {
        case 3:
            if isMethod("GET") { return .GET }
            if isMethod("PUT") { return .PUT }
        case 4:
            if isMethod("POST") { return .POST }
            if isMethod("HEAD") { return .HEAD }
        case 5:
            if isMethod("PATCH") { return .PATCH }
            if isMethod("TRACE") { return .TRACE }
        case 6:
            if isMethod("DELETE") { return .DELETE }
        case 7:
            if isMethod("OPTIONS") { return .OPTIONS }
            if isMethod("CONNECT") { return .CONNECT }
        default:
            break
        }
        return .RAW(value: String(decoding: UnsafeRawBufferPointer(rebasing: bytes[0..<length]), as: UTF8.self))
    }
}
