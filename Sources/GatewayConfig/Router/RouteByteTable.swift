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

    private func keyEquals(_ entry: Entry, _ key: UnsafeBufferPointer<UInt8>) -> Bool {
        guard entry.count == key.count else {
            return false
        }
        return keyBytes.withUnsafeBufferPointer { stored in
            var offset = 0
            while offset < key.count {
                let byte = foldsCase ? Self.lowercased(key[offset]) : key[offset]
                if stored[entry.start + offset] != byte {
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

    /// FNV-1a: byte-serial and cheap for the short keys (segments, host names) this table holds.
    private static func hash(namespace: Int, key: UnsafeBufferPointer<UInt8>, foldsCase: Bool) -> UInt64 {
        let prime: UInt64 = 0x100_0000_01b3
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325 ^ (UInt64(bitPattern: Int64(namespace)) &* 0x9e37_79b9_7f4a_7c15)
        for byte in key {
            hash = (hash ^ UInt64(foldsCase ? lowercased(byte) : byte)) &* prime
        }
        // FNV's low bits, which pick the slot, mix poorly on their own.
        return hash ^ (hash >> 29)
    }

    @inline(__always)
    static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }
}
