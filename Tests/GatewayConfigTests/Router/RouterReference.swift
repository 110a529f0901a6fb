import GatewayConfig

/// The routing rules written as directly as possible: check every route, rank every candidate, take the
/// best. Slow and obviously right, it is the oracle the randomized test compares `Router` against. It shares
/// no code with the router on purpose.
struct RouterReference {
    struct Result: Equatable {
        var routeIndex: Int
        var parameters: [Parameter]
    }

    struct Parameter: Equatable {
        var name: String
        var value: [UInt8]
    }

    private enum PathRank {
        case none
        case prefix(length: Int)
        /// true = literal segment.
        case template(kinds: [Bool])
    }

    private struct Candidate {
        var index: Int
        var hostRank: Int
        var pathRank: PathRank
        var hasMethods: Bool
        var headerCount: Int
        var parameters: [Parameter]
    }

    /// Configured hosts lowercased and without a trailing dot; parsed once because the oracle runs
    /// millions of route checks in a debug build.
    private let routes: [(config: RouteMatchConfig, hosts: [[UInt8]], templateSegments: [[UInt8]])]

    init(routes: [RouteMatchConfig]) {
        self.routes = routes.map { route in
            (
                route,
                route.hosts.map { configured in
                    var host = Self.asciiLowercased(configured)
                    if host.last == UInt8(ascii: ".") {
                        host.removeLast()
                    }
                    return host
                },
                { if case .template(let template) = route.path { Self.split(Array(template.utf8)) } else { [] } }()
            )
        }
    }

    func match(host: String?, path: String, method: String, headers: RouterTestHeaders) -> Result? {
        let requestHost = host.map(Self.normalizeRequestHost)
        let pathBytes = Array(path.utf8)
        let pathSegments = Self.split(pathBytes)
        var best: Candidate?
        for (index, (route, hosts, templateSegments)) in routes.enumerated() {
            guard let hostRank = Self.hostRank(hosts, requestHost),
                let (pathRank, parameters) = Self.pathMatch(route.path, templateSegments, pathBytes, pathSegments),
                route.methods.isEmpty || route.methods.contains(method),
                route.headers.allSatisfy({ header in
                    header.value.map { headers.containsHeader(header.name, value: $0) }
                        ?? headers.containsHeader(header.name)
                })
            else {
                continue
            }
            let candidate = Candidate(
                index: index,
                hostRank: hostRank,
                pathRank: pathRank,
                hasMethods: !route.methods.isEmpty,
                headerCount: route.headers.count,
                parameters: parameters
            )
            if let current = best {
                if Self.isBetter(candidate, than: current) {
                    best = candidate
                }
            } else {
                best = candidate
            }
        }
        return best.map { Result(routeIndex: $0.index, parameters: $0.parameters) }
    }

