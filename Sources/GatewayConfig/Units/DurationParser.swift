extension UnitParser {
    /// `250ms`, `5s`, `2m`, `1h`, `1d`, `100us`, or a composite with units in decreasing order
    /// (`1m30s`, `1h30m`). A bare number is rejected: `30` could mean seconds or milliseconds and
    /// guessing wrong is worse than asking.
    public static func parseDuration(_ text: String) -> Duration? {
        guard let micros = parseDurationMicroseconds(text) else { return nil }
        return .microseconds(micros)
    }

    /// Largest unit first, so the order check in composites is an index comparison.
    private static let durationUnits: [(suffix: String, micros: Int64)] = [
        ("d", 86_400_000_000),
        ("h", 3_600_000_000),
        ("m", 60_000_000),
        ("s", 1_000_000),
        ("ms", 1_000),
        ("us", 1),
    ]

    static func parseDurationMicroseconds(_ text: String) -> Int64? {
        let chars = Array(text.utf8)
        guard !chars.isEmpty else { return nil }
        var index = 0
        var total: Int64 = 0
        var lastUnit = -1
        while index < chars.count {
            guard let (number, afterNumber) = scanDigits(chars, from: index) else { return nil }
            var afterUnit = afterNumber
            while afterUnit < chars.count, isASCIILetter(chars[afterUnit]) { afterUnit += 1 }
            guard afterUnit > afterNumber else { return nil }
            let suffix = String(decoding: chars[afterNumber..<afterUnit], as: UTF8.self)
            guard let unit = durationUnits.firstIndex(where: { $0.suffix == suffix }) else { return nil }
            // `1s1m` or `1s1s` is almost certainly a typo, so refuse rather than add them up.
            guard unit > lastUnit else { return nil }
            lastUnit = unit
            let (part, overflow) = number.multipliedReportingOverflow(by: durationUnits[unit].micros)
            guard !overflow else { return nil }
            let (sum, sumOverflow) = total.addingReportingOverflow(part)
            guard !sumOverflow else { return nil }
            total = sum
            index = afterUnit
        }
        return total
    }

    /// True when `text` is digits only: the loader uses it to hint that a unit is missing.
    static func isBareNumber(_ text: String) -> Bool {
        let body = text.hasPrefix("-") ? text.dropFirst() : Substring(text)
        return !body.isEmpty && body.utf8.allSatisfy { isASCIIDigit($0) || $0 == UInt8(ascii: ".") }
    }

    /// Reads one or more decimal digits as a non-negative Int64; nil when there are none or overflow.
    static func scanDigits(_ chars: [UInt8], from start: Int) -> (Int64, Int)? {
        var index = start
        var value: Int64 = 0
        while index < chars.count, isASCIIDigit(chars[index]) {
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = times10.addingReportingOverflow(Int64(chars[index] - UInt8(ascii: "0")))
            guard !o1, !o2 else { return nil }
            value = next
            index += 1
        }
        return index > start ? (value, index) : nil
    }

    static func isASCIIDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }

    static func isASCIILetter(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
    }
}
