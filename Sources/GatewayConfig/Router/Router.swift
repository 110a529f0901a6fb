/// Chooses the route for a request.
///
/// A route is a candidate when its host, path, methods and headers all match. The most specific
/// candidate wins; between equally specific ones the lower config index wins. Specificity is compared
/// in this order, each rule deciding only when the ones before it tie:
///
/// 1. Host: an exact host > a wildcard with a longer suffix > one with a shorter suffix > no host
///    constraint. A route listing several hosts counts with the most specific one that matched.
/// 2. Path: an exact path (a template without `{params}`) > a template with params > a prefix > no path
///    constraint.
///    - Between templates (only templates with the same number of segments can match the same path):
///      more literal segments first; on a tie, reading left to right, the first segment where they differ
///      is literal in the winner. So `/a/{x}/c` > `/{x}/b/c` (tie on two literals, `a` comes first), but
///      `/{x}/b/c` > `/a/{x}/{y}` (two literals beat one, wherever they are).
///    - Between prefixes: the longer one in bytes (`/v1/users/` > `/v1/users` > `/v1`). The prefix `/`
///      is the shortest and still beats no path constraint.
/// 3. A methods constraint > none (how many methods it lists does not matter).
/// 4. More header constraints > fewer (a value constraint counts as much as a presence one).
///
/// Matching rules: `host` is the raw `Host` value, compared ASCII case-insensitively without a `:port`
/// (an IPv6 literal keeps its brackets: `[::1]`) and without one trailing dot; a nil `host` only matches
/// routes without hosts. `*.example.test` matches `a.example.test` and `a.b.example.test`, not
/// `example.test`. `path` is matched byte for byte, split on every `/`. `{name}` matches one non-empty
/// segment. The prefix `/v1/users` matches `/v1/users` and `/v1/users/…`, not `/v1/usersX`; a prefix
/// ending in `/` matches whatever starts with it; the prefix `/` matches every path (even `*`). `method`
/// is compared case-sensitively.
///
/// The routes are compiled into host buckets (a table of exact hosts, a table of wildcard suffixes, and
/// the any-host bucket), each holding a path-segment trie, so a match costs O(path segments + host
/// labels) rather than O(routes). Because host specificity comes first, the buckets a request's host
/// selects are searched from most to least specific and the first one with a candidate decides.
/// Matching allocates nothing unless the winner captures parameters. A class so that matching
/// reads the table in place: a struct copy of it would retain each of its arrays per request.
public final class Router: Sendable {
    private let table: RouteTable

    /// Expects validated routes, but any input builds a router (odd entries simply match less).
    public init(routes: [RouteMatchConfig]) {
        table = RouteTable(routes: routes)
    }

    public func match<Headers: RouteHeaderLookup>(
        host: Substring?,
        path: Substring,
        method: Substring,
        headers: Headers
    ) -> RouteMatch? {
        let winner = Self.withBytes(of: path) { pathBytes in
            Self.withBytes(of: method) { methodBytes in
                let request = Request(path: pathBytes, method: methodBytes)
                guard let host else {
                    return bestRank(in: RouteTable.anyHostBucket, request: request, headers: headers)
                }
                return Self.withBytes(of: host) { hostBytes in
                    bestRank(host: RouteHostName.requested(hostBytes), request: request, headers: headers)
                }
            }
        }
        guard let winner else {
            return nil
        }
        let route = table.routes[winner]
        if route.parameters.isEmpty {
            return RouteMatch(routeIndex: route.index)
        }
        return RouteMatch(routeIndex: route.index, parameters: Self.capture(route.parameters, in: path))
    }

    /// The bytes are only borrowed for the call: walking raw bytes by offset is several times cheaper
    /// than walking a `Substring.UTF8View` by index.
    private struct Request {
        var path: UnsafeBufferPointer<UInt8>
        var method: UnsafeBufferPointer<UInt8>
    }

    /// Native strings are contiguous; only a bridged one would take the copying path.
    private static func withBytes<Result>(
        of text: Substring,
        _ body: (UnsafeBufferPointer<UInt8>) -> Result
    ) -> Result {
        if let result = text.utf8.withContiguousStorageIfAvailable(body) {
            return result
        }
        var copy = String(text)
        return copy.withUTF8(body)
    }

