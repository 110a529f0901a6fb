/// Where Redis Cluster keeps a key: CRC16 (XMODEM) of the key, or of its hash tag, mod 16384,
/// exactly as the Cluster specification defines it, so the client picks the node the server
/// itself would.
public enum HashSlot {
    public static let count = 16384

    /// CRC16-CCITT in the XMODEM variant (polynomial 0x1021, initial value 0, no reflection).
    public static func crc16(_ bytes: some Sequence<UInt8>) -> UInt16 {
        // One table access for the whole key, not a lazy-global check per byte.
        crc16Table.withUnsafeBufferPointer { table in
            var crc: UInt16 = 0
            for byte in bytes {
                crc = (crc << 8) ^ table[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ byte)]
            }
            return crc
        }
    }

    public static func slot(of key: [UInt8]) -> Int {
        // 16384 is a power of two: the mask is the spec's "mod 16384".
        Int(crc16(hashedPart(of: key)) & UInt16(count - 1))
    }

    public static func slot(of key: String) -> Int {
        slot(of: Array(key.utf8))
    }

    /// The slot every key hashes to; nil for no keys. Throws `RedisError.protocolError` when
    /// they differ: a Cluster would refuse the command (CROSSSLOT), so it is never sent.
    public static func commonSlot(of keys: [[UInt8]]) throws -> Int? {
        guard let first = keys.first else { return nil }
        let slot = slot(of: first)
        for key in keys.dropFirst() where self.slot(of: key) != slot {
            throw RedisError.protocolError(
                "CROSSSLOT keys of one call must hash to one slot (use one hash tag): "
                    + "'\(String(decoding: first, as: UTF8.self))' and '\(String(decoding: key, as: UTF8.self))' differ"
            )
        }
        return slot
    }

    /// The hash tag rule: if the key has a `{` and, after it, a `}` with at least one byte
    /// between them, only those bytes are hashed (so related keys can share a slot); otherwise
    /// the whole key is. Only the first `{` and the first `}` after it count.
    static func hashedPart(of key: [UInt8]) -> ArraySlice<UInt8> {
        guard let open = key.firstIndex(of: UInt8(ascii: "{")),
            let close = key[(open + 1)...].firstIndex(of: UInt8(ascii: "}")),
            close > open + 1
        else { return key[...] }
        return key[(open + 1)..<close]
    }
}

/// Built once: a table lookup per byte instead of eight shifts.
private let crc16Table: [UInt16] = (0..<256).map { index in
    var crc = UInt16(index) << 8
    for _ in 0..<8 {
        crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1
    }
    return crc
}
