/// A request's id: 128 random bits as 32 lowercase hex digits, or the client's own id passed on.
/// The digits are made once, without a string, and copied as 32 bytes wherever the id is written.
struct RequestID: CustomStringConvertible {
    /// The 32 ASCII digits, in memory order.
    private var digits: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    private var passedOn: String?

    static let none = RequestID()

    private init() {}

    init(random high: UInt64, _ low: UInt64) {
        digits = (
            Self.hexDigits(UInt32(truncatingIfNeeded: high >> 32)), Self.hexDigits(UInt32(truncatingIfNeeded: high)),
            Self.hexDigits(UInt32(truncatingIfNeeded: low >> 32)), Self.hexDigits(UInt32(truncatingIfNeeded: low))
        )
    }

    init(passedOn: String) {
        self.passedOn = passedOn
    }

    func append(to writer: inout HeadBytesWriter) {
        if let passedOn {
            writer.append(passedOn)
            return
        }
        withUnsafeBytes(of: digits) { writer.append($0) }
    }

    func append(to bytes: inout [UInt8]) {
        if let passedOn {
            bytes.append(contentsOf: passedOn.utf8)
            return
        }
        withUnsafeBytes(of: digits) { bytes.append(contentsOf: $0) }
    }

    var description: String {
        if let passedOn { return passedOn }
        return withUnsafeBytes(of: digits) { String(decoding: $0, as: UTF8.self) }
    }

    /// The 8 hex digits of `value` as 8 ASCII bytes, most significant first in memory: the nibbles
    /// are spread one per byte, then turned into '0'-'9' / 'a'-'f' all at once.
    private static func hexDigits(_ value: UInt32) -> UInt64 {
        var spread = UInt64(value)
        spread = (spread | (spread << 16)) & 0x0000_FFFF_0000_FFFF
        spread = (spread | (spread << 8)) & 0x00FF_00FF_00FF_00FF
        spread = (spread | (spread << 4)) & 0x0F0F_0F0F_0F0F_0F0F
        let isLetter = ((spread &+ 0x0606_0606_0606_0606) >> 4) & 0x0101_0101_0101_0101
        let ascii = spread &+ 0x3030_3030_3030_3030 &+ isLetter &* 0x27
        return ascii.bigEndian
    }
}
