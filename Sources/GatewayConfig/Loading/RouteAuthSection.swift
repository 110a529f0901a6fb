import Yams

extension ConfigReader {
    /// A route's `auth`: `none`, `{ jwt: NAME }`, `{ introspection: NAME }`, `{ api_key: NAME }`, or
    /// `{ any_of: [ … ] }`, each with optional `scopes` and `forward_credentials`.
    mutating func readRouteAuth(_ entry: Entry, label: String, known: AuthRead) -> RouteAuthConfig? {
        if case .scalar(let scalar) = entry.value, scalar.string == "none" { return nil }
        guard
            let s = section(
                entry, .routeAuth, context: "in auth of \(label)",
                keys: ["jwt", "introspection", "api_key", "any_of", "scopes", "forward_credentials"])
        else { return nil }
        var methods: [RouteAuthConfig.Method] = []
        if let method = readAuthMethod(s, label: label, known: known) { methods.append(method) }
        if let anyOf = s["any_of"], let items = list(anyOf, nonEmpty: true) {
            for item in items {
                guard
                    let choice = section(
                        item, .routeAuth, context: "in any_of of \(label)", keys: ["jwt", "introspection", "api_key"],
                        what: "an authentication method")
                else { continue }
                if let method = readAuthMethod(choice, label: label, known: known) {
                    methods.append(method)
                } else if choice["jwt"] == nil, choice["introspection"] == nil, choice["api_key"] == nil {
                    error(item.position, "each any_of entry of \(label) names jwt, introspection or api_key")
                }
            }
        }
        guard !methods.isEmpty else {
            if s["jwt"] == nil, s["introspection"] == nil, s["api_key"] == nil, s["any_of"] == nil {
                error(entry.line, "auth of \(label) names jwt, introspection, api_key or any_of (or is 'none')")
            }
            return nil
        }
        var config = RouteAuthConfig(methods: methods)
        if let scopesEntry = s["scopes"], let items = list(scopesEntry) {
            config.scopes = items.compactMap { scalarText($0, expected: "a scope") }
            if methods.allSatisfy({ if case .apiKey = $0 { true } else { false } }), !config.scopes.isEmpty {
                error(scopesEntry.keyLine, "API keys carry no scopes: 'scopes' needs jwt or introspection in \(label)")
            }
        }
        if let forward = s["forward_credentials"].flatMap({ bool($0) }) { config.forwardCredentials = forward }
        return config
    }

    private mutating func readAuthMethod(_ s: Section, label: String, known: AuthRead) -> RouteAuthConfig.Method? {
        let kinds: [(String, Set<String>, (String) -> RouteAuthConfig.Method)] = [
            ("jwt", known.jwtNames, { .jwt($0) }), ("introspection", known.introspectionNames, { .introspection($0) }),
            ("api_key", known.apiKeyNames, { .apiKey($0) }),
        ]
        var found: RouteAuthConfig.Method?
        for (key, names, make) in kinds {
            guard let entry = s[key], let name = self.name(entry) else { continue }
            guard names.contains(name) else {
                let section = key == "api_key" ? "api_keys" : key
                error(
                    entry.line,
                    "\(label) names unknown \(key) '\(name)' (declare it under auth.\(section))"
                        + Suggestion.hint(for: name, in: names.sorted()))
                continue
            }
            if found != nil {
                error(entry.line, "auth of \(label) names one method; use any_of for several")
                continue
            }
            found = make(name)
        }
        return found
    }
}
