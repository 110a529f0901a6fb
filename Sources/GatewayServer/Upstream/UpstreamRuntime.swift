import GatewayConfig
import NIOCore

/// One upstream as seen by one event loop: its endpoint pools and balancer position. Lives outside
/// the snapshot (runtime state) and is only touched on its loop.
final class UpstreamRuntime {
    let config: UpstreamConfig
    let pools: [EndpointPool]
    private var balancer: EndpointBalancer
    /// What consistent hashing keys on; nil for the other strategies (no key is computed then).
    let hashSource: HashSource?
    /// Converted once: a `Duration` to `TimeAmount` conversion is 128-bit arithmetic.
    let responseHeaderTimeout: TimeAmount
    let metrics: UpstreamMetrics

    init(config: UpstreamConfig, pools: [EndpointPool], metrics: UpstreamMetrics) {
        self.config = config
        self.pools = pools
        self.metrics = metrics
        self.balancer = EndpointBalancer(config: config)
        self.responseHeaderTimeout = TimeAmount(config.timeouts.responseHeader)
        if case .consistentHash(let source) = config.balance {
            self.hashSource = source
        } else {
            self.hashSource = nil
        }
    }

    func pickEndpoint(hashKey: UInt64?) -> EndpointPool? {
        let pools = self.pools
        guard let index = balancer.pick(hashKey: hashKey, activeRequests: { pools[$0].activeRequests }) else {
            return nil
        }
        return pools[index]
    }
}
