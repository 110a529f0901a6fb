import NIOCore

/// A request's id: 128 random bits, written as 32 lowercase hex digits, or the client's own id
/// passed on. Kept as numbers until written, so the usual case builds no string per request.
struct RequestID: CustomStringConvertible, Equatable {
    private var high: UInt64 = 0
    private var low: UInt64 = 0
    private var passedOn: String?

    static let none = RequestID()

    private init() {}

    init(random high: UInt64, _ low: UInt64) {
        self.high = high
        self.low = low
    }

    init(passedOn: String) {
        self.passedOn = passedOn
    }

    func write(to buffer: inout ByteBuffer) {
        if let passedOn {
            buffer.writeString(passedOn)
            return
        }
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 32) { bytes in
            Self.writeHex(high, into: bytes, at: 0)
            Self.writeHex(low, into: bytes, at: 16)
            return 32
        }
    }

    var description: String {
        if let passedOn { return passedOn }
        return String(unsafeUninitializedCapacity: 32) { buffer in
            let bytes = UnsafeMutableRawBufferPointer(buffer)
            Self.writeHex(high, into: bytes, at: 0)
            Self.writeHex(low, into: bytes, at: 16)
            return 32
        }
    }

    private static func writeHex(_ value: UInt64, into bytes: UnsafeMutableRawBufferPointer, at offset: Int) {
        for nibble in 0..<16 {
            let digit = UInt8(truncatingIfNeeded: (value >> UInt64(60 - nibble * 4)) & 0xF)
            bytes[offset + nibble] = digit < 10 ? 48 + digit : 87 + digit
        }
    }
}
