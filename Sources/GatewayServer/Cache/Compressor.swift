import Compression
import GatewayConfig
import HTTPCaching
import NIOCore

/// Decides which stored responses are also kept encoded and encodes them (`cache.compression`).
/// Encoding runs on a thread pool after the entry is stored; until it is done, clients get the
/// identity body, which is always correct.
final class Compressor: Sendable {
    let codings: [ContentCoding]
    private let minSize: Int
    private let exactTypes: Set<String>
    private let typePrefixes: [String]

    init(_ config: CompressionConfig) {
        codings = config.algorithms.compactMap(ContentCoding.init(rawValue:))
        minSize = config.minSizeBytes
        exactTypes = Set(config.types.filter { !$0.hasSuffix("/*") })
        typePrefixes = config.types.filter { $0.hasSuffix("/*") }.map { String($0.dropLast()) }
    }

    /// Compressible type, big enough, not encoded by the origin, and not `no-transform`.
    func applies(status: Int, contentType: String?, contentEncoding: String?, cacheControl: String?, size: Int) -> Bool
    {
        guard status == 200, size >= minSize, !codings.isEmpty else { return false }
        if let contentEncoding, !contentEncoding.isEmpty, contentEncoding.lowercased() != "identity" { return false }
        if let cacheControl, cacheControl.lowercased().contains("no-transform") { return false }
        guard let contentType else { return false }
        let mediaType = contentType.split(separator: ";").first.map { $0.trimmingSpaces().lowercased() } ?? ""
        return exactTypes.contains(mediaType) || typePrefixes.contains { mediaType.hasPrefix($0) }
    }

    func applies(to entry: CacheEntry) -> Bool {
        entry.encodings.isEmpty
            && applies(
                status: entry.status, contentType: entry.field("content-type"),
                contentEncoding: entry.field("content-encoding"), cacheControl: entry.field("cache-control"),
                size: entry.body.readableBytes)
    }

    /// The body in each configured coding that actually makes it smaller.
    func encode(_ body: ByteBuffer) -> [EncodedBody] {
        let bytes = Array(body.readableBytesView)
        var encodings: [EncodedBody] = []
        for coding in codings {
            let encoded: [UInt8]?
            switch coding {
            case .br: encoded = Brotli.compress(bytes)
            case .gzip: encoded = Gzip.compress(bytes)
            }
            if let encoded, encoded.count < bytes.count {
                encodings.append(EncodedBody(coding: coding, body: ByteBuffer(bytes: encoded)))
            }
        }
        return encodings
    }
}
