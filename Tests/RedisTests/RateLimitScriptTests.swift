import NIOCore
import NIOPosix
import RateLimiting
import TestSupport
import XCTest

@testable import Redis

/// The Lua scripts on a real redis-server make the same decisions as the local state machines,
/// step for step, on the same random sequences of times and costs.
final class RateLimitScriptTests: XCTestCase {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    override func tearDown() async throws {
        try await group.shutdownGracefully()
    }

    enum Algorithm: CaseIterable {
        case tokenBucket, gcra, fixedWindow, slidingWindow

        static let scripts: [Algorithm: RedisScript] = [
            .tokenBucket: RedisScript(RateLimitScripts.tokenBucket), .gcra: RedisScript(RateLimitScripts.gcra),
            .fixedWindow: RedisScript(RateLimitScripts.fixedWindow),
            .slidingWindow: RedisScript(RateLimitScripts.slidingWindow),
        ]

        var script: RedisScript { Self.scripts[self] ?? RedisScript("") }
    }

    func testScriptsDecideLikeTheStateMachines() async throws {
        let server = try RedisServerProcess()
        try await server.start()
        defer { server.stop() }
        let eventLoop = group.next()
        let client = try await connectedClient(to: server, on: eventLoop)

        let limits = [
            RateLimit(amount: 10, periodMilliseconds: 1000, burst: 20),
            RateLimit(amount: 7, periodMilliseconds: 60_000, burst: 3),
            RateLimit(amount: 1000, periodMilliseconds: 1000),
        ]
        var seed: UInt64 = 1
        for algorithm in Algorithm.allCases {
            for (index, limit) in limits.enumerated() {
                seed += 1
                var random = SplitMix64(seed: seed)
                // A realistic epoch time, so the scaled values are as large as in production.
                var now: Int64 = 1_796_083_200_000 + Int64(random.next() % 100_000)
                var bucket = TokenBucket(limit: limit, now: now)
                var gcra = GCRA(limit: limit)
                var fixed = FixedWindow(limit: limit)
                var sliding = SlidingWindow(limit: limit)
                let key = "test:\(algorithm):\(index)"
                for step in 0..<300 {
                    now += Int64(random.next() % (UInt64(limit.periodMilliseconds) / 8 + 1))
                    let cost = Int(random.next() % 3) + 1
                    let local: RateLimitDecision
                    switch algorithm {
                    case .tokenBucket: local = bucket.take(cost: cost, now: now)
                    case .gcra: local = gcra.take(cost: cost, now: now)
                    case .fixedWindow: local = fixed.take(cost: cost, now: now)
                    case .slidingWindow: local = sliding.take(cost: cost, now: now)
                    }
                    let arguments = [
                        String(limit.amount), String(limit.periodMilliseconds), String(limit.burst), String(cost),
                        String(now),
                    ]
                    let script = algorithm.script
                    let reply = try await eventLoop.flatSubmit {
                        client.value.evaluate(script, keys: [key], arguments: arguments)
                    }.get()
                    guard let values = reply.array?.compactMap(\.integer), values.count == 5 else {
                        return XCTFail("\(algorithm) answered \(reply)")
                    }
                    let remote = RateLimitDecision(
                        allowed: values[0] == 1, limit: Int(values[1]), remaining: Int(values[2]),
                        resetMilliseconds: values[3], retryAfterMilliseconds: values[4])
                    XCTAssertEqual(remote, local, "\(algorithm) limit \(index) step \(step) at \(now) cost \(cost)")
                    if remote != local { return }
                }
            }
        }
        try await eventLoop.submit { client.value.close() }.get()
    }

    func testScriptsUseRedisTimeAndExpireTheirKeys() async throws {
        let server = try RedisServerProcess()
        try await server.start()
        defer { server.stop() }
        let eventLoop = group.next()
        let client = try await connectedClient(to: server, on: eventLoop)
        for (name, script) in [
            ("tb", RateLimitScripts.tokenBucket), ("gcra", RateLimitScripts.gcra),
            ("fixed", RateLimitScripts.fixedWindow), ("sliding", RateLimitScripts.slidingWindow),
        ] {
            let reply = try await eventLoop.flatSubmit {
                client.value.evaluate(RedisScript(script), keys: ["time:\(name)"], arguments: ["5", "1000", "5", "1"])
            }.get()
            XCTAssertEqual(reply.array?.first, .integer(1), name)
            let ttl =
                try await eventLoop.flatSubmit { client.value.send(["PTTL", "time:\(name)"]) }.get().integer ?? -1
            XCTAssertGreaterThan(ttl, 0, "\(name) keys expire")
            XCTAssertLessThanOrEqual(ttl, 3000, name)
        }
        try await eventLoop.submit { client.value.close() }.get()
    }

    /// Approximate mode's sync script: nodes' counts add up per window, the reply carries the
    /// current and previous window, older windows are dropped, and the key expires.
    func testWindowCounterSyncAddsUpTheNodesCounts() async throws {
        let server = try RedisServerProcess()
        try await server.start()
        defer { server.stop() }
        let eventLoop = group.next()
        let client = try await connectedClient(to: server, on: eventLoop)
        let script = RedisScript(RateLimitScripts.windowCounterSync)
        func sync(now: Int64?, _ counts: [(Int64, Int)]) async throws -> [Int64] {
            let arguments = ["1000", now.map { String($0) } ?? ""] + counts.flatMap { [String($0.0), String($0.1)] }
            let reply = try await eventLoop.flatSubmit {
                client.value.evaluate(script, keys: ["rla:{k}"], arguments: arguments)
            }.get()
            return reply.array?.compactMap(\.integer) ?? []
        }
        let first = try await sync(now: 5_100, [(5_000, 3)])
        XCTAssertEqual(first, [5_100, 3, 0])
        let second = try await sync(now: 5_200, [(5_000, 4), (4_000, 2)])
        XCTAssertEqual(second, [5_200, 7, 2], "a node's late count for the previous window is kept")
        let nothing = try await sync(now: 6_300, [])
        XCTAssertEqual(nothing, [6_300, 0, 7], "a sync with nothing to add still reads the totals")
        let fields = try await eventLoop.flatSubmit { client.value.send(["HKEYS", "rla:{k}"]) }.get()
        XCTAssertEqual(fields.array?.compactMap(\.string), ["5000"], "windows older than the previous one are dropped")
        let ttl = try await eventLoop.flatSubmit { client.value.send(["PTTL", "rla:{k}"]) }.get().integer ?? -1
        XCTAssertGreaterThan(ttl, 2_000)
        XCTAssertLessThanOrEqual(ttl, 3_000)
        let clock = try await sync(now: nil, [])
        XCTAssertGreaterThan(clock.first ?? 0, 1_700_000_000_000, "without a time the script uses Redis TIME")
        try await eventLoop.submit { client.value.close() }.get()
    }
}
