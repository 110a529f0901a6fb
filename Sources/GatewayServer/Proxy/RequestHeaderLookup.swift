import GatewayConfig

/// Lets the router read the request's fields in place, as bytes.
struct RequestHeaderLookup: RouteHeaderLookup {
    let head: RequestHead

    func containsHeader(_ name: String) -> Bool {
        head.fields.indices.contains { head.nameEquals($0, name) }
    }

    func containsHeader(_ name: String, value: String) -> Bool {
        head.fields.indices.contains { head.nameEquals($0, name) && head.value(of: $0) == value }
    }
}
