import HTTPCaching
import NIOCore

/// A strong ETag for a stored body that came without validators (`cache.add_etag`): FNV-1a over
/// the bytes plus the length. Not a security property, only "these bytes changed"; a collision
/// needs the same length and 64-bit hash, and would at worst answer one 304 wrongly.
enum GeneratedETag {
    static func of(_ body: ByteBuffer) -> EntityTag {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        body.withUnsafeReadableBytes { bytes in
            for byte in bytes {
                hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
            }
        }
        return EntityTag(
            opaque: "g" + String(hash, radix: 16) + "-" + String(body.readableBytes, radix: 16), isWeak: false)
    }
}
