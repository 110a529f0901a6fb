import Yams

/// The providers as read, plus every declared name (valid or not) by kind, so a route naming a
/// provider with its own problems is not also told it does not exist.
struct AuthRead {
    var config = AuthConfig()
    var jwtNames: Set<String> = []
    var introspectionNames: Set<String> = []
    var apiKeyNames: Set<String> = []
}

extension ConfigReader {
    static let supportedJWTAlgorithms = [
        "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512",
        "EdDSA",
    ]

    /// `auth: { jwt: {NAME: …}, introspection: {NAME: …}, api_keys: {NAME: …} }`.
    mutating func readAuth(_ entry: Entry) -> AuthRead {
        var result = AuthRead()
        guard let s = section(entry, .auth, context: "in 'auth'", keys: ["jwt", "introspection", "api_keys"]) else {
            return result
        }
        for (name, node, line) in namedEntries(s["jwt"], what: "JWT provider") {
            result.jwtNames.insert(name)
            if let provider = readJWTProvider(node, name: name, line: line) { result.config.jwt.append(provider) }
        }
        for (name, node, _) in namedEntries(s["introspection"], what: "introspection endpoint") {
            result.introspectionNames.insert(name)
            if let endpoint = readIntrospection(node, name: name) { result.config.introspection.append(endpoint) }
        }
        for (name, node, _) in namedEntries(s["api_keys"], what: "API key set") {
            result.apiKeyNames.insert(name)
            if let set = readAPIKeySet(node, name: name) { result.config.apiKeys.append(set) }
        }
        return result
    }

    /// The entries of a `NAME: {…}` mapping with valid names.
    private mutating func namedEntries(_ entry: Entry?, what: String) -> [(String, Node, Position)] {
        guard let entry else { return [] }
        guard case .mapping(let mapping) = entry.value else {
            error(entry.line, "expected a mapping of names to \(what)s, got \(Self.describe(entry.value))")
            return []
        }
        var result: [(String, Node, Position)] = []
        for (keyNode, value) in mapping {
            let line = keyNode.position ?? entry.line
            guard let name = scalarText(keyNode, expected: "a \(what) name") else { continue }
            guard Self.isValidUpstreamName(name) else {
                error(line, "invalid \(what) name '\(name)': use letters, digits, '_', '.' and '-'")
                continue
            }
            result.append((name, value, line))
        }
        return result
    }

    private mutating func readJWTProvider(_ node: Node, name: String, line: Position) -> JWTProviderConfig? {
        let label = "JWT provider '\(name)'"
        guard
            let s = section(
                node, .jwtProvider, context: "in \(label)",
                keys: [
                    "jwks_url", "refresh", "min_refresh_interval", "issuer", "audience", "algorithms", "leeway",
                    "secret_env", "public_keys", "required_claims", "token", "cache_entries",
                ], what: label)
        else { return nil }
        var provider = JWTProviderConfig(name: name)
        if let urlEntry = s["jwks_url"], let url = string(urlEntry) {
            if url.hasPrefix("http://") || url.hasPrefix("https://") {
                provider.jwksURL = url
            } else {
                error(urlEntry.line, "'jwks_url' must be an http:// or https:// URL, got '\(url)'")
            }
        }
        if let refresh = s["refresh"].flatMap({ duration($0) }) { provider.refresh = refresh }
        if let interval = s["min_refresh_interval"].flatMap({ duration($0) }) {
            provider.minimumRefreshInterval = interval
        }
        provider.issuer = s["issuer"].flatMap { string($0) }
        if let audience = s["audience"] { provider.audiences = stringOrList(audience, what: "an audience") }
        if let algorithmsEntry = s["algorithms"], let items = list(algorithmsEntry, nonEmpty: true) {
            for item in items {
                guard let text = scalarText(item, expected: "a JWS algorithm") else { continue }
                if Self.supportedJWTAlgorithms.contains(text) {
                    provider.algorithms.append(text)
                } else {
                    error(
                        item.position,
                        "unsupported JWT algorithm '\(text)' in \(label) (supported: \(Self.supportedJWTAlgorithms.joined(separator: ", ")); 'none' never is)"
                    )
                }
            }
        } else if s["algorithms"] == nil {
            error(line, "\(label) needs 'algorithms': the JWS algorithms its tokens may use, e.g. [RS256]")
        }
        if let leeway = s["leeway"].flatMap({ duration($0, positive: false) }) { provider.leeway = leeway }
        if let secretEntry = s["secret_env"], let variable = self.name(secretEntry) {
            provider.secretEnvironmentVariable = variable
            if provider.algorithms.contains(where: { !$0.hasPrefix("HS") }) {
                error(
                    secretEntry.line, "'secret_env' is an HMAC secret: \(label) then takes HS256, HS384 or HS512 only")
            }
        }
        if let keysEntry = s["public_keys"], let items = list(keysEntry, nonEmpty: true) {
            for item in items {
                guard
                    let k = section(
                        item, .jwtPublicKey, context: "in public_keys of \(label)", keys: ["file", "kid"],
                        what: "a public key")
                else { continue }
                require(["file"], in: k)
                guard let path = k["file"].flatMap({ string($0) }) else { continue }
                provider.publicKeyFiles.append(.init(path: path, keyID: k["kid"].flatMap { string($0) }))
            }
        }
        if provider.jwksURL == nil, provider.secretEnvironmentVariable == nil, provider.publicKeyFiles.isEmpty {
            error(line, "\(label) needs keys: 'jwks_url', 'secret_env' or 'public_keys'")
        }
        if let claims = s["required_claims"] { provider.requiredClaims = stringOrList(claims, what: "a claim name") }
        if let tokenEntry = s["token"], let source = readCredentialSource(tokenEntry, label: label) {
            provider.token = source
        }
        if let entries = s["cache_entries"].flatMap({ int($0, in: 0...10_000_000) }) { provider.cacheEntries = entries }
        return provider
    }

