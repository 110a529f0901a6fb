import Yams

extension ConfigReader {
    mutating func readHeaderRules(_ entry: Entry, label: String) -> HeaderRules {
        guard let s = section(entry, .headerRules, context: "in headers of \(label)", keys: ["request", "response"])
        else { return HeaderRules() }
        return HeaderRules(
            request: s["request"].map {
                readHeaderOperations($0, .requestHeaderOperations, context: "in headers.request of \(label)")
            } ?? HeaderOperations(),
            response: s["response"].map {
                readHeaderOperations($0, .responseHeaderOperations, context: "in headers.response of \(label)")
            } ?? HeaderOperations())
    }

    private mutating func readHeaderOperations(_ entry: Entry, _ kind: SectionKind, context: String) -> HeaderOperations
    {
        let keys =
            kind == .requestHeaderOperations ? ["set", "add", "remove", "from_claims"] : ["set", "add", "remove"]
        guard let s = section(entry, kind, context: context, keys: keys) else {
            return HeaderOperations()
        }
        var operations = HeaderOperations()
        if let e = s["from_claims"] {
            // `{claim: Header-Name}`: the claim's value replaces whatever the client sent.
            operations.fromClaims = readHeaderFields(e).compactMap { field in
                checkedToken(field.value, line: e.line).map { HeaderField(name: field.name, value: $0) }
            }
        }
        if let e = s["set"] { operations.set = readHeaderFields(e) }
        if let e = s["add"] { operations.add = readHeaderFields(e) }
        if let e = s["remove"], let items = list(e) {
            for item in items {
                guard let text = scalarText(item, expected: "a header name"),
                    let name = checkedToken(text, line: item.position)
                else { continue }
                operations.remove.append(name.lowercased())
            }
        }
        return operations
    }

    /// `{Name: value}` pairs for set/add. Names keep their spelling (it is what goes on the wire).
    private mutating func readHeaderFields(_ entry: Entry) -> [HeaderField] {
        guard case .mapping(let mapping) = entry.value else {
            error(entry.line, "expected a mapping of header names to values, got \(Self.describe(entry.value))")
            return []
        }
        var fields: [HeaderField] = []
        var seen: Set<String> = []
        for (keyNode, valueNode) in mapping {
            let line = keyNode.position ?? entry.line
            guard let text = scalarText(keyNode, expected: "a header name") else { continue }
            if ignoredKeys.contains(text) { continue }
            let field = Entry(key: text, keyLine: line, value: valueNode)
            let value = headerValue(field)
            guard let name = checkedToken(text, line: line) else { continue }
            let lowered = name.lowercased()
            if HTTPSyntax.proxyManagedHeaders.contains(lowered) {
                error(line, "cannot \(entry.key) header '\(name)': the proxy manages it")
                continue
            }
            guard seen.insert(lowered).inserted else {
                error(line, "header '\(name)' appears twice in '\(entry.key)'")
                continue
            }
            if let value { fields.append(HeaderField(name: name, value: value)) }
        }
        return fields
    }
}
