import Yams

/// Where in the file a node starts. Diagnostics print only the line; the column orders several
/// problems found on one line (flow mappings) left to right.
struct Position: Comparable, CustomStringConvertible {
    var line: Int
    var column: Int

    static func < (lhs: Position, rhs: Position) -> Bool {
        (lhs.line, lhs.column) < (rhs.line, rhs.column)
    }

    /// Just the line, which is how messages cite other places ("first at line 4").
    var description: String { "\(line)" }
}

extension Node {
    var position: Position? { mark.map { Position(line: $0.line, column: $0.column) } }
}

/// One `key: value` pair of a checked mapping, with the positions diagnostics point at.
struct Entry {
    let key: String
    let keyLine: Position
    let value: Node

    /// The value's own position, which differs from the key's for block values.
    var line: Position { value.position ?? keyLine }
}

/// A mapping whose keys were checked against its section's known keys.
struct Section {
    /// Line of the mapping itself, for "missing required key" problems.
    let line: Position
    /// How messages name this mapping: "in upstream 'users'".
    let context: String
    private let entries: [String: Entry]

    init(line: Position, context: String, entries: [String: Entry]) {
        self.line = line
        self.context = context
        self.entries = entries
    }

    subscript(key: String) -> Entry? { entries[key] }
}

/// Walks the composed YAML tree and records every problem instead of stopping at the first, so the
/// result is either a full model or the full list of problems. Section readers live in
/// extensions, one file per top-level section.
struct ConfigReader {
    let file: String
    let defaultNodeID: String
    /// Keys the composer renamed after reporting them as duplicates.
    let ignoredKeys: Set<String>
    private var found: [(diagnostic: ConfigDiagnostic, position: Position)] = []

    /// In file order: by line, then column, then the order they were found in.
    var diagnostics: [ConfigDiagnostic] {
        found.enumerated()
            .sorted { ($0.element.position, $0.offset) < ($1.element.position, $1.offset) }
            .map(\.element.diagnostic)
    }

    var hasProblems: Bool { !found.isEmpty }

    init(file: String, defaultNodeID: String, ignoredKeys: Set<String>) {
        self.file = file
        self.defaultNodeID = defaultNodeID
        self.ignoredKeys = ignoredKeys
    }

    mutating func error(_ position: Position?, _ message: String) {
        let diagnostic = ConfigDiagnostic(file: file, line: position?.line, message: message)
        found.append((diagnostic, position ?? Position(line: 0, column: 0)))
    }

    // MARK: Mappings

    /// Checks that `node` is a mapping and that its keys are known. Unknown and not-yet-supported
    /// keys are reported here and left out of the result.
    mutating func section(_ node: Node, _ kind: SectionKind, context: String, keys: [String], what: String) -> Section?
    {
        guard case .mapping(let mapping) = node else {
            error(node.position, "expected a mapping for \(what), got \(Self.describe(node))")
            return nil
        }
        let unsupported = UnsupportedFeatures.keys[kind] ?? []
        var entries: [String: Entry] = [:]
        for (keyNode, value) in mapping {
            let keyLine = keyNode.position ?? node.position ?? Position(line: 0, column: 0)
            guard case .scalar(let scalar) = keyNode else {
                error(keyLine, "expected a plain key \(context), got \(Self.describe(keyNode))")
                continue
            }
            let key = scalar.string
            if ignoredKeys.contains(key) { continue }
            if keys.contains(key) {
                entries[key] = Entry(key: key, keyLine: keyLine, value: value)
            } else if unsupported.contains(key) {
                error(keyLine, UnsupportedFeatures.message(key))
            } else {
                error(keyLine, "unknown key '\(key)' \(context)" + Suggestion.hint(for: key, in: keys + unsupported))
            }
        }
        return Section(line: node.position ?? Position(line: 0, column: 0), context: context, entries: entries)
    }

    mutating func section(_ entry: Entry, _ kind: SectionKind, context: String, keys: [String]) -> Section? {
        section(entry.value, kind, context: context, keys: keys, what: "'\(entry.key)'")
    }

    /// Reports each of `keys` absent from `section`.
    mutating func require(_ keys: [String], in section: Section) {
        for key in keys where section[key] == nil {
            error(section.line, "missing required key '\(key)' \(section.context)")
        }
    }

    // MARK: Scalars

