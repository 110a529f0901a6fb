import GatewayConfig

/// Headers as a plain list, the simplest faithful `RouteHeaderLookup`.
struct RouterTestHeaders: RouteHeaderLookup {
    var fields: [(name: String, value: String)]

    init(_ fields: [(String, String)] = []) {
        self.fields = fields.map { (name: $0.0, value: $0.1) }
    }

    func containsHeader(_ name: String) -> Bool {
        fields.contains { $0.name.lowercased() == name }
    }

    func containsHeader(_ name: String, value: String) -> Bool {
        fields.contains { $0.name.lowercased() == name && $0.value == value }
    }
}

/// SplitMix64: tiny, seedable, and identical on every platform, so randomized tests replay exactly.
struct RouterSplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

extension Router {
    /// Test shorthand: Strings in, and the route index out when the parameters are not under test.
    func matchIndex(
        host: String?,
        path: String,
        method: String = "GET",
        headers: RouterTestHeaders = RouterTestHeaders()
    ) -> Int? {
        match(host: host.map { Substring($0) }, path: Substring(path), method: Substring(method), headers: headers)?
            .routeIndex
    }

    func matchAll(
        host: String?,
        path: String,
        method: String = "GET",
        headers: RouterTestHeaders = RouterTestHeaders()
    ) -> RouteMatch? {
        match(host: host.map { Substring($0) }, path: Substring(path), method: Substring(method), headers: headers)
    }
}
