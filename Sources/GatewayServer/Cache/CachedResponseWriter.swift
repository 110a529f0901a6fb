import GatewayConfig
import HTTPCaching
import NIOCore
import NIOHTTP1

/// Writes a response served from the store: the stored fields as they are (route header
/// operations applied when the route has any), then the per-response ones.
enum CachedResponseWriter {
    struct Options {
        var outcome: CacheOutcome
        var cacheStatus: String
        var age: Int
        var requestID: RequestID
        var operations: HeaderOperations
        var keepAlive: Bool
        var clientVersionMinor: Int
        /// This node's id (`X-Served-By`).
        var servedBy: String
    }

    /// Fields a 304 carries (RFC 9110 15.4.5), so the client can update its copy.
    static let notModifiedFields: Set<String> = [
        "cache-control", "content-location", "date", "etag", "expires", "vary", "last-modified",
    ]

    static func writeHead(
        status: Int, entry: CacheEntry, contentLength: Int?, options: Options, into output: inout ByteBuffer
    ) {
        writeHead(
            status: status, fields: entry.fields, framing: contentLength.map { .contentLength($0) } ?? .noBody,
            options: options, into: &output)
    }

    enum Framing {
        case noBody
        case contentLength(Int)
        case chunked
        case untilClose
    }

    static func writeHead(
        status: Int, fields: ByteBuffer, framing: Framing, options: Options, into output: inout ByteBuffer
    ) {
        output.writeHead(estimatedSize: fields.readableBytes + 256) { writer in
            writer.append("HTTP/1.1 ")
            writer.appendDecimal(status)
            writer.append(" ")
            writer.append(HTTPResponseStatus(statusCode: status).reasonPhrase)
            writer.append("\r\n")
            let onlyNotModifiedFields = status == 304
            if options.operations.isEmpty && !onlyNotModifiedFields {
                writer.append(fields)
            } else {
                StoredFields.forEachLine(of: fields) { name, line in
                    let lowercased = name.lowercased()
                    if onlyNotModifiedFields && !notModifiedFields.contains(lowercased) { return }
                    if options.operations.remove.contains(lowercased) { return }
                    if options.operations.set.contains(where: { $0.name.lowercased() == lowercased }) { return }
                    writer.append(line)
                }
            }
            for field in options.operations.set {
                writer.appendField(field.name, field.value)
            }
            for field in options.operations.add {
                writer.appendField(field.name, field.value)
            }
            writer.append("age: ")
            writer.appendDecimal(options.age)
            writer.append("\r\nx-cache: ")
            writer.append(options.outcome.rawValue)
            writer.append("\r\nx-served-by: ")
            writer.append(options.servedBy)
            writer.append("\r\ncache-status: ")
            writer.append(options.cacheStatus)
            writer.append("\r\n")
            switch framing {
            case .noBody, .untilClose: break
            case .contentLength(let length): writer.appendFraming(contentLength: length, chunked: false)
            case .chunked: writer.appendFraming(contentLength: nil, chunked: true)
            }
            writer.appendClientTail(
                requestID: options.requestID, keepAlive: options.keepAlive,
                clientVersionMinor: options.clientVersionMinor)
        }
    }
}
