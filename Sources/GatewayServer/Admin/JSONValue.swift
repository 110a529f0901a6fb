/// A JSON document for the admin API. Built by hand and serialized without Foundation; the admin
/// plane is not hot, but keeping Foundation out of the binary's server module is simpler than
/// keeping it off the hot path.
enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int)
    /// Finite numbers only (JSON has no NaN or infinity); ratios and the like.
    case double(Double)
    case string(String)
    case array([JSONValue])
    /// Keys keep the order they were given in (a config reads best in config order).
    case object([(String, JSONValue)])

    static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.int(let a), .int(let b)): return a == b
        case (.double(let a), .double(let b)): return a == b
        case (.string(let a), .string(let b)): return a == b
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.0 == key }?.1
    }

    /// Two-space indented, one member per line, and a final line feed: meant for `curl` and people.
    var rendered: String {
        var out = ""
        write(into: &out, indent: "")
        return out + "\n"
    }

    private func write(into out: inout String, indent: String) {
        switch self {
        case .null: out += "null"
        case .bool(let value): out += value ? "true" : "false"
        case .int(let value): out += String(value)
        case .double(let value): out += value.isFinite ? String(value) : "null"
        case .string(let value): out += Self.quoted(value)
        case .array(let items):
            guard !items.isEmpty else {
                out += "[]"
                return
            }
            out += "[\n"
            for (index, item) in items.enumerated() {
                out += indent + "  "
                item.write(into: &out, indent: indent + "  ")
                out += index < items.count - 1 ? ",\n" : "\n"
            }
            out += indent + "]"
        case .object(let members):
            guard !members.isEmpty else {
                out += "{}"
                return
            }
            out += "{\n"
            for (index, (key, value)) in members.enumerated() {
                out += indent + "  " + Self.quoted(key) + ": "
                value.write(into: &out, indent: indent + "  ")
                out += index < members.count - 1 ? ",\n" : "\n"
            }
            out += indent + "}"
        }
    }

    static func quoted(_ string: String) -> String {
        var writer = JSONLineWriter()
        writer.string(string)
        return String(decoding: writer.bytes, as: UTF8.self)
    }
}
