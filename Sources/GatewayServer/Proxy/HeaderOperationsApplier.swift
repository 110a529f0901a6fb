import GatewayConfig
import NIOHTTP1

extension HeaderOperations {
    /// In the documented order remove, set, add, so `set` of a removed name still applies.
    func apply(to headers: inout HTTPHeaders) {
        for name in remove {
            headers.remove(name: name)
        }
        for field in self.set {
            headers.replaceOrAdd(name: field.name, value: field.value)
        }
        for field in add {
            headers.add(name: field.name, value: field.value)
        }
    }
}

/// Lets the router read NIO's headers in place.
struct RequestHeaderLookup: RouteHeaderLookup {
    let headers: HTTPHeaders

    func containsHeader(_ name: String) -> Bool {
        headers.contains(name: name)
    }

    func containsHeader(_ name: String, value: String) -> Bool {
        for (headerName, headerValue) in headers where headerValue == value {
            if headerNameEquals(headerName, lowercase: name) { return true }
        }
        return false
    }
}
