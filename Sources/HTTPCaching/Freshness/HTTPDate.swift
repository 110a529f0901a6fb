/// HTTP dates (RFC 9110 5.6.7) as seconds since the Unix epoch, without Foundation: IMF-fixdate
/// is what senders must use, the two obsolete forms are what recipients must still accept.
public enum HTTPDate {
    /// nil for anything that is not one of the three forms, or names an impossible date.
    public static func parse(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        return parseIMFFixdate(bytes) ?? parseRFC850(bytes) ?? parseAsctime(bytes)
    }

    /// `Sun, 06 Nov 1994 08:49:37 GMT`
    public static func format(_ secondsSinceEpoch: Int64) -> String {
        let days = floorDivide(secondsSinceEpoch, 86_400)
        let secondOfDay = Int(secondsSinceEpoch - days * 86_400)
        let (year, month, day) = civilDate(fromDays: days)
        // 1970-01-01 was a Thursday.
        let weekday = Int((days % 7 + 7 + 4) % 7)
        var result = weekdayNames[weekday] + ", "
        result += twoDigits(day) + " " + monthNames[month - 1] + " " + fourDigits(year) + " "
        result += twoDigits(secondOfDay / 3600) + ":" + twoDigits(secondOfDay / 60 % 60) + ":"
        result += twoDigits(secondOfDay % 60) + " GMT"
        return result
    }

    private static let weekdayNames = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let longWeekdayNames = [
        "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
    ]
    private static let monthNames = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]

    private static func parseIMFFixdate(_ b: [UInt8]) -> Int64? {
        // "Sun, 06 Nov 1994 08:49:37 GMT" is exactly 29 bytes.
        guard b.count == 29, weekday(b[0..<3]) != nil, b[3] == comma, b[4] == space, b[7] == space,
            b[11] == space, b[16] == space, b[25] == space, matches(b[26..<29], "GMT"),
            let day = number(b[5..<7]), let month = month(b[8..<11]), let year = number(b[12..<16]),
            let time = timeOfDay(b[17..<25])
        else { return nil }
        return seconds(year: year, month: month, day: day, time: time)
    }

    private static func parseRFC850(_ b: [UInt8]) -> Int64? {
        // "Sunday, 06-Nov-94 08:49:37 GMT"
        guard let comma = b.firstIndex(of: comma), longWeekday(b[0..<comma]) != nil, b.count == comma + 24
        else { return nil }
        let rest = Array(b[(comma + 1)...])
        guard rest[0] == space, rest[3] == dash, rest[7] == dash, rest[10] == space, rest[19] == space,
            matches(rest[20..<23], "GMT"), let day = number(rest[1..<3]), let month = month(rest[4..<7]),
            let twoDigitYear = number(rest[8..<10]), let time = timeOfDay(rest[11..<19])
        else { return nil }
        // RFC 9110 5.6.7: a two-digit year more than 50 years in the future is in the past century.
        // Years 70–99 are 19xx and 00–69 are 20xx, which satisfies that until 2069.
        let year = twoDigitYear >= 70 ? 1900 + twoDigitYear : 2000 + twoDigitYear
        return seconds(year: year, month: month, day: day, time: time)
    }

    private static func parseAsctime(_ b: [UInt8]) -> Int64? {
        // "Sun Nov  6 08:49:37 1994"
        guard b.count == 24, weekday(b[0..<3]) != nil, b[3] == space, b[7] == space, b[10] == space,
            b[19] == space, let month = month(b[4..<7]), let time = timeOfDay(b[11..<19]),
            let year = number(b[20..<24])
        else { return nil }
        let day: Int?
        if b[8] == space { day = number(b[9..<10]) } else { day = number(b[8..<10]) }
        guard let day else { return nil }
        return seconds(year: year, month: month, day: day, time: time)
    }

    private static let comma = UInt8(ascii: ",")
    private static let space = UInt8(ascii: " ")
    private static let dash = UInt8(ascii: "-")
    private static let colon = UInt8(ascii: ":")

    private static func matches(_ bytes: ArraySlice<UInt8>, _ text: String) -> Bool {
        bytes.elementsEqual(text.utf8)
    }

    private static func weekday(_ bytes: ArraySlice<UInt8>) -> Int? {
        weekdayNames.firstIndex { matches(bytes, $0) }
    }

    private static func longWeekday(_ bytes: ArraySlice<UInt8>) -> Int? {
        longWeekdayNames.firstIndex { matches(bytes, $0) }
    }

    private static func month(_ bytes: ArraySlice<UInt8>) -> Int? {
        monthNames.firstIndex { matches(bytes, $0) }.map { $0 + 1 }
    }

    private static func number(_ bytes: ArraySlice<UInt8>) -> Int? {
        var value = 0
        for byte in bytes {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    /// `HH:MM:SS` as seconds into the day; a leap second (60) is accepted and rolls over.
    private static func timeOfDay(_ b: ArraySlice<UInt8>) -> Int? {
        let start = b.startIndex
        guard b.count == 8, b[start + 2] == colon, b[start + 5] == colon,
            let hour = number(b[start..<start + 2]), let minute = number(b[start + 3..<start + 5]),
            let second = number(b[start + 6..<start + 8]), hour < 24, minute < 60, second <= 60
        else { return nil }
        return hour * 3600 + minute * 60 + second
    }

    private static func seconds(year: Int, month: Int, day: Int, time: Int) -> Int64? {
        guard year >= 1, day >= 1, day <= daysInMonth(year: year, month: month) else { return nil }
        return daysFromCivil(year: year, month: month, day: day) * 86_400 + Int64(time)
    }

    private static func isLeapYear(_ year: Int) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    private static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 (Howard Hinnant's days_from_civil).
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = floorDivide(y, 400)
        let yearOfEra = y - era * 400
        let m = Int64(month)
        let dayOfYear = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private static func civilDate(fromDays days: Int64) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = floorDivide(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (Int(year), Int(month), Int(day))
    }

    private static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
        a >= 0 ? a / b : (a - b + 1) / b
    }

    private static func twoDigits(_ value: Int) -> String {
        value < 10 ? "0" + String(value) : String(value)
    }

    /// IMF-fixdate's year is exactly four digits: a parsed year before 1000 (`0997`) must be
    /// written back that way, or the date would not parse again. Found by fuzz/run.sh.
    private static func fourDigits(_ value: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
