#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The current UTC time as RFC 3339 text with milliseconds. The date and second part is made once
/// per second (a `gmtime_r` and formatting); each line only adds its milliseconds.
struct WallClockText {
    private var cachedSecond = -1
    private var secondText: [UInt8] = []

    mutating func writeQuoted(into bytes: inout [UInt8]) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let second = Int(now.tv_sec)
        if second != cachedSecond {
            cachedSecond = second
            secondText = Self.format(second: now.tv_sec)
        }
        let millis = Int(now.tv_nsec / 1_000_000)
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: secondText)
        bytes.append(UInt8(ascii: "."))
        bytes.append(UInt8(ascii: "0") + UInt8(millis / 100))
        bytes.append(UInt8(ascii: "0") + UInt8(millis / 10 % 10))
        bytes.append(UInt8(ascii: "0") + UInt8(millis % 10))
        bytes.append(UInt8(ascii: "Z"))
        bytes.append(UInt8(ascii: "\""))
    }

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ` for a time given in Unix milliseconds (admin documents).
    static func iso8601(milliseconds: Int64) -> String {
        let millis = Int(((milliseconds % 1000) + 1000) % 1000)
        let second = time_t((milliseconds - Int64(millis)) / 1000)
        let fraction = String(millis + 1000).dropFirst()
        return String(decoding: format(second: second), as: UTF8.self) + "." + fraction + "Z"
    }

    /// `YYYY-MM-DDTHH:MM:SS`.
    static func format(second: time_t) -> [UInt8] {
        var seconds = second
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var text: [UInt8] = []
        func append(_ value: Int32, width: Int) {
            var digits: [UInt8] = []
            var rest = Int(value)
            for _ in 0..<width {
                digits.append(UInt8(ascii: "0") + UInt8(rest % 10))
                rest /= 10
            }
            text.append(contentsOf: digits.reversed())
        }
        append(parts.tm_year + 1900, width: 4)
        text.append(UInt8(ascii: "-"))
        append(parts.tm_mon + 1, width: 2)
        text.append(UInt8(ascii: "-"))
        append(parts.tm_mday, width: 2)
        text.append(UInt8(ascii: "T"))
        append(parts.tm_hour, width: 2)
        text.append(UInt8(ascii: ":"))
        append(parts.tm_min, width: 2)
        text.append(UInt8(ascii: ":"))
        append(parts.tm_sec, width: 2)
        return text
    }
}
