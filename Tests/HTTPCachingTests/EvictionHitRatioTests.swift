import NIOCore
import TestSupport
import XCTest

@testable import HTTPCaching

/// S3-FIFO against LRU on the same traces, through the real store (one shard, so both policies
/// see every key).
final class EvictionHitRatioTests: XCTestCase {
    struct Zipf {
        private let cumulative: [Double]

        init(keys: Int, exponent: Double) {
            var running = 0.0
            var cumulative: [Double] = []
            cumulative.reserveCapacity(keys)
            for rank in 1...keys {
                running += 1 / pow(Double(rank), exponent)
                cumulative.append(running)
            }
            self.cumulative = cumulative.map { $0 / running }
        }

        func sample(_ generator: inout SplitMix64) -> Int {
            let u = Double(generator.next() >> 11) / Double(1 << 53)
            var low = 0
            var high = cumulative.count - 1
            while low < high {
                let middle = (low + high) / 2
                if cumulative[middle] < u { low = middle + 1 } else { high = middle }
            }
            return low
        }
    }

    func hitRatio(_ eviction: EvictionPolicyKind, trace: [Int], capacityObjects: Int, objectSize: Int = 200) -> Double {
        let body = ByteBuffer(repeating: 0x61, count: objectSize)
        func entry(_ key: CacheKey) -> CacheEntry {
            CacheEntry(
                key: key, vary: .none, status: 200, fields: ByteBuffer(), body: body, etag: nil, lastModifiedText: nil,
                freshness: Freshness(lifetime: 1 << 30, correctedInitialAge: 0, responseTime: 0), tags: [])
        }
        let keys = (0..<(trace.max() ?? 0) + 1).map { CacheKey(text: "h/\($0)") }
        let perObject = entry(keys[0]).size
        let store = CacheStore(
            CacheStore.Configuration(
                capacityBytes: capacityObjects * perObject, maxObjectBytes: 1 << 20, eviction: eviction, shardCount: 1))
        var hits = 0
        for index in trace {
            if case .found = store.lookup(keys[index], request: { _ in [] }) {
                hits += 1
            } else {
                store.insert(entry(keys[index]))
            }
        }
        return Double(hits) / Double(trace.count)
    }

    /// The workload: Zipf over 100k keys, a cache holding a tenth of them.
    func testS3FIFOBeatsLRUOnAZipfTrace() {
        var generator = SplitMix64(seed: 2026)
        let zipf = Zipf(keys: 100_000, exponent: 0.9)
        let trace = (0..<400_000).map { _ in zipf.sample(&generator) }
        let s3fifo = hitRatio(.s3fifo, trace: trace, capacityObjects: 10_000)
        let lru = hitRatio(.lru, trace: trace, capacityObjects: 10_000)
        print("Zipf(0.9) 100k keys, cache 10k objects: S3-FIFO hit ratio \(s3fifo), LRU \(lru)")
        XCTAssertGreaterThanOrEqual(s3fifo, lru)
        XCTAssertGreaterThan(s3fifo, 0.4)
    }

    /// A scan of one-hit keys in the middle of a hot working set: LRU loses the working set,
    /// S3-FIFO keeps it.
    func testScansDoNotFlushTheWorkingSet() {
        var generator = SplitMix64(seed: 9)
        let zipf = Zipf(keys: 2_000, exponent: 1.0)
        var trace: [Int] = []
        for round in 0..<20 {
            trace += (0..<5_000).map { _ in zipf.sample(&generator) }
            trace += (0..<3_000).map { 10_000 + round * 3_000 + $0 }
        }
        let s3fifo = hitRatio(.s3fifo, trace: trace, capacityObjects: 1_000)
        let lru = hitRatio(.lru, trace: trace, capacityObjects: 1_000)
        print("Zipf + scans: S3-FIFO hit ratio \(s3fifo), LRU \(lru)")
        XCTAssertGreaterThan(s3fifo, lru + 0.05)
    }
}