    private mutating func readIntrospection(_ node: Node, name: String) -> IntrospectionConfig? {
        let label = "introspection endpoint '\(name)'"
        guard
            let s = section(
                node, .introspection, context: "in \(label)",
                keys: ["url", "client_id", "client_secret_env", "cache_for", "timeout", "token"], what: label)
        else { return nil }
        require(["url", "client_id"], in: s)
        var url: String?
        if let urlEntry = s["url"], let text = string(urlEntry) {
            if text.hasPrefix("http://") || text.hasPrefix("https://") {
                url = text
            } else {
                error(urlEntry.line, "'url' must be an http:// or https:// URL, got '\(text)'")
            }
        }
        guard let url, let clientID = s["client_id"].flatMap({ string($0) }) else { return nil }
        var endpoint = IntrospectionConfig(name: name, url: url, clientID: clientID)
        endpoint.clientSecretEnvironmentVariable = s["client_secret_env"].flatMap { self.name($0) }
        if let cacheFor = s["cache_for"].flatMap({ duration($0, positive: false) }) { endpoint.cacheFor = cacheFor }
        if let timeout = s["timeout"].flatMap({ duration($0) }) { endpoint.timeout = timeout }
        if let tokenEntry = s["token"], let source = readCredentialSource(tokenEntry, label: label) {
            endpoint.token = source
        }
        return endpoint
    }

    private mutating func readAPIKeySet(_ node: Node, name: String) -> APIKeySetConfig? {
        let label = "API key set '\(name)'"
        guard
            let s = section(node, .apiKeySet, context: "in \(label)", keys: ["header", "query", "keys"], what: label)
        else { return nil }
        var set = APIKeySetConfig(name: name)
        switch (s["header"].flatMap { string($0) }, s["query"].flatMap { string($0) }) {
        case (let header?, nil):
            guard HTTPSyntax.isToken(header) else {
                error(s["header"]?.line, "'header' must be a header name, got '\(header)'")
                return nil
            }
            set.source = .header(header.lowercased())
        case (nil, let query?): set.source = .query(query)
        case (nil, nil): break
        case (_?, _?): error(s["query"]?.line, "\(label) takes the key from 'header' or 'query', not both")
        }
        if let keysEntry = s["keys"], let items = list(keysEntry) {
            for item in items {
                guard
                    let k = section(
                        item, .apiKey, context: "in keys of \(label)", keys: ["consumer", "sha256"], what: "an API key")
                else { continue }
                require(["consumer", "sha256"], in: k)
                guard let consumer = k["consumer"].flatMap({ string($0) }),
                    let hashEntry = k["sha256"], let hex = string(hashEntry)
                else { continue }
                guard let digest = Self.hexBytes(hex), digest.count == 32 else {
                    error(
                        hashEntry.line, "'sha256' must be 64 hex digits (the SHA-256 of the key, never the key itself)")
                    continue
                }
                set.keys.append(.init(consumer: consumer, sha256: digest))
            }
        }
        return set
    }

    /// `token: { header: X-Token }`, `{ query: access_token }`, `{ cookie: session }` or `bearer`.
    private mutating func readCredentialSource(_ entry: Entry, label: String) -> CredentialSource? {
        if case .scalar(let scalar) = entry.value, scalar.string == "bearer" { return .bearer }
        guard
            let s = section(
                entry, .credentialSource, context: "in token of \(label)", keys: ["header", "query", "cookie"])
        else { return nil }
        if let header = s["header"].flatMap({ string($0) }) {
            guard HTTPSyntax.isToken(header) else {
                error(s["header"]?.line, "'header' must be a header name, got '\(header)'")
                return nil
            }
            return header.lowercased() == "authorization" ? .bearer : .header(header.lowercased())
        }
        if let query = s["query"].flatMap({ string($0) }) { return .query(query) }
        if let cookie = s["cookie"].flatMap({ string($0) }) { return .cookie(cookie) }
        error(entry.line, "'token' names one of header, query or cookie (or is 'bearer')")
        return nil
    }

    private mutating func stringOrList(_ entry: Entry, what: String) -> [String] {
        if case .scalar = entry.value { return string(entry).map { [$0] } ?? [] }
        guard let items = list(entry) else { return [] }
        return items.compactMap { scalarText($0, expected: what) }
    }

    static func hexBytes(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let high = PercentDecoding.hexValue(digits[index]),
                let low = PercentDecoding.hexValue(digits[index + 1])
            else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }
}
