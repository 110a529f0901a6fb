/// A response's `Cache-Control` (RFC 9111 5.2.2, RFC 5861), or the targeted field that replaces it
/// for this cache (RFC 9213). Anything malformed or contradictory sets `isMalformed`, and a
/// malformed response is not stored: a wrong cached response is worse than none.
public struct ResponseCacheControl: Sendable, Equatable {
    public var maxAge: Int?
    public var sharedMaxAge: Int?
    public var noStore = false
    /// Qualified `no-cache="field"` is treated as the unqualified form: always revalidate.
    public var noCache = false
    /// Qualified `private="field"` is treated as the unqualified form: a shared cache does not store.
    public var isPrivate = false
    public var isPublic = false
    public var mustRevalidate = false
    public var proxyRevalidate = false
    public var noTransform = false
    public var immutable = false
    public var staleWhileRevalidate: Int?
    public var staleIfError: Int?
    public var isMalformed = false
    /// True when the field was present at all (an empty one counts as absent).
    public var isPresent = false

    public init() {}

    public init(values: some Sequence<String>) {
        let list = DirectiveList(values: values)
        isMalformed = list.isMalformed
        isPresent = !list.directives.isEmpty
        for directive in list.directives {
            switch directive.name {
            case "max-age": maxAge = seconds(maxAge, directive.argument)
            case "s-maxage": sharedMaxAge = seconds(sharedMaxAge, directive.argument)
            case "stale-while-revalidate": staleWhileRevalidate = seconds(staleWhileRevalidate, directive.argument)
            case "stale-if-error": staleIfError = seconds(staleIfError, directive.argument)
            case "no-store": noStore = true
            case "no-cache": noCache = true
            case "private": isPrivate = true
            case "public": isPublic = true
            case "must-revalidate": mustRevalidate = true
            case "proxy-revalidate": proxyRevalidate = true
            case "no-transform": noTransform = true
            case "immutable": immutable = true
            default: break  // RFC 9111 5.2.3: unknown directives are ignored.
            }
        }
    }

    /// The same directive twice with different values is contradictory (RFC 9111 4.2.1 allows
    /// treating the response as stale); so is a value that is not delta-seconds.
    private mutating func seconds(_ existing: Int?, _ argument: String?) -> Int? {
        guard let seconds = parseDeltaSeconds(argument) else {
            isMalformed = true
            return existing
        }
        if let existing, existing != seconds {
            isMalformed = true
        }
        return seconds
    }
}
