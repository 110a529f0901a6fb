/// A 64-bit hash of request keys (client IP bytes, a header or cookie value) that is the same in every process and
/// every run, so all gateways of a fleet send one key to the same endpoint. Swift's `Hasher` is seeded per process
/// and cannot be used for that.
///
/// The algorithm is xxHash64 (XXH64) with seed 0: a published, widely implemented format with known-answer vectors,
/// fast on short keys, with a strong final avalanche, so `hash % tableSize` is well spread without another mixer.
/// It is also what Envoy's Maglev uses to place hosts. Changing the algorithm reshuffles every sticky session;
/// the known-answer tests exist to make that a deliberate decision.
public enum StableHash {
    @inlinable
    public static func hash<Bytes: Sequence>(_ bytes: Bytes) -> UInt64 where Bytes.Element == UInt8 {
        hash(bytes, seed: 0)
    }

    /// The UTF-8 bytes of `string`. For a `String` pass `value.utf8`; both take the contiguous fast path.
    @inlinable
    public static func hash(_ string: Substring) -> UInt64 {
        var string = string
        return string.withUTF8 { xxh64(UnsafeRawBufferPointer($0), seed: 0) }
    }

    @inlinable
    static func hash<Bytes: Sequence>(_ bytes: Bytes, seed: UInt64) -> UInt64 where Bytes.Element == UInt8 {
        if let digest = bytes.withContiguousStorageIfAvailable({ xxh64(UnsafeRawBufferPointer($0), seed: seed) }) {
            return digest
        }
        var stream = XXH64Stream(seed: seed)
        for byte in bytes {
            stream.append(byte)
        }
        return stream.finish()
    }

    /// One-shot XXH64 over contiguous memory, following the reference implementation step by step.
    @usableFromInline
    static func xxh64(_ bytes: UnsafeRawBufferPointer, seed: UInt64) -> UInt64 {
        let count = bytes.count
        var offset = 0
        var digest: UInt64
        if count >= 32 {
            var lanes = XXH64Lanes(seed: seed)
            while offset + 32 <= count {
                lanes.consume(
                    bytes.loadLittleEndianUInt64(at: offset),
                    bytes.loadLittleEndianUInt64(at: offset + 8),
                    bytes.loadLittleEndianUInt64(at: offset + 16),
                    bytes.loadLittleEndianUInt64(at: offset + 24)
                )
                offset += 32
            }
            digest = lanes.merged()
        } else {
            digest = seed &+ XXH64.prime5
        }
        digest &+= UInt64(truncatingIfNeeded: count)
        while offset + 8 <= count {
            digest = XXH64.mixTailWord(digest, bytes.loadLittleEndianUInt64(at: offset))
            offset += 8
        }
        if offset + 4 <= count {
            let half = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
            digest = XXH64.mixTailHalfWord(digest, UInt64(half))
            offset += 4
        }
        while offset < count {
            digest = XXH64.mixTailByte(digest, bytes[offset])
            offset += 1
        }
        return XXH64.avalanche(digest)
    }
}

extension UnsafeRawBufferPointer {
    @inlinable
    func loadLittleEndianUInt64(at offset: Int) -> UInt64 {
        UInt64(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }
}

/// The primes and mixing steps of XXH64, shared by the one-shot and the streaming form.
@usableFromInline
enum XXH64 {
    @usableFromInline static let prime1: UInt64 = 0x9E37_79B1_85EB_CA87
    @usableFromInline static let prime2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
    @usableFromInline static let prime3: UInt64 = 0x1656_67B1_9E37_79F9
    @usableFromInline static let prime4: UInt64 = 0x85EB_CA77_C2B2_AE63
    @usableFromInline static let prime5: UInt64 = 0x27D4_EB2F_1656_67C5

    @inlinable
    static func round(_ accumulator: UInt64, _ input: UInt64) -> UInt64 {
        rotateLeft(accumulator &+ input &* prime2, by: 31) &* prime1
    }

    @inlinable
    static func mergeRound(_ accumulator: UInt64, _ lane: UInt64) -> UInt64 {
        (accumulator ^ round(0, lane)) &* prime1 &+ prime4
    }

    @inlinable
    static func mixTailWord(_ digest: UInt64, _ word: UInt64) -> UInt64 {
        rotateLeft(digest ^ round(0, word), by: 27) &* prime1 &+ prime4
    }

    @inlinable
    static func mixTailHalfWord(_ digest: UInt64, _ half: UInt64) -> UInt64 {
        rotateLeft(digest ^ (half &* prime1), by: 23) &* prime2 &+ prime3
    }

