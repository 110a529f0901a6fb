/// A warm call's URLs and how many to fetch at once; for the fleet, also which nodes (by id) are
/// to do it when not all in scope.
struct WarmOrder: Equatable, Sendable {
    static let maxURLs = 1000

    var urls: [String]
    var concurrency = 4
    var nodes: [String]?

    static let fields: Set<String> = ["url", "urls", "concurrency", "nodes"]

    init(_ document: JSONValue) throws {
        urls = try PurgeOrder.strings(document, single: "url", plural: "urls")
        guard !urls.isEmpty, urls.count <= Self.maxURLs else {
            throw PurgeOrder.Problem(message: "Give between 1 and \(Self.maxURLs) URLs in 'urls'.")
        }
        if let value = document["concurrency"] {
            guard case .int(let number) = value, (1...64).contains(number) else {
                throw PurgeOrder.Problem(message: "'concurrency' must be a whole number from 1 to 64.")
            }
            concurrency = number
        }
        if document["node"] != nil || document["nodes"] != nil {
            let named = try PurgeOrder.strings(document, single: "node", plural: "nodes")
            guard !named.isEmpty else { throw PurgeOrder.Problem(message: "'nodes' must name at least one node.") }
            nodes = named
        }
    }

    var json: JSONValue {
        var members: [(String, JSONValue)] = [
            ("urls", .array(urls.map(JSONValue.string))), ("concurrency", .int(concurrency)),
        ]
        if let nodes { members.append(("nodes", .array(nodes.map(JSONValue.string)))) }
        return .object(members)
    }

    func includes(node: String) -> Bool {
        nodes.map { $0.contains(node) } ?? true
    }
}
