import GatewayConfig
import NIOCore

/// One upstream as seen by one event loop: its endpoint pools and balancer position. Lives outside
/// the snapshot (runtime state) and is only touched on its loop.
final class UpstreamRuntime {
    let config: UpstreamConfig
    let pools: [EndpointPool]
    private var balancer: EndpointBalancer

    init(config: UpstreamConfig, pools: [EndpointPool]) {
        self.config = config
        self.pools = pools
        self.balancer = EndpointBalancer(config: config)
    }

    func pickEndpoint(hashKey: UInt64?) -> EndpointPool? {
        let pools = self.pools
        guard let index = balancer.pick(hashKey: hashKey, activeRequests: { pools[$0].activeRequests }) else {
            return nil
        }
        return pools[index]
    }
}
