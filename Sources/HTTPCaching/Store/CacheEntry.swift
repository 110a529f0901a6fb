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

    /// What the entry counts against the store's memory bound: the bytes plus a fixed estimate
    /// for the objects around them.
    public var size: Int { fields.readableBytes + body.readableBytes + key.text.utf8.count + Self.overhead }
    static let overhead = 320

    public init(
        key: CacheKey, vary: VarySelector, status: Int, fields: ByteBuffer, body: ByteBuffer, etag: EntityTag?,
        lastModifiedText: String?, freshness: Freshness, tags: [String], isSoftPurged: Bool = false
    ) {
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
            lastModifiedText: lastModifiedText, freshness: freshness, tags: tags, isSoftPurged: true)
    }

    /// The entry a 304 turns this one into (RFC 9111 4.3.4): new fields and freshness, same body.
    public func refreshed(
        fields: ByteBuffer, etag: EntityTag?, lastModifiedText: String?, freshness: Freshness, tags: [String]
    )
        -> CacheEntry
    {
        CacheEntry(
            key: key, vary: vary, status: status, fields: fields, body: body, etag: etag ?? self.etag,
            lastModifiedText: lastModifiedText ?? self.lastModifiedText, freshness: freshness, tags: tags)
    }
}
