import Atomics

/// What active health checks last concluded about one endpoint of one upstream, shared by every
/// event loop: the checker writes it off the request path, request paths only load a flag.
final class EndpointHealth: Sendable {
    let upstream: String
    let address: String
    private let up = ManagedAtomic(true)
    private let transitionCount = ManagedAtomic(0)
    private let checksPassed = ManagedAtomic(0)
    private let checksFailed = ManagedAtomic(0)

    init(upstream: String, address: String) {
        self.upstream = upstream
        self.address = address
    }

    var isUp: Bool { up.load(ordering: .relaxed) }
    var transitions: Int { transitionCount.load(ordering: .relaxed) }
    var passed: Int { checksPassed.load(ordering: .relaxed) }
    var failed: Int { checksFailed.load(ordering: .relaxed) }

    func recordCheck(passed: Bool) {
        (passed ? checksPassed : checksFailed).wrappingIncrement(ordering: .relaxed)
    }

    func set(up isUp: Bool) {
        if up.exchange(isUp, ordering: .relaxed) != isUp {
            transitionCount.wrappingIncrement(ordering: .relaxed)
        }
    }
}
