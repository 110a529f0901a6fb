import HTTPCaching
import NIOCore

/// An origin response on a cached route, read for the cache: the facts its decisions need and the
/// fields a stored copy keeps. Built only for responses of cached routes, so turning fields into
/// strings here costs nothing on other routes.
struct CacheableResponse {
    var facts: ResponseFacts
    /// In the origin's order, without hop-by-hop and framing fields, `Age`, targeted cache
    /// control, `Set-Cookie`, surrogate keys, and the upstream's own cache status fields.
    var keptFields: [(name: String, value: String)] = []
    var tags: [String] = []
    var etag: EntityTag?
    var lastModifiedText: String?
    var hasDate = false

    /// Names the cache handles itself and so never stores or forwards as the origin sent them.
    /// A parent tier's `X-Cache`, `X-Served-By` and `Cache-Status` describe the fetch, not a later
    /// hit here: they are not stored.
    static let cacheOwnedFields: Set<String> = [
        "age", "x-cache", "x-served-by", "cache-status", "surrogate-key", "cache-tag",
    ]

    /// Dropped by name: hop-by-hop and framing fields (the cache frames what it sends), and the
    /// request id, which belongs to one exchange.
    static let perMessageFields: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade", "transfer-encoding",
        "content-length", "x-request-id",
    ]

    init(head: UpstreamResponseHead, identity: CacheIdentity, requestHadAuthorization: Bool, requestNoStore: Bool) {
        let fields = head.fields.map { field in
            (
                name: head.block.getString(at: head.block.readerIndex + field.nameStart, length: field.nameLength)
                    ?? "",
                value: head.value(of: field)
            )
        }
        self.init(
            status: head.status, fields: fields, identity: identity, requestHadAuthorization: requestHadAuthorization,
            requestNoStore: requestNoStore)
    }

    init(
        status: Int, fields: [(name: String, value: String)], identity: CacheIdentity, requestHadAuthorization: Bool,
        requestNoStore: Bool
    ) {
        facts = ResponseFacts(status: status)
        facts.requestHadAuthorization = requestHadAuthorization
        facts.requestNoStore = requestNoStore
        var connectionNamed: [String] = []
        var targeted: [String: [String]] = [:]
        for (name, value) in fields {
            let lowercased = name.lowercased()
            switch lowercased {
            case "connection": ConnectionOptions.namedFields(in: Substring(value), into: &connectionNamed)
            case "cache-control": facts.cacheControl.append(value)
            case "pragma": facts.pragma.append(value)
            case "expires": facts.expires.append(value)
            case "date":
                facts.date = value
                hasDate = true
            case "age": facts.age = value
            case "last-modified":
                facts.lastModified = value
                lastModifiedText = value
            case "etag":
                facts.etag = value
                etag = EntityTag(parsing: value)
            case "vary": facts.vary.append(value)
            case "set-cookie": facts.hasSetCookie = true
            case "surrogate-key": tags += value.split(separator: " ").map(String.init)
            case "cache-tag": tags += value.split(separator: ",").map { String($0.trimmingSpaces()) }
            default:
                if identity.targetedFields.contains(lowercased) { targeted[lowercased, default: []].append(value) }
            }
        }
        // RFC 9213 2.2: the first field of the target list that is present decides.
        for name in identity.targetedFields {
            if let values = targeted[name] {
                facts.targetedCacheControl = values
                break
            }
        }
        tags = tags.filter { !$0.isEmpty }
        for (name, value) in fields {
            let lowercased = name.lowercased()
            if Self.perMessageFields.contains(lowercased) || connectionNamed.contains(lowercased)
                || Self.cacheOwnedFields.contains(lowercased) || identity.targetedFields.contains(lowercased)
                || lowercased == "set-cookie"
            {
                continue
            }
            keptFields.append((name, value))
        }
    }

    /// The stored copy's fields as they go to clients, with `Date` and (if asked for) a strong
    /// `ETag` added where the origin sent none.
    func fieldBlock(addedETag: EntityTag?, now: Int64, allocator: ByteBufferAllocator) -> ByteBuffer {
        var block = allocator.buffer(
            capacity: keptFields.reduce(64) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 })
        for field in keptFields {
            block.writeString(field.name)
            block.writeStaticString(": ")
            block.writeString(field.value)
            block.writeStaticString("\r\n")
        }
        if !hasDate {
            // RFC 9110 6.6.1: a cache storing a response without Date adds one.
            block.writeStaticString("Date: ")
            block.writeString(HTTPDate.format(now / 1000))
            block.writeStaticString("\r\n")
        }
        if let addedETag {
            block.writeStaticString("ETag: ")
            block.writeString(addedETag.headerValue)
            block.writeStaticString("\r\n")
        }
        return block
    }

    /// Responses the cache will also keep encoded say so to every client (and to caches after
    /// this one), with `Vary: Accept-Encoding`, whichever representation they get.
    mutating func varyOnAcceptEncodingIfCompressed(by compressor: Compressor, bodySize: Int) {
        func first(_ name: String) -> String? {
            let values = keptFields.filter { $0.name.lowercased() == name }.map(\.value)
            return values.isEmpty ? nil : values.joined(separator: ", ")
        }
        guard
            compressor.applies(
                status: facts.status, contentType: first("content-type"), contentEncoding: first("content-encoding"),
                cacheControl: first("cache-control"), size: bodySize)
        else { return }
        if let index = keptFields.firstIndex(where: { $0.name.lowercased() == "vary" }) {
            let value = keptFields[index].value.lowercased()
            if !value.contains("accept-encoding") && !value.contains("*") {
                keptFields[index].value += ", Accept-Encoding"
            }
        } else {
            keptFields.append(("Vary", "Accept-Encoding"))
        }
    }
}
