import Authentication
import Crypto

/// Tokens this event loop has verified, keyed by the token's SHA-256 and the provider, so a
/// repeated token costs a hash instead of a signature check. Bounded (oldest entries go first);
/// an entry is trusted only while its token has not expired and the provider's keys are the
/// ones it was verified with (a rotation that removes a key takes its tokens with it).
final class VerifiedTokenCache {
    struct Key: Hashable {
        let provider: ObjectIdentifier
        let digest: SHA256Digest
    }

    private struct Entry {
        let claims: TokenClaims
        let generation: Int
    }

    let capacity: Int
    private var entries: [Key: Entry] = [:]
    private var order: [Key] = []
    private var orderStart = 0

    init(capacity: Int) {
        self.capacity = capacity
    }

    var count: Int { entries.count }

    static func key(provider: JWTProvider, token: [UInt8]) -> Key {
        Key(provider: ObjectIdentifier(provider), digest: SHA256.hash(data: token))
    }

    func claims(for key: Key, generation: Int) -> TokenClaims? {
        guard let entry = entries[key] else { return nil }
        guard entry.generation == generation else {
            entries[key] = nil
            return nil
        }
        return entry.claims
    }

    func store(_ claims: TokenClaims, for key: Key, generation: Int) {
        guard capacity > 0 else { return }
        if entries.updateValue(Entry(claims: claims, generation: generation), forKey: key) == nil {
            order.append(key)
        }
        while entries.count > capacity, orderStart < order.count {
            entries[order[orderStart]] = nil
            orderStart += 1
        }
        // Keys of entries that were replaced or dropped stay in `order` until compaction.
        if orderStart > capacity {
            order.removeFirst(orderStart)
            orderStart = 0
        }
    }
}
