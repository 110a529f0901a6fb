import GatewayConfig
import LoadBalancing

/// The consistent-hashing key of a request (`hash_on`), or nil when the request does not carry it.
enum HashKey {
    static func compute(_ source: HashSource, head: RequestHead, client: ClientAddress) -> UInt64? {
        switch source {
        case .clientIP:
            return client.bytes.isEmpty ? nil : StableHash.hash(client.bytes)
        case .header(let name):
            return head.firstValue(named: name).map { StableHash.hash($0.utf8) }
        case .cookie(let name):
            for cookieHeader in head.values(named: "cookie") {
                if let value = cookieValue(named: name, in: Substring(cookieHeader)) {
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
