import GatewayConfig

/// The router reads the host, path and method of every request before anything else checks them
/// (past the parser's syntax checks), and "any input builds a router" is its contract too.
///
/// Input, line by line: host, method, path, then route specifications, one per line:
/// `<kind> <host> <method> <pattern>`, kind `t` (template) or `p` (prefix), `-` for "any".
/// Without route lines a fixed table with every kind of route is used.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRouter(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false)[...]
    let host = lines.popFirst()
    let method = lines.popFirst() ?? "GET"
    let path = lines.popFirst() ?? "/"
    let routes = lines.isEmpty ? fixedRoutes : lines.map(routeMatch)
    let router = Router(routes: routes)

    for requestHost in [host, nil] {
        guard let match = router.match(host: requestHost, path: path, method: method, headers: FuzzHeaders()) else {
            continue
        }
        guard routes.indices.contains(match.routeIndex) else { fatalError("route index \(match.routeIndex)") }
        for parameter in match.parameters where !parameter.value.isEmpty {
            // A captured value is a slice of the request's path, never of something else.
            guard path.startIndex <= parameter.value.startIndex, parameter.value.endIndex <= path.endIndex else {
                fatalError("parameter \(parameter.name) is not a slice of the path")
            }
        }
    }
    return 0
}

func routeMatch(_ line: Substring) -> RouteMatchConfig {
    let fields = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
    func field(_ index: Int) -> String? {
        guard fields.indices.contains(index), fields[index] != "-" else { return nil }
        return fields[index]
    }
    let pattern = field(3)
    return RouteMatchConfig(
        hosts: field(1).map { [$0] } ?? [],
        path: pattern.map { field(0) == "t" ? .template($0) : .prefix($0) },
        methods: field(2).map { [$0] } ?? [],
        headers: field(0) == "h" ? [HeaderMatch(name: "x-fuzz", value: pattern)] : []
    )
}

let fixedRoutes: [RouteMatchConfig] = [
    RouteMatchConfig(path: .prefix("/")),
    RouteMatchConfig(path: .prefix("/api/")),
    RouteMatchConfig(path: .prefix("/api/v1"), methods: ["GET", "HEAD"]),
    RouteMatchConfig(path: .template("/api/v1/users/{id}/orders/{order}")),
    RouteMatchConfig(path: .template("/static/{file}")),
    RouteMatchConfig(hosts: ["api.example.test"], path: .prefix("/")),
    RouteMatchConfig(hosts: ["*.example.test"], path: .prefix("/v2/")),
    RouteMatchConfig(hosts: ["*.b.example.test"], path: .template("/{a}/{b}")),
    RouteMatchConfig(path: .prefix("/admin"), headers: [HeaderMatch(name: "x-fuzz")]),
    RouteMatchConfig(path: .prefix("/admin"), headers: [HeaderMatch(name: "x-fuzz", value: "1")]),
]

/// Says yes to `x-fuzz: 1` only, so header conditions are both met and missed.
struct FuzzHeaders: RouteHeaderLookup {
    func containsHeader(_ name: String) -> Bool { name == "x-fuzz" }
    func containsHeader(_ name: String, value: String) -> Bool { name == "x-fuzz" && value == "1" }
}
