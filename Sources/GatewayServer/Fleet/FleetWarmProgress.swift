import Redis

/// Where a fleet warm stands, as the edges recorded it in Redis (`GET /admin/cache/warm/{id}`).
struct FleetWarmProgress {
    struct NodeProgress: Sendable {
        var node: FleetCommands.Node
        var total: Int
        var done = 0
        var stored = 0
        var failed = 0
        var finished = false

        var json: JSONValue {
            .object([
                ("node", .string(node.id)), ("region", node.region.map(JSONValue.string) ?? .null),
                ("total", .int(total)), ("done", .int(done)), ("stored", .int(stored)), ("failed", .int(failed)),
                ("state", .string(finished ? "done" : "running")),
            ])
        }

        init(node: FleetCommands.Node, total: Int) {
            self.node = node
            self.total = total
        }

        init?(_ document: JSONValue) {
            guard case .string(let id) = document["node"], case .int(let total) = document["total"] else { return nil }
            var region: String?
            if case .string(let text) = document["region"] { region = text }
            self.init(node: FleetCommands.Node(id: id, region: region), total: total)
            if case .int(let value) = document["done"] { done = value }
            if case .int(let value) = document["stored"] { stored = value }
            if case .int(let value) = document["failed"] { failed = value }
            finished = document["state"] == .string("done")
        }
    }

    let sequence: Int64
    let expected: [String]
    let nodes: [NodeProgress]

    init?(sequence: Int64, hash: RESPValue) {
        let pairs = hash.stringPairs
        guard !pairs.isEmpty else { return nil }
        var expected: [String] = []
        var nodes: [NodeProgress] = []
        for (field, value) in pairs {
            if field == "_expected" {
                expected = value.split(separator: ",").map(String.init)
            } else if let document = try? JSONParser.parse(Array(value.utf8)), let progress = NodeProgress(document) {
                nodes.append(progress)
            }
        }
        self.sequence = sequence
        self.expected = expected
        self.nodes = nodes.sorted { $0.node.id < $1.node.id }
    }

    var complete: Bool {
        let finished = Set(nodes.filter(\.finished).map(\.node.id))
        return expected.allSatisfy(finished.contains)
    }

    var json: JSONValue {
        .object([
            ("warm_id", .int(Int(sequence))), ("expected", .array(expected.map(JSONValue.string))),
            ("nodes", .array(nodes.map(\.json))), ("complete", .bool(complete)),
            ("stored", .int(nodes.reduce(0) { $0 + $1.stored })), ("failed", .int(nodes.reduce(0) { $0 + $1.failed })),
        ])
    }
}
