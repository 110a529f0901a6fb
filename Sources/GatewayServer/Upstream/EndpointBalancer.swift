import GatewayConfig

/// Placeholder balancer: plain round robin until the LoadBalancing module lands.
struct EndpointBalancer {
    private var next = 0
    private let count: Int

    init(config: UpstreamConfig) {
        self.count = config.endpoints.count
    }

    mutating func pick(hashKey: UInt64?, activeRequests: (Int) -> Int) -> Int? {
        guard count > 0 else { return nil }
        defer { next = (next + 1) % count }
        return next
    }
}
