import Yams

/// Composes YAML text into a `Node` tree (which keeps line marks) and turns YAML-level failures
/// into diagnostics.
///
/// Yams refuses a mapping with duplicate keys by throwing, which would hide every other problem
/// in the file. So on that error the composer finds the second occurrence in the text, reports
/// it, renames it to a placeholder the walker skips, and composes again. Line structure is kept,
/// so every mark still points at the user's line.
struct YAMLComposer {
    struct Composed {
        var root: Node?
        /// Placeholder keys standing for reported duplicates; the walker ignores them.
        var ignoredKeys: Set<String>
    }

    struct Problem {
        var line: Int?
        var message: String
    }

    private(set) var problems: [Problem] = []

    /// Nil when the text cannot be composed at all; `problems` then says why.
    mutating func compose(_ yaml: String) -> Composed? {
        var lines = yaml.split(separator: "\n", omittingEmptySubsequences: false).map { Array($0.unicodeScalars) }
        var text = yaml
        var ignored: Set<String> = []
        // Bounded so a pathological file cannot loop; each round removes one duplicate.
        for round in 0..<500 {
            do {
                return Composed(root: try Yams.compose(yaml: text), ignoredKeys: ignored)
            } catch YamlError.duplicatedKeysInMapping(let duplicates, let context) {
                let key = duplicates.first ?? "?"
                let first = context.mark
                guard let found = Self.findRepeat(of: key, after: first, in: lines) else {
                    problems.append(Problem(line: first.line, message: "duplicate key '\(key)'"))
                    return nil
                }
                problems.append(
                    Problem(line: found.line + 1, message: "duplicate key '\(key)' (first at line \(first.line))"))
                let placeholder = "__duplicate_key_\(round)__"
                ignored.insert(placeholder)
                lines[found.line].replaceSubrange(found.columns, with: placeholder.unicodeScalars)
                text = lines.map { String(String.UnicodeScalarView($0)) }.joined(separator: "\n")
            } catch let error as YamlError {
                problems.append(Self.problem(from: error, in: text))
                return nil
            } catch {
                problems.append(Problem(line: nil, message: "invalid YAML: \(error)"))
                return nil
            }
        }
        problems.append(Problem(line: nil, message: "too many duplicate keys"))
        return nil
    }

    private static func problem(from error: YamlError, in text: String) -> Problem {
        func withContext(_ problem: String, _ context: YamlError.Context?) -> String {
            guard let context else { return "invalid YAML: \(problem)" }
            return "invalid YAML: \(problem) (\(context.text) at line \(context.mark.line))"
        }
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            return Problem(line: mark.line, message: withContext(problem, context))
        case .reader(let problem, let offset, _, _):
            let line = offset.map { text.prefix($0).reduce(1) { $1 == "\n" ? $0 + 1 : $0 } }
            return Problem(line: line, message: "invalid YAML: \(problem)")
        default:
            return Problem(line: nil, message: "invalid YAML: \(error)")
        }
    }

    /// Where the same key appears again in the mapping whose key starts at `first`: the next key at
    /// the same indentation for block mappings, the next `, key:` at the same nesting for flow
    /// mappings. Indices are 0-based (line, unicode-scalar columns).
    static func findRepeat(
        of key: String, after first: Mark, in lines: [[Unicode.Scalar]]
    ) -> (line: Int, columns: Range<Int>)? {
        let lineIndex = first.line - 1
        let column = first.column - 1
        guard lines.indices.contains(lineIndex), column <= lines[lineIndex].count else { return nil }
        let before = lines[lineIndex][..<column].filter { $0 != " " && $0 != "\t" }
        if before.last == "{" || before.last == "," {
            return findFlowRepeat(of: key, line: lineIndex, column: column, in: lines)
        }
        for index in (lineIndex + 1)..<max(lineIndex + 1, lines.count) {
            let line = lines[index]
            let indent = line.prefix { $0 == " " }.count
            if indent == line.count || line[indent] == "#" { continue }
            if indent < column { return nil }
            if indent == column, let end = keyEnd(key, in: line, at: column) { return (index, column..<end) }
        }
        return nil
    }

    private static func findFlowRepeat(
        of key: String, line startLine: Int, column startColumn: Int, in lines: [[Unicode.Scalar]]
    ) -> (line: Int, columns: Range<Int>)? {
        var depth = 0
        var afterSeparator = false
        var column = startColumn + 1
        for index in startLine..<lines.count {
            let line = lines[index]
            while column < line.count {
                let c = line[column]
                switch c {
                case "{", "[":
                    depth += 1
                    afterSeparator = false
                case "}", "]":
                    depth -= 1
                    if depth < 0 { return nil }
                    afterSeparator = false
                case ",":
                    afterSeparator = depth == 0
                case " ", "\t":
                    break
                default:
                    if afterSeparator, let end = keyEnd(key, in: line, at: column) { return (index, column..<end) }
                    afterSeparator = false
                }
                column += 1
            }
            column = 0
        }
        return nil
    }

    /// End column of `key` written plain or quoted at `column` and followed by `:`, else nil.
    private static func keyEnd(_ key: String, in line: [Unicode.Scalar], at column: Int) -> Int? {
        for spelling in [key, "\"\(key)\"", "'\(key)'"] {
            let scalars = Array(spelling.unicodeScalars)
            let end = column + scalars.count
            guard end <= line.count, Array(line[column..<end]) == scalars else { continue }
            var next = end
            while next < line.count, line[next] == " " { next += 1 }
            if next < line.count, line[next] == ":" { return end }
        }
        return nil
    }
}
