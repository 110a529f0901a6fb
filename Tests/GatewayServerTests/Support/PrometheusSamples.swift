import XCTest

/// Parses the Prometheus text format strictly enough to catch malformed output: every sample line
/// must be `name{label="value",...} number`, and every family has one TYPE line before its samples.
struct PrometheusSamples {
    /// `name{a="1",b="2"}` (labels in the order written) → value.
    private(set) var values: [String: Double] = [:]
    private(set) var types: [String: String] = [:]

    init(_ text: String, file: StaticString = #filePath, line: UInt = #line) {
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let text = String(rawLine)
            if text.isEmpty { continue }
            if text.hasPrefix("# TYPE ") {
                let parts = text.split(separator: " ")
                XCTAssertEqual(parts.count, 4, "bad TYPE line: \(text)", file: file, line: line)
                if parts.count == 4 {
                    XCTAssertNil(types[String(parts[2])], "TYPE twice for \(parts[2])", file: file, line: line)
                    types[String(parts[2])] = String(parts[3])
                }
                continue
            }
            if text.hasPrefix("#") { continue }
            guard let space = text.lastIndex(of: " "), let value = Double(text[text.index(after: space)...]) else {
                XCTFail("bad sample line: \(text)", file: file, line: line)
                continue
            }
            let series = String(text[..<space])
            let name = String(series.prefix { $0 != "{" })
            XCTAssertTrue(
                name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" }, "bad name in \(text)",
                file: file, line: line)
            let family = ["_bucket", "_sum", "_count"].reduce(name) { current, suffix in
                types[current] == nil && current.hasSuffix(suffix) ? String(current.dropLast(suffix.count)) : current
            }
            XCTAssertNotNil(types[family], "sample before its TYPE: \(text)", file: file, line: line)
            XCTAssertNil(values[series], "sample twice: \(series)", file: file, line: line)
            values[series] = value
        }
    }

    subscript(_ series: String) -> Double? { values[series] }

    /// The sum over every series of `name` whose labels include all of `labels`.
    func sum(_ name: String, where labels: [String: String] = [:]) -> Double {
        values.filter { series, _ in
            guard series == name || series.hasPrefix(name + "{") else { return false }
            return labels.allSatisfy { series.contains("\($0.key)=\"\($0.value)\"") }
        }.values.reduce(0, +)
    }
}
