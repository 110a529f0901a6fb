import GatewayConfig
import NIOCore
import NIOHTTP1

/// Writes the request head the upstream receives, straight from the client's decoded head: one
/// pass over its fields, each copied or skipped, then the gateway's own fields. Nothing is
/// mutated in place, so the client's header array is never copied.
///
/// Skipped: hop-by-hop fields and those `Connection` names (RFC 9110 7.6.1), the client's framing
/// fields (the gateway frames the body itself, see `Framing`), `Expect` (the gateway answers it),
/// fields the route removes or sets, and the fields re-written below.
/// Written: the route's set/add fields; `X-Forwarded-For/-Proto/-Host`, extended from a trusted
/// proxy and replaced for anyone else (so clients cannot spoof their address); `Via` extended;
/// `X-Request-Id`.
enum UpstreamRequestWriter {
    enum Framing {
        case none
        case contentLength(Int)
        case chunked
    }

    struct Forwarding {
        var client: ClientAddress
        var scheme: String
        var via: String
        var requestID: String
    }

    static func head(
        method: HTTPMethod, target: String, headers: HTTPHeaders, operations: HeaderOperations,
        forwarding: Forwarding, framing: Framing, allocator: ByteBufferAllocator
    ) -> ByteBuffer {
        var output = allocator.buffer(capacity: 256 + target.utf8.count + headers.count * 32)
        output.writeString(method.rawValue)
        output.writeStaticString(" ")
        output.writeString(target)
        output.writeStaticString(" HTTP/1.1\r\n")

        let connectionNamed = connectionNamedFields(headers)
        let trusted = forwarding.client.isTrustedProxy
        var forwardedFor: String?
        var forwardedProto: String?
        var forwardedHost: String?
        var host: String?
        var via: String?
        for (name, value) in headers {
            switch classify(name) {
            case .dropped:
                continue
            case .host:
                host = value
            case .forwardedFor:
                if trusted { forwardedFor = forwardedFor.map { $0 + ", " + value } ?? value }
                continue
            case .forwardedProto:
                if trusted { forwardedProto = value }
                continue
            case .forwardedHost:
                if trusted { forwardedHost = value }
                continue
            case .via:
                via = via.map { $0 + ", " + value } ?? value
                continue
            case .other:
                break
            }
            if !connectionNamed.isEmpty, connectionNamed.contains(where: { headerNameEquals(name, lowercase: $0) }) {
                continue
            }
            if !operations.isEmpty, isReplacedByRoute(name, operations) { continue }
            output.writeHeaderField(name, value)
        }
        for field in operations.set { output.writeHeaderField(field.name, field.value) }
        for field in operations.add { output.writeHeaderField(field.name, field.value) }

        output.writeHeaderField(
            "x-forwarded-for", forwardedFor.map { $0 + ", " + forwarding.client.ip } ?? forwarding.client.ip)
        output.writeHeaderField("x-forwarded-proto", forwardedProto ?? forwarding.scheme)
        if let forwardedHostValue = forwardedHost ?? host {
            output.writeHeaderField("x-forwarded-host", forwardedHostValue)
        }
        output.writeHeaderField("via", via.map { $0 + ", " + forwarding.via } ?? forwarding.via)
        output.writeHeaderField("x-request-id", forwarding.requestID)
        switch framing {
        case .none: break
        case .contentLength(let length): output.writeFramingField(contentLength: length, chunked: false)
        case .chunked: output.writeFramingField(contentLength: nil, chunked: true)
        }
        output.writeStaticString("\r\n")
        return output
    }

    /// Chunk framing pieces (RFC 9112 7.1) for re-chunking a request body.
    static func chunkHeader(size: Int, allocator: ByteBufferAllocator) -> ByteBuffer {
        var header = allocator.buffer(capacity: 20)
        header.writeString(String(size, radix: 16))
        header.writeStaticString("\r\n")
        return header
    }

    static let chunkTrailer = ByteBuffer(staticString: "\r\n")
    static let lastChunk = ByteBuffer(staticString: "0\r\n\r\n")

    private enum FieldClass {
        case dropped
        case host
        case forwardedFor
        case forwardedProto
        case forwardedHost
        case via
        case other
    }

    /// Length first: almost every field is classified by one integer compare.
    @inline(__always)
    private static func classify(_ name: String) -> FieldClass {
        switch name.utf8.count {
        case 2: return headerNameEquals(name, lowercase: "te") ? .dropped : .other
        case 3: return headerNameEquals(name, lowercase: "via") ? .via : .other
        case 4: return headerNameEquals(name, lowercase: "host") ? .host : .other
        case 6: return headerNameEquals(name, lowercase: "expect") ? .dropped : .other
        case 7:
            return headerNameEquals(name, lowercase: "trailer") || headerNameEquals(name, lowercase: "upgrade")
                ? .dropped : .other
        case 10:
            return headerNameEquals(name, lowercase: "connection") || headerNameEquals(name, lowercase: "keep-alive")
                ? .dropped : .other
        case 12: return headerNameEquals(name, lowercase: "x-request-id") ? .dropped : .other
        case 14: return headerNameEquals(name, lowercase: "content-length") ? .dropped : .other
        case 15:
            if headerNameEquals(name, lowercase: "x-forwarded-for") { return .forwardedFor }
            return .other
        case 16:
            if headerNameEquals(name, lowercase: "x-forwarded-host") { return .forwardedHost }
            return headerNameEquals(name, lowercase: "proxy-connection") ? .dropped : .other
        case 17:
            if headerNameEquals(name, lowercase: "x-forwarded-proto") { return .forwardedProto }
            return headerNameEquals(name, lowercase: "transfer-encoding") ? .dropped : .other
        default: return .other
        }
    }

    private static func isReplacedByRoute(_ name: String, _ operations: HeaderOperations) -> Bool {
        for removed in operations.remove where headerNameEquals(name, lowercase: removed) { return true }
        for set in operations.set
        where name.utf8.count == set.name.utf8.count && name.lowercased() == set.name.lowercased() {
            return true
        }
        return false
    }

    /// Names listed in `Connection` other than its keep-alive/close options, lowercased. Empty,
    /// and allocation-free, in the usual case.
    private static func connectionNamedFields(_ headers: HTTPHeaders) -> [String] {
        var names: [String] = []
        for (name, value) in headers where name.utf8.count == 10 && headerNameEquals(name, lowercase: "connection") {
            ConnectionOptions.namedFields(in: Substring(value), into: &names)
        }
        return names
    }
}
