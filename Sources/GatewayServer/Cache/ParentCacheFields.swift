/// What a parent tier (another gateway, or any cache naming itself in these fields) said about a
/// response it sent us, so the client sees the whole path: `X-Cache: MISS, HIT` and
/// `X-Served-By: edge, shield` list this node first and the parent after it (Fastly's fields, read
/// from the client's side), while `Cache-Status` lists the parent first as RFC 9211 2 requires
/// (the cache nearest the origin first).
struct ParentCacheFields {
    var xCache: String?
    var servedBy: String?
    var cacheStatus: String?

    init(_ head: UpstreamResponseHead) {
        for field in head.fields where field.kind == .other {
            if head.nameEquals(field, lowercase: "x-cache") {
                xCache = head.value(of: field)
            } else if head.nameEquals(field, lowercase: "x-served-by") {
                servedBy = head.value(of: field)
            } else if head.nameEquals(field, lowercase: "cache-status") {
                cacheStatus = head.value(of: field)
            }
        }
    }
}