    private static func asciiLowercased(_ text: some StringProtocol) -> [UInt8] {
        text.utf8.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }
    }

    private static func normalizeRequestHost(_ raw: String) -> [UInt8] {
        var host = Array(raw.utf8)
        if host.first == UInt8(ascii: "[") {
            if let close = host.firstIndex(of: UInt8(ascii: "]")) {
                host = Array(host[...close])
            }
        } else if let colon = host.firstIndex(of: UInt8(ascii: ":")) {
            host = Array(host[..<colon])
        }
        if host.last == UInt8(ascii: ".") {
            host.removeLast()
        }
        return asciiLowercased(String(decoding: host, as: UTF8.self))
    }

    /// nil: no match. Exact beats every wildcard, a longer wildcard suffix beats a shorter, anything beats
    /// "no host constraint" (0).
    private static func hostRank(_ hosts: [[UInt8]], _ requestHost: [UInt8]?) -> Int? {
        if hosts.isEmpty {
            return 0
        }
        guard let requestHost else {
            return nil
        }
        var best: Int?
        for host in hosts {
            var rank: Int?
            if host.count >= 2, host[0] == UInt8(ascii: "*"), host[1] == UInt8(ascii: ".") {
                let suffix = Array(host.dropFirst())
                if requestHost.count > suffix.count, requestHost.suffix(suffix.count).elementsEqual(suffix) {
                    rank = 1 + suffix.count
                }
            } else if host == requestHost {
                rank = Int.max
            }
            if let rank, rank > (best ?? -1) {
                best = rank
            }
        }
        return best
    }

    private static func split(_ bytes: [UInt8]) -> [[UInt8]] {
        bytes.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).map(Array.init)
    }

    private static func isParameter(_ segment: [UInt8]) -> Bool {
        segment.count >= 2 && segment.first == UInt8(ascii: "{") && segment.last == UInt8(ascii: "}")
    }

    private static func pathMatch(
        _ constraint: PathMatch?,
        _ templateSegments: [[UInt8]],
        _ path: [UInt8],
        _ pathSegments: [[UInt8]]
    ) -> (PathRank, [Parameter])? {
        switch constraint {
        case nil:
            return (.none, [])
        case .prefix(let prefixString):
            let prefix = Array(prefixString.utf8)
            let rank = PathRank.prefix(length: prefix.count)
            if prefix.isEmpty || prefix == [UInt8(ascii: "/")] {
                return (rank, [])
            }
            if prefix.last == UInt8(ascii: "/") {
                return path.starts(with: prefix) ? (rank, []) : nil
            }
            if path.starts(with: prefix), path.count == prefix.count || path[prefix.count] == UInt8(ascii: "/") {
                return (rank, [])
            }
            return nil
        case .template:
            guard templateSegments.count == pathSegments.count else {
                return nil
            }
            var parameters: [Parameter] = []
            for (templateSegment, pathSegment) in zip(templateSegments, pathSegments) {
                if isParameter(templateSegment) {
                    if pathSegment.isEmpty {
                        return nil
                    }
                    let name = String(decoding: templateSegment.dropFirst().dropLast(), as: UTF8.self)
                    parameters.append(Parameter(name: name, value: pathSegment))
                } else if templateSegment != pathSegment {
                    return nil
                }
            }
            return (.template(kinds: templateSegments.map { !isParameter($0) }), parameters)
        }
    }

    /// Each rule decides only on a tie of the ones before it; a full tie goes to the lower index.
    private static func isBetter(_ a: Candidate, than b: Candidate) -> Bool {
        if a.hostRank != b.hostRank {
            return a.hostRank > b.hostRank
        }
        if let pathOrder = comparePaths(a.pathRank, b.pathRank), pathOrder != 0 {
            return pathOrder > 0
        }
        if a.hasMethods != b.hasMethods {
            return a.hasMethods
        }
        if a.headerCount != b.headerCount {
            return a.headerCount > b.headerCount
        }
        return a.index < b.index
    }

    /// > 0 when `a` is more specific.
    private static func comparePaths(_ a: PathRank, _ b: PathRank) -> Int? {
        func pathClass(_ rank: PathRank) -> Int {
            switch rank {
            case .none: return 0
            case .prefix: return 1
            case .template(let kinds): return kinds.allSatisfy { $0 } ? 3 : 2
            }
        }
        if pathClass(a) != pathClass(b) {
            return pathClass(a) - pathClass(b)
        }
        switch (a, b) {
        case (.prefix(let lengthA), .prefix(let lengthB)):
            return lengthA - lengthB
        case (.template(let kindsA), .template(let kindsB)):
            let literalsA = kindsA.filter { $0 }.count
            let literalsB = kindsB.filter { $0 }.count
            if literalsA != literalsB {
                return literalsA - literalsB
            }
            for (kindA, kindB) in zip(kindsA, kindsB) where kindA != kindB {
                return kindA ? 1 : -1
            }
            return 0
        default:
            return 0
        }
    }
}
