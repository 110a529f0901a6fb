import GatewayConfig
import NIOHTTP1

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
