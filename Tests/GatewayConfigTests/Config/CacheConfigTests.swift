import XCTest

@testable import GatewayConfig

/// `cache` and a route's `cache`, the keys issue 4 brought in.
final class CacheConfigTests: XCTestCase {
    let routes = """

        upstreams:
          origin: { endpoints: [{ address: 127.0.0.1:9001 }] }
        routes:
          - name: assets
            upstream: origin
        """

    func testTheReferenceShapeIsRead() throws {
        let config = try XCTUnwrap(
            parseValid(
                minimalListeners + routes + """

                        cache:
                          default_ttl: 1h
                          max_ttl: 1d
                          stale_while_revalidate: 30s
                          stale_if_error: 1d
                          key: { query: ignore }
                          add_etag: true
                          ignore_set_cookie: true
                    cache:
                      memory: 512MiB
                      max_object: 16MiB
                      eviction: lru
                      targeted_header: Edge-Cache-Control
                      compression: { algorithms: [gzip], min_size: 2KiB, types: [text/*, application/json] }
                    """))
        XCTAssertEqual(
            config.cache,
            CacheConfig(
                memoryBytes: 512 << 20, maxObjectBytes: 16 << 20, eviction: .lru, targetedHeader: "Edge-Cache-Control",
                compression: CompressionConfig(
                    algorithms: ["gzip"], minSizeBytes: 2048, types: ["text/*", "application/json"])))
        XCTAssertEqual(
            config.routes.first?.cache,
            RouteCacheConfig(
                defaultTTL: .seconds(3600), maxTTL: .seconds(86400), staleWhileRevalidate: .seconds(30),
                staleIfError: .seconds(86400), query: .ignore, addETag: true, ignoreSetCookie: true))
    }

    func testDefaults() throws {
        let config = try XCTUnwrap(parseValid(minimalListeners + routes + "\n    cache: {}\n"))
        XCTAssertEqual(config.routes.first?.cache, RouteCacheConfig())
        XCTAssertNil(config.cache)
        let small = try XCTUnwrap(parseValid(minimalListeners + "\ncache: { memory: 32MiB }\n"))
        XCTAssertEqual(small.cache?.maxObjectBytes, 2 << 20, "max_object defaults to what fits a shard")
        let list = try XCTUnwrap(parseValid(minimalListeners + routes + "\n    cache: { key: { query: [id, v] } }\n"))
        XCTAssertEqual(list.routes.first?.cache?.query, .only(["id", "v"]))
        XCTAssertNil(try XCTUnwrap(parseValid(minimalListeners + routes)).routes.first?.cache)
    }

    func testProblems() {
        XCTAssertEqual(
            problems(
                minimalListeners + routes + """

                        cache:
                          default_ttl: 1d
                          max_ttl: 1h
                          stale_if_error: soon
                          key: { query: some }
                          add_etag: yes
                          ttl: 5s
                    cache:
                      memory: 512KiB
                      max_object: 0
                      eviction: arc
                      targeted_header: "Bad Header"
                      compression: { algorithms: [br, zstd], types: [text, "image/svg+xml"] }
                    """),
            [
                "gw.yaml:11: 'max_ttl' must not be shorter than 'default_ttl' in route 'assets'",
                "gw.yaml:12: expected a duration like 250ms or 5s, got 'soon'",
                "gw.yaml:13: expected one of ignore, all, got 'some'",
                "gw.yaml:14: expected true or false, got 'yes'",
                "gw.yaml:15: unknown key 'ttl' in cache of route 'assets'",
                "gw.yaml:17: 'memory' must be at least 1MiB, got 524288 bytes",
                "gw.yaml:18: 'max_object' must be greater than 0",
                "gw.yaml:19: expected one of s3fifo, lru, got 'arc'",
                "gw.yaml:20: 'targeted_header' must be a header name, got 'Bad Header'",
                "gw.yaml:21: expected one of br, gzip, got 'zstd'",
                "gw.yaml:21: expected a media type like text/* or application/json, got 'text'",
            ])
        XCTAssertEqual(
            problems(minimalListeners + "\ncache: { memory: 16MiB, max_object: 2MiB }\n"),
            ["gw.yaml:4: 'max_object' must be at most memory / 16 (1048576 bytes), got 2097152 bytes"])
    }
}
