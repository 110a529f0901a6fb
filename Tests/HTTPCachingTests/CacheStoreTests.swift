import NIOCore
import XCTest

@testable import HTTPCaching

final class CacheStoreTests: XCTestCase {
    let now: Int64 = 1_000_000_000

    func entry(
        _ key: String, body: Int = 100, lifetime: Int = 60, tags: [String] = [], vary: VarySelector = .none,
        etag: String? = nil
    ) -> CacheEntry {
        CacheEntry(
            key: CacheKey(text: key), vary: vary, status: 200,
            fields: ByteBuffer(string: "Content-Type: text/plain\r\n"),
            body: ByteBuffer(repeating: 0x61, count: body), etag: etag.map { EntityTag(opaque: $0, isWeak: false) },
            lastModifiedText: nil,
            freshness: Freshness(lifetime: lifetime, correctedInitialAge: 0, responseTime: now), tags: tags)
    }

    func store(capacity: Int = 1 << 20, maxObject: Int = 1 << 16, eviction: EvictionPolicyKind = .s3fifo)
        -> CacheStore
    {
        CacheStore(
            CacheStore.Configuration(
                capacityBytes: capacity, maxObjectBytes: maxObject, eviction: eviction, shardCount: 4,
                keepForRevalidation: 0))
    }

    func found(_ store: CacheStore, _ key: String, _ request: (String) -> [String] = { _ in [] }) -> CacheEntry? {
        if case .found(let entry) = store.lookup(CacheKey(text: key), request: request) { return entry }
        return nil
    }

    func testStoresReplacesAndLooksUp() {
        let store = store()
        XCTAssertEqual(store.insert(entry("h/a")), .stored(evicted: 0))
        XCTAssertEqual(found(store, "h/a")?.body.readableBytes, 100)
        store.insert(entry("h/a", body: 7))
        XCTAssertEqual(found(store, "h/a")?.body.readableBytes, 7)
        XCTAssertEqual(store.stats().counters.entries, 1)
        XCTAssertNil(found(store, "h/b"))
    }

    func testVariantsOfOneKey() {
        let store = store()
        let english = VarySelector(names: ["accept-language"], values: ["en"])
        let french = VarySelector(names: ["accept-language"], values: ["fr"])
        store.insert(entry("h/a", body: 1, vary: english))
        store.insert(entry("h/a", body: 2, vary: french))
        XCTAssertEqual(found(store, "h/a") { _ in ["fr"] }?.body.readableBytes, 2)
        XCTAssertEqual(found(store, "h/a") { _ in ["en"] }?.body.readableBytes, 1)
        guard case .varyMiss = store.lookup(CacheKey(text: "h/a"), request: { _ in ["de"] }) else {
            return XCTFail("a stored URL in another variant is a vary miss")
        }
        // A response that varies on something else replaces all variants.
        store.insert(entry("h/a", body: 3, vary: VarySelector(names: ["x-tenant"], values: ["t"])))
        XCTAssertNil(found(store, "h/a") { _ in ["fr"] })
        XCTAssertEqual(store.stats().counters.entries, 1)
    }

    func testTooManyVariantsDropTheOldest() {
        let store = store()
        for index in 0...CacheShard.maxVariantsPerKey {
            store.insert(entry("h/a", vary: VarySelector(names: ["x"], values: ["\(index)"])))
        }
        XCTAssertEqual(store.stats().counters.entries, CacheShard.maxVariantsPerKey)
        XCTAssertNil(found(store, "h/a") { _ in ["0"] })
        XCTAssertNotNil(found(store, "h/a") { _ in ["\(CacheShard.maxVariantsPerKey)"] })
    }

    func testPurgeByKeyPrefixTagAndAll() {
        let store = store()
        for key in ["h/a/1", "h/a/2", "h/a/b/3", "h/ab", "h/c", "g/a/1"] {
            store.insert(entry(key, tags: key.hasSuffix("1") ? ["one"] : []))
        }
        XCTAssertEqual(store.purge(.prefix("h/a/"), soft: false, now: now), 3)
        XCTAssertNil(found(store, "h/a/b/3"))
        XCTAssertNotNil(found(store, "h/ab"))
        XCTAssertEqual(store.purge(.prefix("h/a"), soft: false, now: now), 1)  // h/ab: not segment-aware, like a URL prefix
        XCTAssertEqual(store.purge(.tag("one"), soft: false, now: now), 1)
        XCTAssertNil(found(store, "g/a/1"))
        XCTAssertEqual(store.purge(.key(CacheKey(text: "h/c")), soft: false, now: now), 1)
        XCTAssertEqual(store.stats().counters.entries, 0)
        store.insert(entry("h/x"))
        store.insert(entry("h/y"))
        XCTAssertEqual(store.purge(.all, soft: false, now: now), 2)
        XCTAssertEqual(store.stats().bytes, 0)
        XCTAssertEqual(store.purge(.prefix("nothing/"), soft: false, now: now), 0)
    }

