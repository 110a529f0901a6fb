extension UnitParser {
    /// `COUNT/UNIT` with UNIT one of `s`, `m` or `min` (minute), `h`, `d`; COUNT ≥ 1.
    /// `m` means minute here (not milli), since a per-millisecond rate is never what people mean.
    public static func parseRate(_ text: String) -> Rate? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        let digits = Array(parts[0].utf8)
        guard let (count, end) = scanDigits(digits, from: 0), end == digits.count, count >= 1,
            let countInt = Int(exactly: count)
        else { return nil }
        guard let period = ratePeriods[String(parts[1])] else { return nil }
        return Rate(count: countInt, period: period)
    }

    private static let ratePeriods: [String: Duration] = [
        "s": .seconds(1),
        "m": .seconds(60),
        "min": .seconds(60),
        "h": .seconds(3_600),
        "d": .seconds(86_400),
    ]
}
