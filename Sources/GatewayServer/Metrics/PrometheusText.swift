/// Writes the Prometheus text exposition format (version 0.0.4).
struct PrometheusText {
    private(set) var text = ""

    mutating func family(_ name: String, type: String, help: String) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
    }

    mutating func sample(_ name: String, _ labels: [(String, String)] = [], _ value: Int) {
        line(name, labels, String(value))
    }

    mutating func sample(_ name: String, _ labels: [(String, String)] = [], _ value: Double) {
        line(name, labels, Self.format(value))
    }

    mutating func histogram(_ name: String, _ labels: [(String, String)], _ histogram: DurationHistogram) {
        let cumulative = histogram.cumulativeCounts
        for (index, bound) in DurationHistogram.boundsInSeconds.enumerated() {
            line(name + "_bucket", labels + [("le", Self.format(bound))], String(cumulative[index]))
        }
        line(name + "_bucket", labels + [("le", "+Inf")], String(histogram.count))
        line(name + "_sum", labels, Self.format(Double(histogram.sumNanoseconds) / 1e9))
        line(name + "_count", labels, String(histogram.count))
    }

    private mutating func line(_ name: String, _ labels: [(String, String)], _ value: String) {
        text += name
        if !labels.isEmpty {
            text += "{"
            for (index, (label, labelValue)) in labels.enumerated() {
                if index > 0 { text += "," }
                text += label + "=\"" + Self.escape(labelValue) + "\""
            }
            text += "}"
        }
        text += " " + value + "\n"
    }

    /// Label values escape backslash, double quote and line feed; nothing else.
    static func escape(_ value: String) -> String {
        guard value.utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\"") || $0 == 10 })
        else { return value }
        var escaped = ""
        for character in value {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    static func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}
