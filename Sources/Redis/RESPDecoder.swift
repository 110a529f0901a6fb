import CHiredis

/// Decodes replies from bytes as they arrive, using hiredis's reader: bytes are fed in any
/// split, complete replies come out in order, and malformed input is an error (never a crash,
/// never a guess). One decoder per connection, used from one thread.
public final class RESPDecoder {
    public struct ProtocolError: Error, CustomStringConvertible, Equatable {
        public let description: String
    }

    private let reader: UnsafeMutablePointer<redisReader>
    private var failed: ProtocolError?

    public init() {
        // redisReaderCreate only fails when malloc does.
        guard let reader = redisReaderCreate() else { fatalError("hiredis: cannot allocate a reader") }
        self.reader = reader
    }

    deinit {
        redisReaderFree(reader)
    }

    public func feed(_ bytes: UnsafeRawBufferPointer) throws {
        if let failed { throw failed }
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        if redisReaderFeed(reader, base.assumingMemoryBound(to: CChar.self), bytes.count) != REDIS_OK {
            throw fail()
        }
    }

    public func feed(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try feed($0) }
    }

    /// The next complete reply, or nil if more bytes are needed. After an error the stream
    /// cannot be resynchronised: every later call throws it again.
    public func next() throws -> RESPValue? {
        if let failed { throw failed }
        var raw: UnsafeMutableRawPointer?
        guard redisReaderGetReply(reader, &raw) == REDIS_OK else { throw fail() }
        guard let raw else { return nil }
        defer { freeReplyObject(raw) }
        return Self.convert(raw.assumingMemoryBound(to: redisReply.self))
    }

    private func fail() -> ProtocolError {
        let message = withUnsafeBytes(of: reader.pointee.errstr) { bytes in
            String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
        let error = ProtocolError(description: message.isEmpty ? "malformed reply" : message)
        failed = error
        return error
    }

    private static func convert(_ reply: UnsafeMutablePointer<redisReply>) -> RESPValue {
        let value = reply.pointee
        switch value.type {
        case REDIS_REPLY_STRING:
            return .bulkString(bytes(value.str, value.len))
        case REDIS_REPLY_STATUS:
            return .simpleString(String(decoding: bytes(value.str, value.len), as: UTF8.self))
        case REDIS_REPLY_ERROR:
            return .error(String(decoding: bytes(value.str, value.len), as: UTF8.self))
        case REDIS_REPLY_INTEGER:
            return .integer(value.integer)
        case REDIS_REPLY_ARRAY:
            var elements: [RESPValue] = []
            elements.reserveCapacity(value.elements)
            for index in 0..<value.elements {
                if let element = value.element?[index] {
                    elements.append(convert(element))
                } else {
                    elements.append(.null)
                }
            }
            return .array(elements)
        default:
            return .null
        }
    }

    private static func bytes(_ pointer: UnsafeMutablePointer<CChar>?, _ length: Int) -> [UInt8] {
        guard let pointer, length > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: length))
    }
}
