/// A request's `Cache-Control` (RFC 9111 5.2.1) plus HTTP/1.0's `Pragma: no-cache` (5.4).
public struct RequestCacheControl: Sendable, Equatable {
    public var maxAge: Int?
    /// `Int.max` for a bare `max-stale` (any staleness is acceptable).
    public var maxStale: Int?
    public var minFresh: Int?
    public var noCache = false
    public var noStore = false
    public var onlyIfCached = false

    public init() {}

    /// A request directive that does not parse makes the request `no-cache`: going to the origin
    /// is always a correct answer, serving something the client may have ruled out is not.
    public init(cacheControl: some Sequence<String>, pragma: some Sequence<String>) {
        let list = DirectiveList(values: cacheControl)
        var malformed = list.isMalformed
        for directive in list.directives {
            switch directive.name {
            case "max-age":
                if let seconds = parseDeltaSeconds(directive.argument) { maxAge = seconds } else { malformed = true }
            case "max-stale":
                if directive.argument == nil {
                    maxStale = Int.max
                } else if let seconds = parseDeltaSeconds(directive.argument) {
                    maxStale = seconds
                } else {
                    malformed = true
                }
            case "min-fresh":
                if let seconds = parseDeltaSeconds(directive.argument) { minFresh = seconds } else { malformed = true }
            case "no-cache": noCache = true
            case "no-store": noStore = true
            case "only-if-cached": onlyIfCached = true
            default: break
            }
        }
        // Pragma counts only when the request has no Cache-Control (RFC 9111 5.4).
        if list.directives.isEmpty, DirectiveList(values: pragma).directives.contains(where: { $0.name == "no-cache" })
        {
            noCache = true
        }
        if malformed { noCache = true }
    }
}
