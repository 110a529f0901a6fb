import GatewayConfig
import Logging
import NIOCore
import NIOPosix
import Resilience

/// Active health checks of one endpoint of one upstream: a `GET path` on a fresh connection every
/// interval (± 10 % jitter, so the checks of many gateways do not arrive in step), judged by the
/// status and the timeout, and fed to a `HealthState` whose verdict goes to the shared
/// `EndpointHealth`. Runs on one event loop but never on a request's path: its connections are
/// its own, not the pool's.
final class HealthChecker {
    let health: EndpointHealth
    let config: HealthCheckConfig
    private let address: SocketAddress?
    private let eventLoop: EventLoop
    private let logger: Logger
    private var state: HealthState
    private var next: Scheduled<Void>?
    private var stopped = false
    private var random = SystemRandomNumberGenerator()
    private let request: ByteBuffer
    private let timeout: TimeAmount
    private let interval: TimeAmount
    /// Why the last check failed, for the admin view; nil after a pass.
    private(set) var lastFailure: String?

    init(
        health: EndpointHealth, config: HealthCheckConfig, endpoint: HostPort, address: SocketAddress?,
        eventLoop: EventLoop, logger: Logger
    ) {
        self.health = health
        self.config = config
        self.address = address
        self.eventLoop = eventLoop
        self.logger = logger
        self.state = HealthState(healthyThreshold: config.healthy, unhealthyThreshold: config.unhealthy)
        self.timeout = TimeAmount(config.timeout)
        self.interval = TimeAmount(config.interval)
        let host = config.host ?? endpoint.description
        self.request = ByteBuffer(
            string: "GET \(config.path) HTTP/1.1\r\nHost: \(host)\r\nUser-Agent: gateway-health-check\r\n"
                + "Connection: close\r\n\r\n")
    }

    /// The first check comes after a random part of the interval, so a fleet restarted together
    /// does not check in step.
    func start() {
        let first = Int64.random(in: 0...max(0, interval.nanoseconds / 2), using: &random)
        schedule(after: .nanoseconds(first))
    }

    func stop() {
        stopped = true
        next?.cancel()
        next = nil
    }

    private func schedule(after delay: TimeAmount) {
        guard !stopped else { return }
        next = eventLoop.assumeIsolated().scheduleTask(in: delay) { [self] in
            self.check()
        }
    }

    private func nextDelay() -> TimeAmount {
        let spread = interval.nanoseconds / 10
        return .nanoseconds(interval.nanoseconds + Int64.random(in: -spread...spread, using: &random))
    }

    private func check() {
        guard !stopped else { return }
        guard let address else {
            return conclude(.failure(UpstreamConnectionError.unresolved))
        }
        let promise = eventLoop.makePromise(of: Int.self)
        let request = self.request
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(HealthProbeHandler(promise: promise))
                }
            }
        let deadline = eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            promise.fail(ChannelError.connectTimeout(self.timeout))
        }
        bootstrap.connect(to: address).assumeIsolated().whenComplete { result in
            switch result {
            case .success(let channel):
                channel.writeAndFlush(request, promise: nil)
                // Whatever ends the check (answer, timeout, error) closes the connection.
                promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
            case .failure(let error):
                promise.fail(error)
            }
        }
        promise.futureResult.assumeIsolated().whenComplete { [self] result in
            deadline.cancel()
            self.conclude(result)
        }
    }

    private func conclude(_ result: Result<Int, Error>) {
        guard !stopped else { return }
        let passed: Bool
        switch result {
        case .success(let status):
            passed = config.passes(status: status)
            lastFailure = passed ? nil : "status \(status)"
        case .failure(let error):
            passed = false
            lastFailure = "\(error)"
        }
        health.recordCheck(passed: passed)
        if let nowHealthy = state.record(passed: passed) {
            health.set(up: nowHealthy)
            let metadata: Logger.Metadata = [
                "upstream": "\(health.upstream)", "endpoint": "\(health.address)",
                "reason": "\(lastFailure ?? "checks passed")",
            ]
            if nowHealthy {
                logger.notice("endpoint healthy again", metadata: metadata)
            } else {
                logger.warning("endpoint unhealthy, taken out of rotation", metadata: metadata)
            }
        }
        schedule(after: nextDelay())
    }
}