    @inlinable
    static func mixTailByte(_ digest: UInt64, _ byte: UInt8) -> UInt64 {
        rotateLeft(digest ^ (UInt64(byte) &* prime5), by: 11) &* prime1
    }

    @inlinable
    static func avalanche(_ digest: UInt64) -> UInt64 {
        var digest = digest
        digest ^= digest >> 33
        digest &*= prime2
        digest ^= digest >> 29
        digest &*= prime3
        digest ^= digest >> 32
        return digest
    }
}

/// The four accumulators of XXH64's 32-byte stripes.
@usableFromInline
struct XXH64Lanes {
    @usableFromInline var lane1: UInt64
    @usableFromInline var lane2: UInt64
    @usableFromInline var lane3: UInt64
    @usableFromInline var lane4: UInt64

    @inlinable
    init(seed: UInt64) {
        lane1 = seed &+ XXH64.prime1 &+ XXH64.prime2
        lane2 = seed &+ XXH64.prime2
        lane3 = seed
        lane4 = seed &- XXH64.prime1
    }

    @inlinable
    mutating func consume(_ word1: UInt64, _ word2: UInt64, _ word3: UInt64, _ word4: UInt64) {
        lane1 = XXH64.round(lane1, word1)
        lane2 = XXH64.round(lane2, word2)
        lane3 = XXH64.round(lane3, word3)
        lane4 = XXH64.round(lane4, word4)
    }

    @inlinable
    func merged() -> UInt64 {
        var digest =
            rotateLeft(lane1, by: 1) &+ rotateLeft(lane2, by: 7) &+ rotateLeft(lane3, by: 12)
            &+ rotateLeft(lane4, by: 18)
        digest = XXH64.mergeRound(digest, lane1)
        digest = XXH64.mergeRound(digest, lane2)
        digest = XXH64.mergeRound(digest, lane3)
        digest = XXH64.mergeRound(digest, lane4)
        return digest
    }
}

/// XXH64 over a sequence without contiguous storage (e.g. a lazily mapped view), byte by byte, without buffering
/// on the heap: up to three finished words and the word being filled are kept inline.
@usableFromInline
struct XXH64Stream {
    @usableFromInline let seed: UInt64
    @usableFromInline var lanes: XXH64Lanes
    @usableFromInline var sawFullStripe = false
    @usableFromInline var totalCount: UInt64 = 0
    @usableFromInline var word1: UInt64 = 0
    @usableFromInline var word2: UInt64 = 0
    @usableFromInline var word3: UInt64 = 0
    @usableFromInline var wordsInStripe = 0
    @usableFromInline var partialWord: UInt64 = 0
    @usableFromInline var bytesInWord: UInt64 = 0

    @inlinable
    init(seed: UInt64) {
        self.seed = seed
        self.lanes = XXH64Lanes(seed: seed)
    }

    @inlinable
    mutating func append(_ byte: UInt8) {
        totalCount &+= 1
        partialWord |= UInt64(byte) << (8 * bytesInWord)
        bytesInWord += 1
        guard bytesInWord == 8 else { return }
        let word = partialWord
        partialWord = 0
        bytesInWord = 0
        switch wordsInStripe {
        case 0: word1 = word
        case 1: word2 = word
        case 2: word3 = word
        default:
            // A full stripe is always consumed as a stripe, even if the input ends right here: the reference loop
            // runs while `offset + 32 <= count`.
            lanes.consume(word1, word2, word3, word)
            sawFullStripe = true
            wordsInStripe = 0
            return
        }
        wordsInStripe += 1
    }

    @inlinable
    func finish() -> UInt64 {
        var digest = sawFullStripe ? lanes.merged() : seed &+ XXH64.prime5
        digest &+= totalCount
        if wordsInStripe > 0 { digest = XXH64.mixTailWord(digest, word1) }
        if wordsInStripe > 1 { digest = XXH64.mixTailWord(digest, word2) }
        if wordsInStripe > 2 { digest = XXH64.mixTailWord(digest, word3) }
        var rest = partialWord
        var restCount = bytesInWord
        if restCount >= 4 {
            digest = XXH64.mixTailHalfWord(digest, rest & 0xFFFF_FFFF)
            rest >>= 32
            restCount -= 4
        }
        while restCount > 0 {
            digest = XXH64.mixTailByte(digest, UInt8(truncatingIfNeeded: rest))
            rest >>= 8
            restCount -= 1
        }
        return XXH64.avalanche(digest)
    }
}
