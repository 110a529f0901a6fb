/// One problem found in a config file, in the `FILE:LINE: message` form compilers and `nginx -t`
/// use, so editors and CI annotate the right line.
public struct ConfigDiagnostic: Sendable, Equatable, CustomStringConvertible {
    public let file: String
    /// 1-based; nil when the problem is with the file as a whole (unreadable, empty).
    public let line: Int?
    public let message: String

    public init(file: String, line: Int?, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String {
        if let line { return "\(file):\(line): \(message)" }
        return "\(file): \(message)"
    }
}

/// Every problem of one load, so a single `gateway validate` run shows them all.
public struct ConfigErrors: Error, Sendable, CustomStringConvertible {
    /// Sorted by line; whole-file problems first, then in file order.
    public let diagnostics: [ConfigDiagnostic]

    public init(diagnostics: [ConfigDiagnostic]) {
        // Stable, so problems on one line keep the order the walk found them in.
        self.diagnostics = diagnostics.enumerated()
            .sorted { lhs, rhs in
                let l = lhs.element.line ?? 0
                let r = rhs.element.line ?? 0
                return l != r ? l < r : lhs.offset < rhs.offset
            }
            .map(\.element)
    }

    public var description: String {
        diagnostics.map(\.description).joined(separator: "\n")
    }
}
