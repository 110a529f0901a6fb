/// The health of one endpoint from active checks: `unhealthyThreshold` failed checks in a row mark
/// it down, `healthyThreshold` passed checks in a row mark it up again (nginx's `fails`/`passes`,
/// Envoy's unhealthy/healthy thresholds). Endpoints start healthy, as with nginx, so a gateway
/// that starts does not refuse traffic until the first round of checks.
public struct HealthState: Sendable, Equatable {
    public let healthyThreshold: Int
    public let unhealthyThreshold: Int
    public private(set) var isHealthy = true
    private var run = 0

    public init(healthyThreshold: Int, unhealthyThreshold: Int) {
        self.healthyThreshold = max(1, healthyThreshold)
        self.unhealthyThreshold = max(1, unhealthyThreshold)
    }

    /// Returns the new health when this check changed it.
    @discardableResult
    public mutating func record(passed: Bool) -> Bool? {
        // `run` counts checks in a row that disagree with the current health.
        if passed == isHealthy {
            run = 0
            return nil
        }
        run += 1
        guard run >= (isHealthy ? unhealthyThreshold : healthyThreshold) else { return nil }
        isHealthy.toggle()
        run = 0
        return isHealthy
    }
}