    /// A human description of a node for "got ..." in messages.
    static func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar):
            return isNull(scalar) ? "nothing" : "'\(scalar.string)'"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    static func isNull(_ scalar: Node.Scalar) -> Bool {
        scalar.style != .singleQuoted && scalar.style != .doubleQuoted
            && ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    /// The text of a non-null scalar; numbers and booleans are accepted as their text.
    mutating func scalarText(_ node: Node, expected: String) -> String? {
        if case .scalar(let scalar) = node, !Self.isNull(scalar) { return scalar.string }
        error(node.position, "expected \(expected), got \(Self.describe(node))")
        return nil
    }

    mutating func string(_ entry: Entry) -> String? {
        scalarText(entry.value, expected: "a string")
    }

    /// A string that must not be empty, such as a name.
    mutating func name(_ entry: Entry) -> String? {
        guard let text = string(entry) else { return nil }
        guard !text.isEmpty else {
            error(entry.line, "'\(entry.key)' must not be empty")
            return nil
        }
        return text
    }

    mutating func int(_ entry: Entry, in range: ClosedRange<Int>) -> Int? {
        guard let text = scalarText(entry.value, expected: "an integer") else { return nil }
        guard let value = Int(text) else {
            error(entry.line, "expected an integer, got '\(text)'")
            return nil
        }
        guard range.contains(value) else {
            if range.upperBound == Int.max {
                error(entry.line, "'\(entry.key)' must be at least \(range.lowerBound), got \(value)")
            } else {
                error(
                    entry.line,
                    "'\(entry.key)' must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
            }
            return nil
        }
        return value
    }

    /// `true` or `false` (YAML's other spellings such as `yes` are refused: they surprise people).
    mutating func bool(_ entry: Entry) -> Bool? {
        guard let text = scalarText(entry.value, expected: "true or false") else { return nil }
        switch text {
        case "true": return true
        case "false": return false
        default:
            error(entry.line, "expected true or false, got '\(text)'")
            return nil
        }
    }

    /// A duration; `positive` refuses zero, for timeouts where zero would fail every request.
    mutating func duration(_ entry: Entry, positive: Bool = true) -> Duration? {
        let expected = "a duration like 250ms or 5s"
        guard let text = scalarText(entry.value, expected: expected) else { return nil }
        guard let value = UnitParser.parseDuration(text) else {
            let hint = UnitParser.isBareNumber(text) ? " (needs a unit: ms, s, m, h, d)" : ""
            error(entry.line, "expected \(expected), got '\(text)'\(hint)")
            return nil
        }
        if positive, value == .zero {
            error(entry.line, "'\(entry.key)' must be greater than 0")
            return nil
        }
        return value
    }

    mutating func size(_ entry: Entry) -> Int? {
        let expected = "a size like 64KiB or 10MiB"
        guard let text = scalarText(entry.value, expected: expected) else { return nil }
        switch UnitParser.parseSizeDetailed(text) {
        case .success(let value):
            return value
        case .failure(.tooLarge):
            error(entry.line, "size '\(text)' is too large")
        case .failure(.malformed):
            error(entry.line, "expected \(expected), got '\(text)'")
        }
        return nil
    }

    mutating func hostPort(_ entry: Entry, ports: ClosedRange<Int>) -> HostPort? {
        let expected = "host:port like 127.0.0.1:8080 or [::1]:8080"
        guard let text = scalarText(entry.value, expected: expected) else { return nil }
        guard let value = UnitParser.parseHostPort(text) else {
            if let port = Self.outOfRangePort(text) {
                error(entry.line, "port must be between \(ports.lowerBound) and \(ports.upperBound), got \(port)")
            } else {
                error(entry.line, "expected \(expected), got '\(text)'")
            }
            return nil
        }
        guard ports.contains(value.port) else {
            error(entry.line, "port must be between \(ports.lowerBound) and \(ports.upperBound), got \(value.port)")
            return nil
        }
        return value
    }

    /// The port text of an address that is well-formed except for a port past 65535, so that
    /// case gets the range message rather than the shape one.
    private static func outOfRangePort(_ text: String) -> Substring? {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        let port = text[text.index(after: colon)...]
        guard !port.isEmpty, port.utf8.allSatisfy(UnitParser.isASCIIDigit),
            UnitParser.parseHostPort(text[..<colon] + ":1") != nil
        else { return nil }
        return port
    }

    /// One of a fixed set of words; values of a not-yet-supported feature get that message.
    mutating func choice(_ node: Node, _ options: [String], unsupported kind: ValueKind? = nil) -> String? {
        let expected = "one of " + options.joined(separator: ", ")
        guard let text = scalarText(node, expected: expected) else { return nil }
        if let kind, UnsupportedFeatures.values[kind, default: []].contains(text) {
            error(node.position, UnsupportedFeatures.message(text))
            return nil
        }
        guard options.contains(text) else {
            error(node.position, "expected \(expected), got '\(text)'" + Suggestion.hint(for: text, in: options))
            return nil
        }
        return text
    }

    /// The items of a list; `nonEmpty` reports an empty one.
    mutating func list(_ entry: Entry, nonEmpty: Bool = false) -> [Node]? {
        guard case .sequence(let sequence) = entry.value else {
            error(entry.line, "expected a list for '\(entry.key)', got \(Self.describe(entry.value))")
            return nil
        }
        if nonEmpty, sequence.isEmpty {
            error(entry.line, "'\(entry.key)' must not be empty")
            return nil
        }
        return Array(sequence)
    }
}
