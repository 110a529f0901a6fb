import NIOCore

/// The request fields the cache reads, found in one pass over the head: asking the head for
/// each by name would scan every field eight times per request on the hit path.
struct CacheRequestFields {
    var cacheControl: [String] = []
    var pragma: [String] = []
    var hasAuthorization = false
    var ifNoneMatch: [String] = []
    var ifModifiedSince: String?
    var range: String?
    var ifRange: String?
    var acceptEncoding: [String] = []

    init() {}

    init(_ head: RequestHead) {
        head.block.withUnsafeReadableBytes { bytes in
            for index in head.fields.indices {
                let field = head.fields[index]
                guard field.kind == .other else { continue }
                let start = Int(field.nameStart)
                let length = Int(field.nameLength)
                // Dispatch on length and first letter first: most fields are none of these.
                guard length >= 5, length <= 19 else { continue }
                switch bytes[start] | 0x20 {
                case UInt8(ascii: "c") where length == 13:
                    if FieldBytes.equalsIgnoringCase(bytes, start, length, "cache-control") {
                        cacheControl.append(head.value(of: index))
                    }
                case UInt8(ascii: "p") where length == 6:
                    if FieldBytes.equalsIgnoringCase(bytes, start, length, "pragma") {
                        pragma.append(head.value(of: index))
                    }
                case UInt8(ascii: "a"):
                    if length == 13, FieldBytes.equalsIgnoringCase(bytes, start, length, "authorization") {
                        hasAuthorization = true
                    } else if length == 15, FieldBytes.equalsIgnoringCase(bytes, start, length, "accept-encoding") {
                        acceptEncoding.append(head.value(of: index))
                    }
                case UInt8(ascii: "i"):
                    if length == 13, FieldBytes.equalsIgnoringCase(bytes, start, length, "if-none-match") {
                        ifNoneMatch.append(head.value(of: index))
                    } else if length == 17, FieldBytes.equalsIgnoringCase(bytes, start, length, "if-modified-since") {
                        ifModifiedSince = ifModifiedSince ?? head.value(of: index)
                    } else if length == 8, FieldBytes.equalsIgnoringCase(bytes, start, length, "if-range") {
                        ifRange = ifRange ?? head.value(of: index)
                    }
                case UInt8(ascii: "r") where length == 5:
                    if FieldBytes.equalsIgnoringCase(bytes, start, length, "range") {
                        range = range ?? head.value(of: index)
                    }
                default:
                    break
                }
            }
        }
    }
}