    func testPrefixOfABareHostMeansTheWholeHost() {
        let store = store()
        store.insert(entry("h/a"))
        store.insert(entry("h/b?x=1"))
        store.insert(entry("hh/a"))
        XCTAssertEqual(store.purge(.prefix("h"), soft: false, now: now), 2)
        XCTAssertNotNil(found(store, "hh/a"))
    }

    func testSoftPurgeKeepsTheEntryButStale() throws {
        let store = store()
        store.insert(entry("h/a", lifetime: 3600, tags: ["t"], etag: "v1"))
        XCTAssertEqual(store.purge(.tag("t"), soft: true, now: now + 10_000), 1)
        let purged = try XCTUnwrap(found(store, "h/a"))
        XCTAssertTrue(purged.isSoftPurged)
        XCTAssertFalse(purged.freshness.isFresh(now: now + 10_000))
        XCTAssertEqual(purged.etag?.opaque, "v1")
        // Soft purging again changes nothing; a hard purge still removes it.
        XCTAssertEqual(store.purge(.tag("t"), soft: true, now: now + 20_000), 1)
        XCTAssertEqual(found(store, "h/a")?.freshness, purged.freshness)
        XCTAssertEqual(store.purge(.prefix("h/"), soft: false, now: now), 1)
        XCTAssertNil(found(store, "h/a"))
    }

    func testMemoryBoundHoldsUnderAFillLargerThanTheCapacity() {
        let capacity = 64 * 1024
        let store = store(capacity: capacity)
        var evicted = 0
        for index in 0..<2000 {
            if case .stored(let count) = store.insert(entry("h/\(index)", body: 500)) { evicted += count }
            XCTAssertLessThanOrEqual(store.stats().bytes, capacity)
        }
        let stats = store.stats()
        XCTAssertGreaterThan(evicted, 1800)
        XCTAssertEqual(stats.counters.evictions, evicted)
        XCTAssertEqual(stats.counters.entries + evicted, 2000)
        XCTAssertGreaterThan(stats.bytes, capacity / 2)
    }

    func testObjectsOverTheSizeCapAreNotStored() {
        let store = store(maxObject: 1000)
        XCTAssertEqual(store.insert(entry("h/big", body: 1001)), .tooLarge)
        XCTAssertEqual(store.insert(entry("h/ok", body: 1000)), .stored(evicted: 0))
    }

    func testExpiredEntriesAreReclaimed() {
        let store = store()
        store.insert(entry("h/short", lifetime: 10))
        store.insert(entry("h/long", lifetime: 1000))
        XCTAssertEqual(store.reclaimExpired(now: now + 9_999), 0)
        XCTAssertEqual(store.reclaimExpired(now: now + 10_000), 1)
        XCTAssertNil(found(store, "h/short"))
        XCTAssertNotNil(found(store, "h/long"))
        // A replaced entry is reclaimed by the replacement's time, not the old one's.
        store.insert(entry("h/long", lifetime: 5000))
        XCTAssertEqual(store.reclaimExpired(now: now + 1_000_000), 0)
        XCTAssertEqual(store.reclaimExpired(now: now + 5_000_000), 1)
        XCTAssertEqual(store.stats().counters.entries, 0)
    }

    func testEvictedEntriesAreFreedAtOnce() {
        let store = store(capacity: 4 * 2048)
        weak var first: CacheEntry?
        do {
            let entry = entry("h/first", body: 1000, lifetime: 100_000)
            first = entry
            store.insert(entry)
        }
        for index in 0..<100 { store.insert(entry("h/\(index)", body: 1000, lifetime: 100_000)) }
        XCTAssertNil(first, "an evicted entry (and its body) must not be kept alive by the reclaim schedule")
    }

    func testTopKeys() {
        let store = store()
        store.insert(entry("h/a"))
        store.insert(entry("h/b"))
        for _ in 0..<3 { _ = found(store, "h/b") }
        _ = found(store, "h/a")
        let top = store.topKeys(1)
        XCTAssertEqual(top.first?.key.text, "h/b")
        XCTAssertEqual(top.first?.hits, 3)
    }
}
