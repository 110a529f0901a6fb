import Crypto
import GatewayConfig

/// An API key set: keys are kept as their SHA-256 only. A presented key is hashed and looked up by
/// its hash; the match is then confirmed with a constant-time comparison of the whole digest.
/// (Finding the entry by hash leaks nothing useful: the hash of a guess says nothing about the
/// stored keys.)
struct APIKeyStore: Sendable {
    let config: APIKeySetConfig
    private let consumers: [[UInt8]: (digest: [UInt8], consumer: String)]

    init(_ config: APIKeySetConfig) {
        self.config = config
        var consumers: [[UInt8]: (digest: [UInt8], consumer: String)] = [:]
        for key in config.keys { consumers[key.sha256] = (key.sha256, key.consumer) }
        self.consumers = consumers
    }

    func consumer(forKey key: some Collection<UInt8>) -> String? {
        let digest = Array(SHA256.hash(data: Array(key)))
        guard let entry = consumers[digest] else { return nil }
        var difference: UInt8 = 0
        for (a, b) in zip(entry.digest, digest) { difference |= a ^ b }
        return difference == 0 && entry.digest.count == digest.count ? entry.consumer : nil
    }
}
