import Foundation
import NIOCore
import NIOPosix
import TestSupport
import XCTest

@testable import Redis

/// The cluster client against a real three-master Redis Cluster on 127.0.0.1.
final class RedisClusterClientTests: XCTestCase {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let incrby = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1])")

    override func tearDown() async throws {
        try await group.shutdownGracefully()
    }

    // MARK: - Helpers

    private func startCluster() async throws -> RedisClusterProcess {
        let cluster = RedisClusterProcess()
        try await cluster.start()
        return cluster
    }

    /// The client lives on its event loop; tests reach it through the loop-bound box only.
    private typealias Client = NIOLoopBound<RedisClusterClient>

    private func makeClient(
        seeds: [SocketAddress], on eventLoop: EventLoop, options: RedisConnection.Options = .init()
    ) async throws -> Client {
        try await eventLoop.submit {
            let client = RedisClusterClient(
                seeds: seeds, on: eventLoop, options: options,
                backoff: .init(initial: .milliseconds(20), maximum: .milliseconds(200)))
            return NIOLoopBound(client, eventLoop: eventLoop)
        }.get()
    }

    private func connectedClient(to cluster: RedisClusterProcess, on eventLoop: EventLoop) async throws -> Client {
        let client = try await makeClient(seeds: try cluster.addresses, on: eventLoop)
        try await eventLoop.flatSubmit { client.value.connect() }.get()
        return client
    }

    private func evaluate(
        _ client: Client, on eventLoop: EventLoop, _ script: RedisScript, keys: [String], arguments: [String]
    ) async throws -> RESPValue {
        try await eventLoop.flatSubmit { client.value.evaluate(script, keys: keys, arguments: arguments) }.get()
    }

    /// Admin commands on a connection of their own, so the client under test sees none of
    /// them; the last one's reply.
    @discardableResult
    private func commands(_ port: Int, _ commands: [[String]]) async throws -> RESPValue {
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: port)
        let connection = try await RedisConnection.connect(to: address, on: group.next()).get()
        defer { connection.close() }
        var reply = RESPValue.null
        for arguments in commands {
            reply = try await connection.send(arguments).get()
            if case .error(let message) = reply { XCTFail("\(arguments) on \(port): \(message)") }
        }
        return reply
    }

    @discardableResult
    private func command(_ port: Int, _ arguments: [String]) async throws -> RESPValue {
        try await commands(port, [arguments])
    }

    private func nodeID(_ port: Int) async throws -> String {
        try await command(port, ["CLUSTER", "MYID"]).string ?? ""
    }

    /// The port of the master the cluster itself says owns `slot`.
    private func ownerPort(ofSlot slot: Int, askingPort port: Int) async throws -> Int {
        let map = try ClusterSlotMap(slotsReply: try await command(port, ["CLUSTER", "SLOTS"]), askedHost: "127.0.0.1")
        return try XCTUnwrap(map.owner(ofSlot: slot)).port
    }

    private func commandStats(_ port: Int) async throws -> String {
        try await command(port, ["INFO", "commandstats"]).string ?? ""
    }

    /// The first steps of a resharding: the slot is importing on `target`, migrating on `source`,
    /// and `key` already lives on `target`.
    /// A client on `cluster`, a counter at 5 under `key`, and its slot being migrated from its
    /// owner (`source`) to another master (`target`).
    private func counterInMigration(_ key: String, in cluster: RedisClusterProcess) async throws -> (
        client: Client, eventLoop: EventLoop, key: String, slot: Int, source: Int, target: Int
    ) {
        let eventLoop = group.next()
        let ports = cluster.ports
        let client = try await connectedClient(to: cluster, on: eventLoop)
        let slot = HashSlot.slot(of: key)
        let reply = try await evaluate(client, on: eventLoop, incrby, keys: [key], arguments: ["5"])
        XCTAssertEqual(reply, .integer(5))
        let source = try await ownerPort(ofSlot: slot, askingPort: ports[0])
        let target = try XCTUnwrap(ports.first { $0 != source })
        try await beginMigration(slot: slot, key: key, from: source, to: target)
        return (client, eventLoop, key, slot, source, target)
    }

    private func beginMigration(slot: Int, key: String, from source: Int, to target: Int) async throws {
        let sourceID = try await nodeID(source)
        let targetID = try await nodeID(target)
        try await command(target, ["CLUSTER", "SETSLOT", String(slot), "IMPORTING", sourceID])
        try await command(source, ["CLUSTER", "SETSLOT", String(slot), "MIGRATING", targetID])
        let migrated = try await command(source, ["MIGRATE", "127.0.0.1", String(target), key, "0", "5000"])
        XCTAssertEqual(migrated, .simpleString("OK"))
    }

    /// The last step: every master is told the slot's new owner (the target first, as the
    /// resharding procedure says, so it bumps its epoch).
    private func finishMigration(slot: Int, to target: Int, ports: [Int]) async throws {
        let targetID = try await nodeID(target)
        for port in [target] + ports.filter({ $0 != target }) {
            try await command(port, ["CLUSTER", "SETSLOT", String(slot), "NODE", targetID])
        }
    }

    private func assertFailsFast(
        _ body: () async throws -> RESPValue, within limit: Duration, _ message: String,
        file: StaticString = #filePath, line: UInt = #line
    ) async {
        let started = ContinuousClock.now
        do {
            let reply = try await body()
            XCTFail("\(message): answered \(reply)", file: file, line: line)
        } catch {
            XCTAssertTrue(error is RedisError, "\(message): \(error)", file: file, line: line)
        }
        let elapsed = ContinuousClock.now - started
        XCTAssertLessThan(elapsed, limit, "\(message): took \(elapsed)", file: file, line: line)
    }

    // MARK: - Tests

    func testScriptsRunOnTheOwnerOfTheirKeysAndKeysSpreadOverAllMasters() async throws {
        let cluster = try await startCluster()
        defer { cluster.stop() }
        let eventLoop = group.next()
        let ports = cluster.ports
        // The first seed listens nowhere: discovery moves on to the next, which names all masters.
        let deadSeed = try SocketAddress(ipAddress: "127.0.0.1", port: try RedisServerProcess.freePort())
        let client = try await makeClient(seeds: [deadSeed, try cluster.addresses[1]], on: eventLoop)
        try await eventLoop.flatSubmit { client.value.connect() }.get()
        let connected = try await eventLoop.submit { client.value.isConnected }.get()
        XCTAssertTrue(connected)

        // 200 keys, all calls in flight at once, twice over.
        let keys = (0..<200).map { "{user\($0)}:hits" }
        let script = incrby
        for round in 0..<2 {
            let replies = try await eventLoop.flatSubmit {
                EventLoopFuture.whenAllSucceed(
                    keys.enumerated().map { index, key in
                        client.value.evaluate(script, keys: [key], arguments: [String(index + 1)])
                    }, on: eventLoop)
            }.get()
            XCTAssertEqual(replies, (0..<200).map { .integer(Int64(($0 + 1) * (round + 1))) })
        }
        var total: Int64 = 0
        for port in ports {
            let count = try await command(port, ["DBSIZE"]).integer ?? 0
            XCTAssertGreaterThan(count, 20, "every master holds some of the keys (\(port))")
            total += count
        }
        XCTAssertEqual(total, 200)
        for index in [0, 57, 199] {
            let key = keys[index]
            let owner = try await ownerPort(ofSlot: HashSlot.slot(of: key), askingPort: ports[0])
            let stored = try await command(owner, ["GET", key]).string
            XCTAssertEqual(stored, String((index + 1) * 2), "the value is on the slot's owner")
        }

        // Several keys with one hash tag: one slot, one call.
        let pair = RedisScript(
            "redis.call('SET', KEYS[1], ARGV[1]); redis.call('SET', KEYS[2], ARGV[1]); return redis.call('MGET', KEYS[1], KEYS[2])"
        )
        let both = try await evaluate(
            client, on: eventLoop, pair, keys: ["{user1000}.following", "{user1000}.followers"], arguments: ["x"])
        XCTAssertEqual(both, .array([.bulkString([120]), .bulkString([120])]))

        // A keyless script runs on any master; a script's own error is a reply, not a failure.
        let keyless = try await evaluate(client, on: eventLoop, RedisScript("return 7"), keys: [], arguments: [])
        XCTAssertEqual(keyless, .integer(7))
        let failing = try await evaluate(
            client, on: eventLoop, RedisScript("return redis.error_reply('ERR mine')"), keys: ["k"], arguments: [])
        XCTAssertEqual(failing, .error("ERR mine"))

        // The client's slot function agrees with the server's, tags and binary bytes included.
        var random = SplitMix64(seed: 7)
        let alphabet = Array("ab{}\u{7f}é0".utf8)
        for _ in 0..<100 {
            let key = String(
                decoding: (0..<Int(random.next() % 12)).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))]
                },
                as: UTF8.self)
            let server = try await command(ports[0], ["CLUSTER", "KEYSLOT", key]).integer
            XCTAssertEqual(server, Int64(HashSlot.slot(of: key)), "CLUSTER KEYSLOT \(key)")
        }
        try await eventLoop.submit { client.value.close() }.get()
    }

    func testMovedIsFollowedAndRemembered() async throws {
        let cluster = try await startCluster()
        defer { cluster.stop() }
        let (client, eventLoop, key, slot, source, target) = try await counterInMigration(
            "{moving}:counter", in: cluster)
        try await finishMigration(slot: slot, to: target, ports: cluster.ports)
        let knownOwner = try await eventLoop.submit { client.value.owner(ofSlot: slot)?.port }.get()
        XCTAssertEqual(knownOwner, source, "the client has not heard of the move yet")

        // A burst, all sent to the old owner: each is answered MOVED and retried on the new one,
        // and the burst costs at most two map refreshes, not one each.
        let refreshesBefore = try await eventLoop.submit { client.value.refreshesStarted }.get()
        let script = incrby
        let burst = try await eventLoop.flatSubmit {
            EventLoopFuture.whenAllSucceed(
                (0..<20).map { _ in client.value.evaluate(script, keys: [key], arguments: ["1"]) }, on: eventLoop)
        }.get()
        XCTAssertEqual(burst.compactMap(\.integer).sorted(), Array(6...25))
        let refreshesAfter = try await eventLoop.submit { client.value.refreshesStarted }.get()
        XCTAssertLessThanOrEqual(refreshesAfter - refreshesBefore, 2)
        let newOwner = try await eventLoop.submit { client.value.owner(ofSlot: slot)?.port }.get()
        XCTAssertEqual(newOwner, target)

        // From now on calls go straight to the new owner: the old one sees none of them.
        try await command(source, ["CONFIG", "RESETSTAT"])
        try await command(target, ["CONFIG", "RESETSTAT"])
        for expected in 26...30 {
            let reply = try await evaluate(client, on: eventLoop, incrby, keys: [key], arguments: ["1"])
            XCTAssertEqual(reply, .integer(Int64(expected)))
        }
        let sourceStats = try await commandStats(source)
        XCTAssertFalse(sourceStats.contains("cmdstat_evalsha"), sourceStats)
        let targetStats = try await commandStats(target)
        XCTAssertTrue(targetStats.contains("cmdstat_evalsha:calls=5,"), targetStats)
        let stored = try await command(target, ["GET", key]).string
        XCTAssertEqual(stored, "30")
        try await eventLoop.submit { client.value.close() }.get()
    }

    func testAskIsFollowedForOneCallWithoutChangingTheMap() async throws {
        let cluster = try await startCluster()
        defer { cluster.stop() }
        let (client, eventLoop, key, slot, source, target) = try await counterInMigration(
            "{asking}:counter", in: cluster)
        try await command(target, ["CONFIG", "RESETSTAT"])

        let reply2 = try await evaluate(client, on: eventLoop, incrby, keys: [key], arguments: ["2"])
        XCTAssertEqual(reply2, .integer(7), "the source answered ASK; the target ran it after ASKING")
        let reply3 = try await evaluate(client, on: eventLoop, incrby, keys: [key], arguments: ["3"])
        XCTAssertEqual(reply3, .integer(10))
        let owner = try await eventLoop.submit { client.value.owner(ofSlot: slot)?.port }.get()
        XCTAssertEqual(owner, source, "ASK does not change the map")
        let targetStats = try await commandStats(target)
        XCTAssertTrue(targetStats.contains("cmdstat_asking:calls=2,"), targetStats)
        // The target only serves the importing slot to a connection that said ASKING.
        let stored = try await commands(target, [["ASKING"], ["GET", key]]).string
        XCTAssertEqual(stored, "10")

        // Once the migration is done, MOVED takes over.
        try await finishMigration(slot: slot, to: target, ports: cluster.ports)
        let reply4 = try await evaluate(client, on: eventLoop, incrby, keys: [key], arguments: ["1"])
        XCTAssertEqual(reply4, .integer(11))
        let newOwner = try await eventLoop.submit { client.value.owner(ofSlot: slot)?.port }.get()
        XCTAssertEqual(newOwner, target)
        try await eventLoop.submit { client.value.close() }.get()
    }

    func testKeysInDifferentSlotsFailWithoutBeingSent() async throws {
        let cluster = try await startCluster()
        defer { cluster.stop() }
        let eventLoop = group.next()
        let ports = cluster.ports
        let keys = ["foo", "bar"]
        XCTAssertNotEqual(HashSlot.slot(of: keys[0]), HashSlot.slot(of: keys[1]))

        // Before any map is known, so the check cannot depend on a node.
        let unconnected = try await makeClient(seeds: try cluster.addresses, on: eventLoop)
        do {
            _ = try await evaluate(unconnected, on: eventLoop, incrby, keys: keys, arguments: ["1"])
            XCTFail("keys in two slots must fail")
        } catch RedisError.protocolError(let message) {
            XCTAssertTrue(message.hasPrefix("CROSSSLOT"), message)
        }
        do {
            _ = try await evaluate(unconnected, on: eventLoop, incrby, keys: ["foo"], arguments: ["1"])
            XCTFail("without a map nothing can be routed")
        } catch RedisError.unavailable {
        }

        let client = try await connectedClient(to: cluster, on: eventLoop)
        for port in ports { try await command(port, ["CONFIG", "RESETSTAT"]) }
        do {
            _ = try await evaluate(client, on: eventLoop, incrby, keys: keys, arguments: ["1"])
            XCTFail("keys in two slots must fail")
        } catch RedisError.protocolError(let message) {
            XCTAssertTrue(message.hasPrefix("CROSSSLOT"), message)
        }
        for port in ports {
            let stats = try await commandStats(port)
            XCTAssertFalse(stats.contains("cmdstat_evalsha"), stats)
            XCTAssertFalse(stats.contains("cmdstat_script"), stats)
        }
        try await eventLoop.submit {
            client.value.close()
            unconnected.value.close()
        }.get()
    }

    func testAKilledMasterFailsItsSlotsFastAndTheOthersKeepWorking() async throws {
        let cluster = try await startCluster()
        defer { cluster.stop() }
        let eventLoop = group.next()
        let ports = cluster.ports
        let timeout = TimeAmount.milliseconds(500)
        let client = try await makeClient(
            seeds: try cluster.addresses, on: eventLoop, options: .init(commandTimeout: timeout))
        try await eventLoop.flatSubmit { client.value.connect() }.get()

        // One key per master.
        var keyOf: [Int: String] = [:]
        var index = 0
        while keyOf.count < ports.count {
            let key = "{node\(index)}:n"
            let owner = try await ownerPort(ofSlot: HashSlot.slot(of: key), askingPort: ports[0])
            if keyOf[owner] == nil { keyOf[owner] = key }
            index += 1
        }
        for port in ports {
            let reply = try await evaluate(client, on: eventLoop, incrby, keys: [keyOf[port] ?? ""], arguments: ["1"])
            XCTAssertEqual(reply, .integer(1))
        }

        let dead = ports[0]
        let deadKey = keyOf[dead] ?? ""
        cluster.kill(port: dead)
        // Fast: well within the command timeout, and every time (no hang, no queueing).
        let limit = Duration.milliseconds(Int64(timeout.nanoseconds / 1_000_000))
        for attempt in 0..<5 {
            let script = incrby
            await assertFailsFast(
                {
                    try await eventLoop.flatSubmit { client.value.evaluate(script, keys: [deadKey], arguments: ["1"]) }
                        .get()
                },
                within: limit, "call \(attempt) for the dead master's slot")
            for port in ports.dropFirst() {
                let reply = try await evaluate(
                    client, on: eventLoop, incrby, keys: [keyOf[port] ?? ""], arguments: ["1"])
                XCTAssertEqual(reply, .integer(Int64(attempt + 2)), "the master on \(port) still answers")
            }
        }
        let connected = try await eventLoop.submit { client.value.isConnected }.get()
        XCTAssertFalse(connected, "a master is unreachable")
        do {
            try await eventLoop.flatSubmit { client.value.connect() }.get()
            XCTFail("connect cannot reach every master")
        } catch is RedisError {
        }
        try await eventLoop.submit { client.value.close() }.get()
        let liveKey = keyOf[ports[1]] ?? ""
        let script = incrby
        do {
            _ = try await eventLoop.flatSubmit { client.value.evaluate(script, keys: [liveKey], arguments: ["1"]) }
                .get()
            XCTFail("a closed client runs nothing")
        } catch RedisError.unavailable {
        }
    }

    func testASeedThatIsNotAClusterIsAnErrorNotACrash() async throws {
        let server = try RedisServerProcess()
        try await server.start()
        defer { server.stop() }
        let eventLoop = group.next()
        let client = try await makeClient(seeds: [try server.address], on: eventLoop)
        do {
            try await eventLoop.flatSubmit { client.value.connect() }.get()
            XCTFail("a server without cluster support has no slot map")
        } catch RedisError.unavailable(let message) {
            XCTAssertTrue(message.contains("cluster support disabled"), message)
        }
        let noSeeds = try await makeClient(seeds: [], on: eventLoop)
        do {
            try await eventLoop.flatSubmit { noSeeds.value.connect() }.get()
            XCTFail("nothing to ask")
        } catch RedisError.unavailable {
        }
        try await eventLoop.submit {
            client.value.close()
            noSeeds.value.close()
        }.get()
    }
}