    private func bestRank<Headers: RouteHeaderLookup>(
        host: UnsafeBufferPointer<UInt8>,
        request: Request,
        headers: Headers
    ) -> Int? {
        if let bucket = table.hosts.value(namespace: RouteTable.exactHostNamespace, key: host),
            let rank = bestRank(in: bucket, request: request, headers: headers)
        {
            return rank
        }
        if table.hasWildcardHosts {
            // Each `.` after the first byte starts a suffix a wildcard may name; earlier dots give longer,
            // more specific suffixes.
            var offset = 1
            while offset < host.count {
                if host[offset] == UInt8(ascii: "."),
                    let bucket = table.hosts.value(
                        namespace: RouteTable.wildcardHostNamespace,
                        key: UnsafeBufferPointer(rebasing: host[offset...])
                    ),
                    let rank = bestRank(in: bucket, request: request, headers: headers)
                {
                    return rank
                }
                offset += 1
            }
        }
        return bestRank(in: RouteTable.anyHostBucket, request: request, headers: headers)
    }

    private func bestRank<Headers: RouteHeaderLookup>(in bucket: Int, request: Request, headers: Headers) -> Int? {
        var best = Int.max
        consider(table.buckets[bucket].everyPathRanks, request: request, headers: headers, best: &best)
        search(node: table.buckets[bucket].root, segmentStart: 0, request: request, headers: headers, best: &best)
        return best == Int.max ? nil : best
    }

    /// Visits every trie node the path reaches, through literal and parameter edges alike: the best template
    /// is not necessarily on the literal-first path, and a route there may still fail on method or headers.
    /// Recursion depth is bounded by the deepest configured path, not by the request.
    private func search<Headers: RouteHeaderLookup>(
        node: Int,
        segmentStart: Int?,
        request: Request,
        headers: Headers,
        best: inout Int
    ) {
        let current = table.nodes[node]
        consider(current.prefixRanks, request: request, headers: headers, best: &best)
        guard let start = segmentStart else {
            consider(current.templateRanks, request: request, headers: headers, best: &best)
            return
        }
        consider(current.descendantPrefixRanks, request: request, headers: headers, best: &best)

        let path = request.path
        var end = start
        while end < path.count, path[end] != UInt8(ascii: "/") {
            end += 1
        }
        // nil: the segment just taken was the last one, which differs from "an empty segment follows".
        let next = end == path.count ? nil : end + 1
        if current.hasLiteralChildren,
            let child = table.edges.value(namespace: node, key: UnsafeBufferPointer(rebasing: path[start..<end]))
        {
            search(node: child, segmentStart: next, request: request, headers: headers, best: &best)
        }
        if let child = current.parameterChild, start != end {
            search(node: child, segmentStart: next, request: request, headers: headers, best: &best)
        }
    }

    /// The ranks are sorted, so the first route that accepts the request is the list's best, and a rank no
    /// better than the best so far ends the scan.
    private func consider<Headers: RouteHeaderLookup>(
        _ ranks: Range<Int>,
        request: Request,
        headers: Headers,
        best: inout Int
    ) {
        // Indexing rather than slicing: an `ArraySlice` or a copied `Route` would retain and release.
        var position = ranks.lowerBound
        while position < ranks.upperBound {
            let rank = table.ranks[position]
            if rank >= best {
                return
            }
            if accepts(rank, request: request, headers: headers) {
                best = rank
                return
            }
            position += 1
        }
    }

    private func accepts<Headers: RouteHeaderLookup>(_ rank: Int, request: Request, headers: Headers) -> Bool {
        if !table.routes[rank].methods.isEmpty,
            !table.routes[rank].methods.contains(where: { $0.elementsEqual(request.method) })
        {
            return false
        }
        for header in table.routes[rank].headers {
            if let value = header.value {
                if !headers.containsHeader(header.name, value: value) {
                    return false
                }
            } else if !headers.containsHeader(header.name) {
                return false
            }
        }
        return true
    }

    /// Walks the path a second time, only for the winner, so the search itself never records segments.
    private static func capture(_ parameters: [RouteTable.Parameter], in path: Substring) -> [RouteParameter] {
        withBytes(of: path) { bytes in
            var captured: [RouteParameter] = []
            captured.reserveCapacity(parameters.count)
            var start = 0
            var position = 0
            for parameter in parameters {
                while position < parameter.position,
                    let slash = bytes[start...].firstIndex(of: UInt8(ascii: "/"))
                {
                    start = slash + 1
                    position += 1
                }
                let end = bytes[start...].firstIndex(of: UInt8(ascii: "/")) ?? bytes.count
                // Offsets next to an ASCII `/` are scalar boundaries, hence valid `Substring` indices; UTF-8
                // offsetting is O(1) for native strings.
                let utf8 = path.utf8
                let lower = utf8.index(utf8.startIndex, offsetBy: start)
                let upper = utf8.index(lower, offsetBy: end - start)
                captured.append(RouteParameter(name: parameter.name, value: path[lower..<upper]))
            }
            return captured
        }
    }
}
