// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "gateway",
    // macOS 15: grpc-swift-2, used by the tests' gRPC server and client.
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "gateway", targets: ["gateway"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-http2", from: "1.46.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.3.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        // Tracing: the API; spans are recorded and exported over OTLP/HTTP by the gateway itself
        // (Sources/GatewayServer/Tracing, README "Tracing" says why not swift-otel).
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.3"),
        // Tests only: a real gRPC server and client for the pass-through tests.
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
    ],
    targets: [
        .executableTarget(
            name: "gateway",
            dependencies: [
                "GatewayServer",
                "GatewayConfig",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .target(
            name: "GatewayConfig",
            dependencies: [
                .product(name: "Yams", package: "Yams")
            ]
        ),
        .target(name: "LoadBalancing"),
        .target(name: "RateLimiting"),
        .target(name: "Resilience"),
        // Linked by name rather than through pkg-config, whose flags SwiftPM warns about.
        .systemLibrary(name: "CBrotli", path: "Sources/CBrotli"),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .systemLibrary(name: "CHiredis", path: "Sources/CHiredis"),
        .target(
            name: "Redis",
            dependencies: [
                "CHiredis",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(name: "Compression", dependencies: ["CBrotli", "CZlib"]),
        .target(
            name: "Authentication",
            dependencies: [
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "HTTPCaching",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .target(
            name: "GatewayServer",
            dependencies: [
                "GatewayConfig",
                "LoadBalancing",
                "HTTPCaching",
                "Compression",
                "RateLimiting",
                "Redis",
                "Authentication",
                "Resilience",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]
        ),
        .testTarget(
            name: "GatewayConfigTests",
            dependencies: ["GatewayConfig"]
        ),
        .testTarget(
            name: "HTTPCachingTests",
            dependencies: [
                "HTTPCaching",
                "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // Helpers several test targets use (real servers started on 127.0.0.1).
        .target(
            name: "TestSupport",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            path: "Tests/TestSupport"
        ),
        .testTarget(
            name: "RedisTests",
            dependencies: [
                "Redis",
                "RateLimiting",
                "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "ResilienceTests",
            dependencies: ["Resilience"]
        ),
        .testTarget(
            name: "RateLimitingTests",
            dependencies: ["RateLimiting", "TestSupport"]
        ),
        .testTarget(
            name: "AuthenticationTests",
            dependencies: [
                "Authentication",
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            // Read from the source tree by path (public RFC test vectors), not bundled.
            exclude: ["Vectors"]
        ),
        .testTarget(
            name: "CompressionTests",
            dependencies: ["Compression"]
        ),
        .testTarget(
            name: "LoadBalancingTests",
            dependencies: ["LoadBalancing"]
        ),
        .testTarget(
            name: "GatewayServerTests",
            dependencies: [
                "GatewayServer",
                "TestSupport",
                "GatewayConfig",
                "HTTPCaching",
                "Compression",
                "Authentication",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),
    ]
)

// libFuzzer entry points (fuzz/run.sh), one per attack surface. Added only when GATEWAY_FUZZ is
// set: each has no main of its own and links only with `--sanitize=fuzzer`, which a normal build
// or `swift test` does not use.
if Context.environment["GATEWAY_FUZZ"] != nil {
    let fuzzTargets: [(name: String, dependencies: [Target.Dependency])] = [
        ("FuzzConfig", ["GatewayConfig"]),
        ("FuzzCacheHeaders", ["HTTPCaching"]),
        ("FuzzRouter", ["GatewayConfig"]),
        ("FuzzRESP", ["Redis"]),
        ("FuzzJWT", ["Authentication", .product(name: "Crypto", package: "swift-crypto")]),
        ("FuzzHTTP1", ["GatewayServer", .product(name: "NIOCore", package: "swift-nio")]),
    ]
    package.targets += fuzzTargets.map { target in
        .executableTarget(name: target.name, dependencies: target.dependencies, path: "fuzz/targets/\(target.name)")
    }
}
