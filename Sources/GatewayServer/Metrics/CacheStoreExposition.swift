import HTTPCaching

/// The store's own families: one store per process, so these come from its shards' counters.
enum CacheStoreExposition {
    static func render(_ stats: CacheStore.Stats) -> String {
        var out = PrometheusText()
        out.family("gateway_cache_entries", type: "gauge", help: "Responses (variants) in the cache.")
        out.sample("gateway_cache_entries", [], stats.counters.entries)
        out.family(
            "gateway_cache_bytes", type: "gauge", help: "Bytes the cache holds, as counted against cache.memory.")
        out.sample("gateway_cache_bytes", [], stats.bytes)
        out.family("gateway_cache_capacity_bytes", type: "gauge", help: "cache.memory.")
        out.sample("gateway_cache_capacity_bytes", [], stats.capacityBytes)
        out.family("gateway_cache_stores_total", type: "counter", help: "Responses stored or replaced.")
        out.sample("gateway_cache_stores_total", [], stats.counters.stores)
        out.family(
            "gateway_cache_evictions_total", type: "counter", help: "Entries evicted to stay within cache.memory.")
        out.sample("gateway_cache_evictions_total", [], stats.counters.evictions)
        out.family("gateway_cache_purged_total", type: "counter", help: "Entries removed or marked stale by purges.")
        out.sample("gateway_cache_purged_total", [], stats.counters.purged)
        out.family(
            "gateway_cache_reclaimed_total", type: "counter", help: "Entries removed after they stopped being usable.")
        out.sample("gateway_cache_reclaimed_total", [], stats.counters.reclaimed)
        return out.text
    }
}
