/// RFC 9111 1.2.2 delta-seconds: digits only; values past 2^31 are taken as 2^31 rather than
/// rejected, as the RFC asks. nil for anything else (empty, signs, fractions, spaces).
func parseDeltaSeconds(_ text: String?) -> Int? {
    guard let text, !text.isEmpty else { return nil }
    var value = 0
    for byte in text.utf8 {
        guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
        value = min(value * 10 + Int(byte - UInt8(ascii: "0")), 1 << 31)
    }
    return value
}
