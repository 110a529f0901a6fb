import NIOCore

/// One stored response: immutable, shared by every event loop that serves it. A revalidation or
/// a soft purge stores a new entry that shares the body (a `ByteBuffer` is copy-on-write, so
/// nothing is copied), which keeps readers lock-free once they hold an entry.
public final class CacheEntry: Sendable {
    public let key: CacheKey
    public let vary: VarySelector
    public let status: Int
    /// Header fields as they go to clients, each `Name: value\r\n`, without hop-by-hop and
    /// framing fields, `Age`, targeted cache-control fields, and stripped `Set-Cookie`.
    public let fields: ByteBuffer
    public let body: ByteBuffer
    public let etag: EntityTag?
    /// Seconds since the epoch, from `Last-Modified`.
    public let lastModified: Int64?
    /// As received, for conditional requests to the origin.
    public let lastModifiedText: String?
    public let freshness: Freshness
    /// From `Surrogate-Key` / `Cache-Tag`, for purging by tag.
    public let tags: [String]
    /// Marked stale by a soft purge: served only where a stale entry may be (SWR, stale-if-error),
    /// revalidated otherwise.
    public let isSoftPurged: Bool
    /// The body in content codings the cache produced from it (once, in the background).
    public let encodings: [EncodedBody]

    /// What the entry counts against the store's memory bound: the bytes plus a fixed estimate
    /// for the objects around them.
    public var size: Int {
        fields.readableBytes + body.readableBytes + encodings.reduce(0) { $0 + $1.body.readableBytes }
            + key.text.utf8.count + Self.overhead
    }
    static let overhead = 320

    public init(
        key: CacheKey, vary: VarySelector, status: Int, fields: ByteBuffer, body: ByteBuffer, etag: EntityTag?,
        lastModifiedText: String?, freshness: Freshness, tags: [String], isSoftPurged: Bool = false,
        encodings: [EncodedBody] = []
    ) {
        self.encodings = encodings
        self.key = key
        self.vary = vary
        self.status = status
        self.fields = fields
        self.body = body
        self.etag = etag
        self.lastModifiedText = lastModifiedText
        self.lastModified = lastModifiedText.flatMap(HTTPDate.parse)
        self.freshness = freshness
        self.tags = tags
        self.isSoftPurged = isSoftPurged
    }

    /// Validators make a stale entry worth keeping: a 304 refreshes it without a body transfer.
    public var hasValidators: Bool { etag != nil || lastModifiedText != nil }

    public func softPurged(at now: Int64) -> CacheEntry {
        // Stale windows count from the purge, not from the original expiry.
        var freshness = freshness
        let age = freshness.currentAge(now: now)
        freshness.lifetime = Int(age / 1000)
        return CacheEntry(
            key: key, vary: vary, status: status, fields: fields, body: body, etag: etag,
            lastModifiedText: lastModifiedText, freshness: freshness, tags: tags, isSoftPurged: true,
            encodings: encodings)
    }

    /// The entry a 304 turns this one into (RFC 9111 4.3.4): new fields and freshness, same body.
    public func refreshed(
        fields: ByteBuffer, etag: EntityTag?, lastModifiedText: String?, freshness: Freshness, tags: [String]
    )
        -> CacheEntry
    {
        CacheEntry(
            key: key, vary: vary, status: status, fields: fields, body: body, etag: etag ?? self.etag,
            lastModifiedText: lastModifiedText ?? self.lastModifiedText, freshness: freshness, tags: tags,
            encodings: encodings)
    }

    /// The same entry with its body also in these codings.
    public func withEncodings(_ encodings: [EncodedBody]) -> CacheEntry {
        CacheEntry(
            key: key, vary: vary, status: status, fields: fields, body: body, etag: etag,
            lastModifiedText: lastModifiedText, freshness: freshness, tags: tags, isSoftPurged: isSoftPurged,
            encodings: encodings)
    }

    public func encoded(_ coding: ContentCoding) -> EncodedBody? {
        encodings.first { $0.coding == coding }
    }

    /// The strong ETag of an encoded representation differs from the identity one (RFC 9110
    /// 8.8.3: a strong validator is specific to the representation); a weak one may stay.
    public func etag(for coding: ContentCoding?) -> EntityTag? {
        guard let etag, let coding, !etag.isWeak else { return etag }
        return EntityTag(opaque: etag.opaque + "-" + coding.rawValue, isWeak: false)
    }

    /// The stored field called `name` (lowercase), several lines joined with ", " as one list
    /// (RFC 9110 5.3), for decisions made after storing.
    public func field(_ name: String) -> String? {
        var values: [String] = []
        StoredFields.forEachLine(of: fields) { lineName, line in
            if lineName.lowercased() == name {
                values.append(StoredFields.value(ofLine: line, nameLength: lineName.utf8.count))
            }
        }
        return values.isEmpty ? nil : values.joined(separator: ", ")
    }

}

/// A stored body in one content coding.
public struct EncodedBody: Sendable {
    public let coding: ContentCoding
    public let body: ByteBuffer

    public init(coding: ContentCoding, body: ByteBuffer) {
        self.coding = coding
        self.body = body
    }
}
