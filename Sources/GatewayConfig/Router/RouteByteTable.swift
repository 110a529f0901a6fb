/// An open-addressing hash table from (namespace, byte string) to `Int`.
///
/// A `[String: Int]` would need a `String` built from the request's `Substring` for every lookup, which
/// allocates for anything longer than the small-string limit. This table hashes and compares the request's
/// UTF-8 bytes in place. The namespace lets one table hold the literal edges of every trie node (namespace =
/// parent node) or both host kinds. Keys come from the configuration only, so requests cannot choose
/// colliding keys; they can only probe.
struct RouteByteTable: Sendable {
    private struct Entry: Sendable {
        var namespace: Int
        var hash: UInt64
        var start: Int
        var count: Int
        var value: Int
    }

    /// ASCII case folding for host names; path segments are compared byte for byte.
    private let foldsCase: Bool
    /// All keys back to back, so the table holds three arrays rather than one per key.
    private var keyBytes: [UInt8] = []
    private var entries: [Entry] = []
    /// Entry index + 1; 0 marks an empty slot. Kept at most half full so probes stay short and terminate.
    private var slots: [Int] = Array(repeating: 0, count: 16)

    init(foldsCase: Bool) {
        self.foldsCase = foldsCase
    }

    var isEmpty: Bool { entries.isEmpty }

    func value(namespace: Int, key: [UInt8]) -> Int? {
        key.withUnsafeBufferPointer { value(namespace: namespace, key: $0) }
    }

    /// The caller looks the key up first; inserting a present key would only waste a slot.
    mutating func insert(namespace: Int, key: [UInt8], value: Int) {
        let hash = key.withUnsafeBufferPointer { Self.hash(namespace: namespace, key: $0, foldsCase: foldsCase) }
        let stored = foldsCase ? key.map(Self.lowercased) : key
        entries.append(Entry(namespace: namespace, hash: hash, start: keyBytes.count, count: key.count, value: value))
        keyBytes.append(contentsOf: stored)
        if entries.count * 2 > slots.count {
            rehash(capacity: slots.count * 2)
        } else {
            place(entryIndex: entries.count - 1)
        }
    }

    /// Raw bytes rather than a `Substring.UTF8View`: walking a string view byte by byte costs an index
    /// check per byte, several times the price of the hash itself.
    func value(namespace: Int, key: UnsafeBufferPointer<UInt8>) -> Int? {
        let hash = Self.hash(namespace: namespace, key: key, foldsCase: foldsCase)
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let stored = slots[slot]
            if stored == 0 {
                return nil
            }
            let entry = entries[stored - 1]
            if entry.hash == hash, entry.namespace == namespace, keyEquals(entry, key) {
                return entry.value
            }
            slot = (slot + 1) & mask
        }
    }

    /// Eight bytes at a time; stored keys are already lowercased when folding, so only the request side
    /// needs `lowercased`.
    private func keyEquals(_ entry: Entry, _ key: UnsafeBufferPointer<UInt8>) -> Bool {
        guard entry.count == key.count else {
            return false
        }
        guard let keyBase = key.baseAddress else {
            return true
        }
        return keyBytes.withUnsafeBufferPointer { stored in
            guard let storedBase = stored.baseAddress else {
                return false
            }
            let storedKey = UnsafeRawPointer(storedBase + entry.start)
            let requestKey = UnsafeRawPointer(keyBase)
            var offset = 0
            while offset + 8 <= key.count {
                var word = requestKey.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
                if foldsCase {
                    word = Self.lowercased(word)
                }
                if word != storedKey.loadUnaligned(fromByteOffset: offset, as: UInt64.self) {
                    return false
                }
                offset += 8
            }
            while offset < key.count {
                let byte = foldsCase ? Self.lowercased(key[offset]) : key[offset]
                if storedKey.load(fromByteOffset: offset, as: UInt8.self) != byte {
                    return false
                }
                offset += 1
            }
            return true
        }
    }

    private mutating func rehash(capacity: Int) {
        slots = Array(repeating: 0, count: capacity)
        for index in entries.indices {
            place(entryIndex: index)
        }
    }

    private mutating func place(entryIndex: Int) {
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: entries[entryIndex].hash) & mask
        while slots[slot] != 0 {
            slot = (slot + 1) & mask
        }
        slots[slot] = entryIndex + 1
    }

    /// Eight bytes per multiply: a byte-serial hash (FNV) cost more than the rest of a lookup on long
    /// segments. Not a keyed hash: the keys come from the configuration, not from requests.
    private static func hash(namespace: Int, key: UnsafeBufferPointer<UInt8>, foldsCase: Bool) -> UInt64 {
        let multiplier: UInt64 = 0x9e37_79b9_7f4a_7c15
        var hash = UInt64(bitPattern: Int64(namespace)) &* multiplier ^ UInt64(key.count)
        var offset = 0
        if let base = key.baseAddress {
            let raw = UnsafeRawPointer(base)
            while offset + 8 <= key.count {
                var word = raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
                if foldsCase {
                    word = lowercased(word)
                }
                hash = (hash ^ word) &* multiplier
                hash ^= hash >> 29
                offset += 8
            }
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while offset < key.count {
            tail |= UInt64(foldsCase ? lowercased(key[offset]) : key[offset]) << shift
            shift += 8
            offset += 1
        }
        hash = (hash ^ tail) &* multiplier
        // Final avalanche (MurmurHash3's), so the low bits that pick the slot depend on every byte.
        hash ^= hash >> 33
        hash = hash &* 0xff51_afd7_ed55_8ccd
        hash ^= hash >> 33
        return hash
    }

    /// ASCII-lowercases eight bytes at once; bytes outside `A`–`Z` (UTF-8 ones included) are unchanged.
    @inline(__always)
    private static func lowercased(_ word: UInt64) -> UInt64 {
        let highBits: UInt64 = 0x8080_8080_8080_8080
        let low = word & ~highBits
        // Per byte, the high bit of `low + (0x80 - c)` is set when the byte is >= c; nothing carries over.
        let atLeastA = low &+ 0x3f3f_3f3f_3f3f_3f3f
        let aboveZ = low &+ 0x2525_2525_2525_2525
        let upper = atLeastA & ~aboveZ & ~word & highBits
        return word | (upper >> 2)
    }

    @inline(__always)
    static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }
}
