/// The parts of an origin response (and of the request that fetched it) that caching decisions
/// read, as field values. The data plane fills it from its head bytes; tests fill it by hand.
public struct ResponseFacts: Sendable {
    public var status: Int
    public var cacheControl: [String] = []
    /// The first of the configured targeted fields (RFC 9213) that has a value; empty if none.
    public var targetedCacheControl: [String] = []
    public var pragma: [String] = []
    public var expires: [String] = []
    public var date: String?
    public var age: String?
    public var lastModified: String?
    public var etag: String?
    public var vary: [String] = []
    public var hasSetCookie = false
    /// The request carried `Authorization`.
    public var requestHadAuthorization = false
    /// The request said `Cache-Control: no-store`.
    public var requestNoStore = false

    public init(status: Int) {
        self.status = status
    }
}
