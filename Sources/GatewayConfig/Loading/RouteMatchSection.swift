import Yams

extension ConfigReader {
    static let matchKeys = ["host", "path", "path_prefix", "methods", "headers"]

    mutating func readRouteMatch(_ entry: Entry, label: String) -> RouteMatchConfig {
        guard let s = section(entry, .routeMatch, context: "in match of \(label)", keys: Self.matchKeys) else {
            return RouteMatchConfig()
        }
        var match = RouteMatchConfig()
        if let e = s["host"] { match.hosts = readMatchHosts(e) }
        switch (s["path"], s["path_prefix"]) {
        case (let path?, nil):
            match.path = pathTemplate(path).map { .template($0) }
        case (nil, let prefix?):
            match.path = pathPrefix(prefix).map { .prefix($0) }
        case (let path?, let prefix?):
            error(max(path.keyLine, prefix.keyLine), "use either 'path' or 'path_prefix', not both")
        case (nil, nil):
            break
        }
        if let e = s["methods"] { match.methods = readMethods(e) }
        if let e = s["headers"] { match.headers = readHeaderMatches(e, label: label) }
        return match
    }

    /// One name or a list; each an exact host or `*.suffix`, lowercased since hosts compare
    /// case-insensitively.
    private mutating func readMatchHosts(_ entry: Entry) -> [String] {
        let nodes: [Node]
        if case .sequence = entry.value {
            guard let items = list(entry, nonEmpty: true) else { return [] }
            nodes = items
        } else {
            nodes = [entry.value]
        }
        var hosts: [String] = []
        for node in nodes {
            guard let text = scalarText(node, expected: "a host name") else { continue }
            let host = text.lowercased()
            let line = node.position
            if let problem = Self.hostPatternProblem(host) {
                error(line, "invalid host '\(text)': \(problem)")
            } else if hosts.contains(host) {
                error(line, "host '\(text)' is listed twice")
            } else {
                hosts.append(host)
            }
        }
        return hosts
    }

    static func hostPatternProblem(_ host: String) -> String? {
        if host.contains(":") { return "a host pattern has no port" }
        if host.hasPrefix("*.") {
            let suffix = host.dropFirst(2)
            if suffix.contains("*") || !UnitParser.isValidDNSName(suffix) {
                return "expected '*.' followed by a domain name"
            }
            return nil
        }
        if host.contains("*") { return "a wildcard is only allowed as '*.suffix'" }
        return UnitParser.isValidHost(Substring(host)) ? nil : "expected a domain name like api.example.test"
    }

    /// `/users/{id}`: parameters are whole segments with identifier names, each used once, so the
    /// router can bind them by name without ambiguity.
    private mutating func pathTemplate(_ entry: Entry) -> String? {
        guard let path = routePath(entry) else { return nil }
        var seen: Set<Substring> = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: false).dropFirst() {
            guard segment.contains("{") || segment.contains("}") else { continue }
            guard segment.hasPrefix("{"), segment.hasSuffix("}"), segment.count >= 2 else {
                error(entry.line, "path parameter in '\(segment)' must be a whole segment like /{id}")
                return nil
            }
            let name = segment.dropFirst().dropLast()
            guard Self.isIdentifier(name) else {
                error(entry.line, "invalid path parameter name '\(name)': use letters, digits and '_'")
                return nil
            }
            guard seen.insert(name).inserted else {
                error(entry.line, "path parameter '\(name)' appears twice")
                return nil
            }
        }
        return path
    }

    private mutating func pathPrefix(_ entry: Entry) -> String? {
        guard let prefix = routePath(entry) else { return nil }
        guard !prefix.contains("{"), !prefix.contains("}") else {
            error(entry.line, "'path_prefix' cannot have parameters; use 'path' for /{name} segments")
            return nil
        }
        return prefix
    }

    /// Shared rules of `path` and `path_prefix`: absolute, and only the path part of a URL.
    private mutating func routePath(_ entry: Entry) -> String? {
        guard let path = string(entry) else { return nil }
        guard path.hasPrefix("/") else {
            error(entry.line, "'\(entry.key)' must start with '/', got '\(path)'")
            return nil
        }
        if path.unicodeScalars.contains(where: { $0 == "?" || $0 == "#" || $0.properties.isWhitespace }) {
            error(entry.line, "'\(entry.key)' must not contain '?', '#' or spaces, got '\(path)'")
            return nil
        }
        return path
    }

    static func isIdentifier(_ text: Substring) -> Bool {
        guard let first = text.utf8.first, !UnitParser.isASCIIDigit(first) else { return false }
        return text.utf8.allSatisfy {
            UnitParser.isASCIIDigit($0) || UnitParser.isASCIILetter($0) || $0 == UInt8(ascii: "_")
        }
    }

    private mutating func readMethods(_ entry: Entry) -> [String] {
        guard let items = list(entry, nonEmpty: true) else { return [] }
        var methods: [String] = []
        for item in items {
            guard let text = scalarText(item, expected: "an HTTP method"),
                let method = checkedToken(text, line: item.position, what: "HTTP method")?.uppercased()
            else { continue }
            if methods.contains(method) {
                error(item.position, "method '\(method)' is listed twice")
            } else {
                methods.append(method)
            }
        }
        return methods
    }

    private mutating func readHeaderMatches(_ entry: Entry, label: String) -> [HeaderMatch] {
        guard let items = list(entry, nonEmpty: true) else { return [] }
        var result: [HeaderMatch] = []
        for item in items {
            let context = "in match.headers of \(label)"
            guard
                let s = section(item, .headerMatch, context: context, keys: ["name", "value"], what: "a header match")
            else { continue }
            require(["name"], in: s)
            let value = s["value"].flatMap { headerValue($0) }
            guard let name = s["name"].flatMap({ headerName($0) }) else { continue }
            result.append(HeaderMatch(name: name.lowercased(), value: value))
        }
        return result
    }

    mutating func headerValue(_ entry: Entry) -> String? {
        guard let value = scalarText(entry.value, expected: "a header value") else { return nil }
        guard HTTPSyntax.isValidFieldValue(value) else {
            error(entry.line, "header value for '\(entry.key)' must not contain CR, LF or NUL")
            return nil
        }
        return value
    }
}
