/// The Redis keys of the fleet. One hash tag for all, so a Redis Cluster would keep them in one
/// slot (the publish script touches two of them at once).
enum FleetKeys {
    /// The purge log: a Redis Stream, one entry per fleet purge, trimmed to about `logLength`.
    static let purgeLog = "{gw}:purge:log"
    /// Incremented by every purge: an edge that reconnects compares it with the last one it
    /// applied, which tells it whether Redis lost history (a restart without persistence).
    static let purgeSequence = "{gw}:purge:seq"
    /// Set (NX) by the first node to connect: a Redis that restarted without its data gets a new
    /// one, which tells readers their place in the log is meaningless.
    static let epoch = "{gw}:purge:epoch"
    /// node id → "region<TAB>unix ms" of its last heartbeat: who is expected to acknowledge.
    static let nodes = "{gw}:nodes"
    static let logLength = 10_000

    /// Each edge pushes "node<TAB>region" here once it has applied purge `sequence`.
    static func acknowledgements(_ sequence: Int64) -> String {
        "{gw}:purge:ack:\(sequence)"
    }
}

extension FleetKeys {
    /// node id → its progress (JSON) for warm `sequence`, and `_expected`: the nodes asked.
    static func warmProgress(_ sequence: Int64) -> String {
        "{gw}:warm:\(sequence)"
    }

    static let warmProgressSeconds = 86_400
}

extension FleetKeys {
    /// node id → its cache analytics (wire JSON), refreshed with every heartbeat.
    static let stats = "{gw}:stats"
}
