/// Chooses the route for a request.
///
/// A route is a candidate when its host, path, methods and headers all match. The most specific
/// candidate wins; between equally specific ones the lower config index wins. Specificity is compared
/// in this order, each rule deciding only when the ones before it tie:
///
/// 1. Host: an exact host > a wildcard with a longer suffix > one with a shorter suffix > no host
///    constraint. A route listing several hosts counts with the most specific one that matched.
/// 2. Path: an exact path (a template without `{params}`) > a template with params > a prefix > no path
///    constraint. Between templates (which then have the same number of segments): more literal
///    segments first; then, reading left to right, the first segment where they differ is literal in
///    the winner (`/a/{x}/c` > `/{x}/b/c`... only when their literal counts tie: `/a/{x}/{y}` <
///    `/{x}/b/c`). Between prefixes: the longer one in bytes (`/v1/users/` > `/v1/users` > `/v1`); the
///    prefix `/` is the shortest and still beats no path constraint.
/// 3. A methods constraint > none (the number of methods listed does not matter).
/// 4. More header constraints > fewer (a value constraint counts as much as a presence one).
///
/// Matching rules: `host` is the raw `Host` value, compared ASCII case-insensitively without a `:port`
/// (an IPv6 literal keeps its brackets: `[::1]`) and without one trailing dot; a nil `host` only matches
/// routes without hosts. `*.example.test` matches `a.example.test` and `a.b.example.test`, not
/// `example.test`. `path` is matched byte for byte. `{name}` matches one non-empty segment. The prefix
/// `/v1/users` matches `/v1/users` and `/v1/users/…`, not `/v1/usersX`; a prefix ending in `/` matches
/// whatever starts with it; the prefix `/` matches every path. `method` is compared case-sensitively.
///
/// The routes are compiled into host buckets (a table of exact hosts, a table of wildcard suffixes, and
/// the any-host bucket), each holding a path-segment trie, so a match costs O(path segments + host
/// labels) rather than O(routes). Because host specificity comes first, the buckets a request's host
/// selects are searched from most to least specific and the first one with a candidate decides.
/// Matching allocates nothing unless the winner captures parameters.
public struct Router: Sendable {
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
        let request = Request(path: path.utf8, method: method.utf8)
        guard let rank = bestRank(host: host, request: request, headers: headers) else {
            return nil
        }
        let route = table.routes[rank]
        if route.parameters.isEmpty {
            return RouteMatch(routeIndex: route.index)
        }
        return RouteMatch(routeIndex: route.index, parameters: Self.capture(route.parameters, in: path))
    }

    private struct Request {
        var path: Substring.UTF8View
        var method: Substring.UTF8View
    }

    private func bestRank<Headers: RouteHeaderLookup>(
        host: Substring?,
        request: Request,
        headers: Headers
    ) -> Int? {
        if let host {
            let name = RouteHostName.requested(host)
            if let bucket = table.hosts.value(namespace: RouteTable.exactHostNamespace, key: name),
                let rank = bestRank(in: bucket, request: request, headers: headers)
            {
                return rank
            }
            if table.hasWildcardHosts {
                // Each `.` after the first byte starts a suffix a wildcard may name; earlier dots give longer,
                // more specific suffixes.
                var index = name.startIndex
                while index != name.endIndex {
                    if index != name.startIndex, name[index] == UInt8(ascii: "."),
                        let bucket = table.hosts.value(namespace: RouteTable.wildcardHostNamespace, key: name[index...]),
                        let rank = bestRank(in: bucket, request: request, headers: headers)
                    {
                        return rank
                    }
                    name.formIndex(after: &index)
                }
            }
        }
        return bestRank(in: RouteTable.anyHostBucket, request: request, headers: headers)
    }

    private func bestRank<Headers: RouteHeaderLookup>(in bucket: Int, request: Request, headers: Headers) -> Int? {
        var best = Int.max
        consider(table.buckets[bucket].everyPathRanks, request: request, headers: headers, best: &best)
        search(
            node: table.buckets[bucket].root,
            segmentStart: request.path.startIndex,
            request: request,
            headers: headers,
            best: &best
        )
        return best == Int.max ? nil : best
    }

    /// Visits every trie node the path reaches, through literal and parameter edges alike: the best template
    /// is not necessarily on the literal-first path, and a route there may still fail on method or headers.
    /// Recursion depth is bounded by the deepest configured path, not by the request.
    private func search<Headers: RouteHeaderLookup>(
        node: Int,
        segmentStart: Substring.UTF8View.Index?,
        request: Request,
        headers: Headers,
        best: inout Int
    ) {
        consider(table.nodes[node].prefixRanks, request: request, headers: headers, best: &best)
        guard let start = segmentStart else {
            consider(table.nodes[node].templateRanks, request: request, headers: headers, best: &best)
            return
        }
        consider(table.nodes[node].descendantPrefixRanks, request: request, headers: headers, best: &best)

        let path = request.path
        let end = path[start...].firstIndex(of: UInt8(ascii: "/")) ?? path.endIndex
        // nil: the segment just taken was the last one, which differs from "an empty segment follows".
        let next = end == path.endIndex ? nil : path.index(after: end)
        if table.nodes[node].hasLiteralChildren,
            let child = table.edges.value(namespace: node, key: path[start..<end])
        {
            search(node: child, segmentStart: next, request: request, headers: headers, best: &best)
        }
        if let child = table.nodes[node].parameterChild, start != end {
            search(node: child, segmentStart: next, request: request, headers: headers, best: &best)
        }
    }

    /// `ranks` is sorted, so the first route that accepts the request is the list's best, and a rank no
    /// better than the best so far ends the scan.
    private func consider<Headers: RouteHeaderLookup>(
        _ ranks: [Int],
        request: Request,
        headers: Headers,
        best: inout Int
    ) {
        for rank in ranks {
            if rank >= best {
                return
            }
            if accepts(table.routes[rank], request: request, headers: headers) {
                best = rank
                return
            }
        }
    }

    private func accepts<Headers: RouteHeaderLookup>(
        _ route: RouteTable.Route,
        request: Request,
        headers: Headers
    ) -> Bool {
        if !route.methods.isEmpty, !route.methods.contains(where: { request.method.elementsEqual($0.utf8) }) {
            return false
        }
        for header in route.headers {
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
        var captured: [RouteParameter] = []
        captured.reserveCapacity(parameters.count)
        let bytes = path.utf8
        var start = bytes.startIndex
        var position = 0
        for parameter in parameters {
            while position < parameter.position, let slash = bytes[start...].firstIndex(of: UInt8(ascii: "/")) {
                start = bytes.index(after: slash)
                position += 1
            }
            let end = bytes[start...].firstIndex(of: UInt8(ascii: "/")) ?? bytes.endIndex
            // Segment bounds sit next to an ASCII `/`, hence on scalar boundaries: valid `Substring` indices.
            captured.append(RouteParameter(name: parameter.name, value: path[start..<end]))
        }
        return captured
    }
}
