import NIOCore

/// Follows a chunked body (RFC 9112 7.1) byte by byte through its framing so the proxy knows
/// exactly where the message ends, while the bytes themselves are forwarded as they came (an
/// HTTP/1.1 client reads the same chunks) or, for HTTP/1.0 clients, as their data only.
struct ChunkedBodyScanner {
    private enum State {
        case size(value: Int, digits: Int)
        case sizeWhitespace(size: Int)
        case extensionPart
        case sizeLF(size: Int)
        case data(remaining: Int)
        case dataCR
        case dataLF
        case trailerLineStart
        case trailerLine
        case trailerLF(emptyLine: Bool)
        case done
    }

    private var state = State.size(value: 0, digits: 0)
    private var trailerBytes = 0
    /// Keep the trailer section's bytes (for an HTTP/2 client, whose trailers are a HEADERS frame).
    private let capturesTrailers: Bool
    /// The trailer lines with their CRLFs, when captured (empty without trailers).
    private(set) var trailerBlock: [UInt8] = []

    init(capturesTrailers: Bool = false) {
        self.capturesTrailers = capturesTrailers
    }

    /// `name: value` pairs of the captured trailer block (already checked line by line for bare
    /// CR/LF/NUL); lines without a colon are skipped.
    var trailerFields: [(name: String, value: String)] {
        var fields: [(String, String)] = []
        for line in trailerBlock.split(separator: 10) {
            let text = String(decoding: line.last == 13 ? line.dropLast() : line, as: UTF8.self)
            guard let colon = text.firstIndex(of: ":") else { continue }
            let name = text[..<colon]
            guard !name.isEmpty, !name.contains(where: { $0 == " " || $0 == "\t" }) else { continue }
            fields.append((String(name), String(text[text.index(after: colon)...].trimmingSpaces())))
        }
        return fields
    }
    private static let maxTrailerBytes = 64 * 1024
    private static let maxSizeDigits = 15

    var isDone: Bool {
        if case .done = state { return true }
        return false
    }

    /// Scans `buffer`'s readable bytes. Returns how many belong to this body (the rest belongs to
    /// whatever follows it); `data` receives the chunk data slices in order. With
    /// `stopAfterData` it returns right after the first data slice, so a caller that hands slices
    /// on one at a time never has to queue them.
    mutating func scan(_ buffer: ByteBuffer, stopAfterData: Bool = false, data: (ByteBuffer) -> Void)
        throws(UpstreamResponseError) -> Int
    {
        let count = buffer.readableBytes
        var index = 0
        while index < count {
            switch state {
            case .done:
                return index
            case .data(let remaining):
                let take = min(remaining, count - index)
                if let slice = buffer.getSlice(at: buffer.readerIndex + index, length: take) {
                    data(slice)
                }
                index += take
                state = remaining == take ? .dataCR : .data(remaining: remaining - take)
                if stopAfterData && take > 0 { return index }
                continue
            default:
                break
            }
            guard let byte = buffer.getInteger(at: buffer.readerIndex + index, as: UInt8.self) else { break }
            index += 1
            try advance(byte)
        }
        return index
    }

    private mutating func advance(_ byte: UInt8) throws(UpstreamResponseError) {
        switch state {
        case .size(let value, let digits):
            if let digit = Self.hexValue(byte) {
                guard digits < Self.maxSizeDigits else { throw .malformedChunk }
                state = .size(value: value << 4 | digit, digits: digits + 1)
            } else if digits > 0 && byte == 59 {
                state = .extensionPart
                pendingSize = value
                extensionBytes = 0
            } else if digits > 0 && (byte == 32 || byte == 9) {
                // Whitespace before the extension (BWS) is tolerated, but only a ';' may follow it.
                state = .sizeWhitespace(size: value)
                whitespaceBytes = 0
            } else if digits > 0 && byte == 13 {
                state = .sizeLF(size: value)
            } else {
                throw .malformedChunk
            }
        case .sizeWhitespace(let size):
            whitespaceBytes += 1
            if whitespaceBytes > Self.maxWhitespaceBytes { throw .malformedChunk }
            if byte == 59 {
                state = .extensionPart
                pendingSize = size
                extensionBytes = 0
            } else if byte == 13 {
                state = .sizeLF(size: size)
            } else if byte != 32 && byte != 9 {
                throw .malformedChunk
            }
        case .extensionPart:
            extensionBytes += 1
            if extensionBytes > Self.maxExtensionBytes { throw .malformedChunk }
            if byte == 13 {
                state = .sizeLF(size: pendingSize)
            } else if byte == 10 || byte == 0 {
                throw .malformedChunk
            }
        case .sizeLF(let size):
            guard byte == 10 else { throw .malformedChunk }
            state = size == 0 ? .trailerLineStart : .data(remaining: size)
        case .dataCR:
            guard byte == 13 else { throw .malformedChunk }
            state = .dataLF
        case .dataLF:
            guard byte == 10 else { throw .malformedChunk }
            state = .size(value: 0, digits: 0)
        case .trailerLineStart:
            // A bare LF here would end the message for lenient clients but not for us: refuse it.
            guard byte != 10, byte != 0 else { throw .malformedChunk }
            state = byte == 13 ? .trailerLF(emptyLine: true) : .trailerLine
            if byte != 13 { try countTrailer(byte) }
        case .trailerLine:
            if byte == 13 {
                state = .trailerLF(emptyLine: false)
            } else if byte == 10 || byte == 0 {
                throw .malformedChunk
            }
            try countTrailer(byte)
        case .trailerLF(let emptyLine):
            guard byte == 10 else { throw .malformedChunk }
            if !emptyLine && capturesTrailers { trailerBlock.append(10) }
            state = emptyLine ? .done : .trailerLineStart
        case .data, .done:
            break
        }
    }

    private var pendingSize = 0
    private var extensionBytes = 0
    private static let maxExtensionBytes = 4096
    private var whitespaceBytes = 0
    private static let maxWhitespaceBytes = 64

    private mutating func countTrailer(_ byte: UInt8) throws(UpstreamResponseError) {
        trailerBytes += 1
        if trailerBytes > Self.maxTrailerBytes { throw .malformedChunk }
        if capturesTrailers { trailerBlock.append(byte) }
    }

    private static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case 48...57: return Int(byte - 48)
        case 65...70: return Int(byte - 55)
        case 97...102: return Int(byte - 87)
        default: return nil
        }
    }
}
