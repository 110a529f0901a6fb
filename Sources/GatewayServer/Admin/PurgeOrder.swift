/// What a purge call names, as the caller wrote it: URLs, prefixes and tags stay text, because
/// every node turns them into its own cache keys with its own routes' key rules. It travels to
/// the other edges in this form (as JSON) when the purge is for more than this node.
struct PurgeOrder: Equatable, Sendable {
    var urls: [String] = []
    var prefixes: [String] = []
    var tags: [String] = []
    var all = false
    var soft = false

    struct Problem: Error {
        let message: String
    }

    static let fields: Set<String> = ["url", "urls", "prefix", "prefixes", "tag", "tags", "all", "soft"]

    /// From the admin call's body (or a fleet message); the other members of `document` are the
    /// caller's business.
    init(_ document: JSONValue) throws {
        if let value = document["soft"] {
            guard case .bool(let flag) = value else { throw Problem(message: "'soft' must be true or false.") }
            soft = flag
        }
        urls = try Self.strings(document, single: "url", plural: "urls")
        prefixes = try Self.strings(document, single: "prefix", plural: "prefixes")
        tags = try Self.strings(document, single: "tag", plural: "tags")
        if let value = document["all"] {
            guard case .bool(true) = value else { throw Problem(message: "'all' must be true.") }
            all = true
        }
        guard !urls.isEmpty || !prefixes.isEmpty || !tags.isEmpty || all else {
            throw Problem(message: "Name what to purge: url(s), prefix(es), tag(s) or \"all\": true.")
        }
    }

    init(all: Bool, soft: Bool) {
        self.all = all
        self.soft = soft
    }

    var json: JSONValue {
        var members: [(String, JSONValue)] = []
        if !urls.isEmpty { members.append(("urls", .array(urls.map(JSONValue.string)))) }
        if !prefixes.isEmpty { members.append(("prefixes", .array(prefixes.map(JSONValue.string)))) }
        if !tags.isEmpty { members.append(("tags", .array(tags.map(JSONValue.string)))) }
        if all { members.append(("all", .bool(true))) }
        members.append(("soft", .bool(soft)))
        return .object(members)
    }

    /// `single` and/or `plural` of a JSON object as a list of non-empty strings.
    static func strings(_ document: JSONValue, single: String, plural: String) throws -> [String] {
        var result: [String] = []
        if let value = document[single] {
            guard case .string(let text) = value, !text.isEmpty else {
                throw Problem(message: "'\(single)' must be a non-empty string.")
            }
            result.append(text)
        }
        if let value = document[plural] {
            guard case .array(let items) = value else {
                throw Problem(message: "'\(plural)' must be a list of strings.")
            }
            for item in items {
                guard case .string(let text) = item, !text.isEmpty else {
                    throw Problem(message: "'\(plural)' must be a list of non-empty strings.")
                }
                result.append(text)
            }
        }
        return result
    }
}
