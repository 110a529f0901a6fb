extension UnitParser {
    /// Bytes: a bare integer, or a number with `B`, `KiB`, `MiB`, `GiB` (1024-based) or `KB`, `MB`,
    /// `GB` (1000-based, as disks and network links count). Units are case-sensitive because `Mb`
    /// (megabit) and `MB` differ by a factor of 8. Values that overflow `Int` are rejected.
    public static func parseSize(_ text: String) -> Int? {
        if case .success(let bytes) = parseSizeDetailed(text) { return bytes }
        return nil
    }

    enum SizeProblem: Error {
        case malformed
        /// Well-formed, but more bytes than `Int` holds; worth its own message.
        case tooLarge
    }

    static func parseSizeDetailed(_ text: String) -> Result<Int, SizeProblem> {
        let chars = Array(text.utf8)
        var end = 0
        while end < chars.count, isASCIIDigit(chars[end]) { end += 1 }
        guard end > 0, let multiplier = sizeUnits[String(decoding: chars[end...], as: UTF8.self)] else {
            return .failure(.malformed)
        }
        guard let (number, _) = scanDigits(chars, from: 0) else { return .failure(.tooLarge) }
        let (bytes, overflow) = number.multipliedReportingOverflow(by: multiplier)
        guard !overflow, let result = Int(exactly: bytes) else { return .failure(.tooLarge) }
        return .success(result)
    }

    private static let sizeUnits: [String: Int64] = [
        "": 1,
        "B": 1,
        "KiB": 1 << 10,
        "MiB": 1 << 20,
        "GiB": 1 << 30,
        "KB": 1_000,
        "MB": 1_000_000,
        "GB": 1_000_000_000,
    ]
}
