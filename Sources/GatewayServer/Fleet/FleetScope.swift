/// Which edges a purge is for: this node only, the nodes of one region (`node.region`), or all.
enum FleetScope: Equatable, Sendable, CustomStringConvertible {
    case local
    case region(String)
    case global

    /// `scope` of a purge call; absent means `local`, as before fleets existed.
    init(_ value: JSONValue?) throws {
        guard let value else {
            self = .local
            return
        }
        guard case .string(let text) = value else {
            throw PurgeOrder.Problem(message: "'scope' must be \"local\", \"global\" or \"region:NAME\".")
        }
        self = try FleetScope(text: text)
    }

    init(text: String) throws {
        switch text {
        case "local": self = .local
        case "global": self = .global
        default:
            guard text.hasPrefix("region:"), text.count > "region:".count else {
                throw PurgeOrder.Problem(
                    message: "'scope' must be \"local\", \"global\" or \"region:NAME\", not '\(text)'.")
            }
            self = .region(String(text.dropFirst("region:".count)))
        }
    }

    var description: String {
        switch self {
        case .local: "local"
        case .region(let name): "region:\(name)"
        case .global: "global"
        }
    }

    func includes(region: String?) -> Bool {
        switch self {
        case .local: false
        case .global: true
        case .region(let name): region == name
        }
    }
}
