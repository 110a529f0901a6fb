import Foundation

/// What a fleet purge call reports: who was expected, who acknowledged and when.
struct FleetPurgeOutcome {
    let sequence: Int64
    let scope: FleetScope
    let expected: [FleetCommands.Node]
    var acknowledged: [(node: FleetCommands.Node, afterMilliseconds: Double)] = []
    let waited: Bool
    /// Waiting failed after the purge was published (Redis went away): it was sent all the same.
    var waitError: String?

    var missing: [String] {
        let seen = Set(acknowledged.map(\.node.id))
        return expected.map(\.id).filter { !seen.contains($0) }
    }

    var json: JSONValue {
        var members: [(String, JSONValue)] = [
            ("purge_id", .int(Int(sequence))), ("scope", .string(scope.description)),
            ("expected", .array(expected.map { .string($0.id) })),
        ]
        guard waited else {
            members.append(("waited", .bool(false)))
            return .object(members)
        }
        members.append(
            (
                "acknowledged",
                .array(
                    acknowledged.map { ack in
                        .object([
                            ("node", .string(ack.node.id)),
                            ("region", ack.node.region.map(JSONValue.string) ?? .null),
                            ("after_ms", .string(Self.milliseconds(ack.afterMilliseconds))),
                        ])
                    })
            ))
        members.append(("missing", .array(missing.map(JSONValue.string))))
        members.append(("complete", .bool(missing.isEmpty)))
        let last = acknowledged.map(\.afterMilliseconds).max()
        members.append(("propagation_ms", last.map { .string(Self.milliseconds($0)) } ?? .null))
        if let waitError { members.append(("wait_error", .string(waitError))) }
        return .object(members)
    }

    static func milliseconds(_ value: Double) -> String {
        String(format: "%.3f", value)
    }
}
