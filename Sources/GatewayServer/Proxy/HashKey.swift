import GatewayConfig
import LoadBalancing
import NIOHTTP1

/// The consistent-hashing key of a request (`hash_on`), or nil when the request does not carry it.
enum HashKey {
    static func compute(_ source: HashSource, headers: HTTPHeaders, client: ClientAddress) -> UInt64? {
        switch source {
        case .clientIP:
            return client.bytes.isEmpty ? nil : StableHash.hash(client.bytes)
        case .header(let name):
            return headers.first(name: name).map { StableHash.hash($0.utf8) }
        case .cookie(let name):
            for cookieHeader in headers[canonicalForm: "cookie"] {
                if let value = cookieValue(named: name, in: cookieHeader) {
                    return StableHash.hash(value)
                }
            }
            return nil
        }
    }

    /// RFC 6265 `cookie-string`: `name=value` pairs separated by `;` and optional spaces.
    static func cookieValue(named name: String, in header: Substring) -> Substring? {
        for pair in header.split(separator: ";") {
            let trimmed = pair.trimmingSpaces()
            guard let equals = trimmed.firstIndex(of: "=") else { continue }
            if trimmed[..<equals] == name {
                return trimmed[trimmed.index(after: equals)...]
            }
        }
        return nil
    }
}
