import XCTest

@testable import Redis

/// CLUSTER SLOTS replies, as Redis 7 sends them and as they must never be (each malformed
/// shape is an error, not a crash), and MOVED/ASK replies.
final class ClusterSlotMapTests: XCTestCase {
    private func bulk(_ text: String) -> RESPValue { .bulkString(Array(text.utf8)) }

    private func node(_ host: String, _ port: Int64, _ id: String = "0123abcd") -> RESPValue {
        // Redis 7 adds a (here empty) list of networking metadata after the id.
        .array([bulk(host), .integer(port), bulk(id), .array([])])
    }

    private func range(_ start: Int64, _ end: Int64, _ master: RESPValue, replicas: [RESPValue] = []) -> RESPValue {
        .array([.integer(start), .integer(end), master] + replicas)
    }

    func testAThreeMasterReply() throws {
        let reply = RESPValue.array([
            range(5461, 10922, node("127.0.0.1", 7001), replicas: [node("127.0.0.1", 7004)]),
            range(0, 5460, node("127.0.0.1", 7000), replicas: [node("127.0.0.1", 7003)]),
            range(10923, 16383, node("127.0.0.1", 7002)),
        ])
        let map = try ClusterSlotMap(slotsReply: reply, askedHost: "10.0.0.9")
        let nodes = try [7001, 7000, 7002].map { try ClusterNode(host: "127.0.0.1", port: $0) }
        XCTAssertEqual(map.nodes, nodes, "masters only, in the reply's order")
        XCTAssertEqual(map.owner(ofSlot: 0), nodes[1])
        XCTAssertEqual(map.owner(ofSlot: 5460), nodes[1])
        XCTAssertEqual(map.owner(ofSlot: 5461), nodes[0])
        XCTAssertEqual(map.owner(ofSlot: 10922), nodes[0])
        XCTAssertEqual(map.owner(ofSlot: 10923), nodes[2])
        XCTAssertEqual(map.owner(ofSlot: 16383), nodes[2])
        XCTAssertNil(map.owner(ofSlot: 16384))
        XCTAssertNil(map.owner(ofSlot: -1))
        XCTAssertEqual(map.owner(ofSlot: 0)?.address.port, 7000)
    }

    func testOneNodeServingSeveralRangesAndGaps() throws {
        let reply = RESPValue.array([
            range(0, 99, node("127.0.0.1", 7000)), range(200, 299, node("127.0.0.1", 7000)),
            range(100, 100, node("::1", 7001)),
        ])
        let map = try ClusterSlotMap(slotsReply: reply, askedHost: "127.0.0.1")
        XCTAssertEqual(map.nodes.count, 2)
        XCTAssertEqual(map.owner(ofSlot: 250)?.port, 7000)
        XCTAssertEqual(map.owner(ofSlot: 100)?.description, "[::1]:7001")
        XCTAssertNil(map.owner(ofSlot: 101), "a slot nobody serves has no owner")
        XCTAssertNil(map.owner(ofSlot: 16383))
    }

    func testAnEmptyOrNullHostMeansTheHostAskedAndUnknownMeansUnreachable() throws {
        let reply = RESPValue.array([
            range(0, 10, .array([bulk(""), .integer(7000), bulk("a")])),
            range(11, 20, .array([.null, .integer(7001), bulk("b")])),
            range(21, 30, node("?", 7002)),
        ])
        let map = try ClusterSlotMap(slotsReply: reply, askedHost: "192.0.2.7")
        XCTAssertEqual(map.owner(ofSlot: 5)?.description, "192.0.2.7:7000")
        XCTAssertEqual(map.owner(ofSlot: 15)?.description, "192.0.2.7:7001")
        XCTAssertNil(map.owner(ofSlot: 25))
    }

    func testMalformedRepliesAreErrors() {
        let good = node("127.0.0.1", 7000)
        let cases: [(String, RESPValue)] = [
            ("error reply", .error("ERR This instance has cluster support disabled")),
            ("not an array", .integer(3)),
            ("a string", bulk("0 16383 127.0.0.1 7000")),
            ("null", .null),
            ("no slots at all", .array([])),
            ("entry not an array", .array([.integer(0)])),
            ("entry without master", .array([.array([.integer(0), .integer(16383)])])),
            ("start as a string", .array([.array([bulk("0"), .integer(16383), good])])),
            ("end missing type", .array([.array([.integer(0), .null, good])])),
            ("end before start", .array([range(10, 9, good)])),
            ("negative start", .array([range(-1, 9, good)])),
            ("end past the last slot", .array([range(0, 16384, good)])),
            ("master not an array", .array([range(0, 16383, bulk("127.0.0.1:7000"))])),
            ("master without port", .array([range(0, 16383, .array([bulk("127.0.0.1")]))])),
            ("host an integer", .array([range(0, 16383, .array([.integer(127), .integer(7000)]))])),
            ("host an array", .array([range(0, 16383, .array([.array([]), .integer(7000)]))])),
            ("port a string", .array([range(0, 16383, .array([bulk("127.0.0.1"), bulk("7000")]))])),
            ("port zero", .array([range(0, 16383, node("127.0.0.1", 0))])),
            ("port too big", .array([range(0, 16383, node("127.0.0.1", 70000))])),
            ("port huge", .array([range(0, 16383, node("127.0.0.1", .max))])),
            ("port negative", .array([range(0, 16383, node("127.0.0.1", -6379))])),
            ("id an integer", .array([range(0, 16383, .array([bulk("127.0.0.1"), .integer(7000), .integer(1)]))])),
            ("hostname", .array([range(0, 16383, node("redis-1.internal", 7000))])),
            ("overlapping ranges", .array([range(0, 100, good), range(100, 200, node("127.0.0.1", 7001))])),
            ("a range inside another", .array([range(0, 16383, good), range(5, 6, good)])),
            ("only unknown endpoints", .array([range(0, 16383, node("?", 7000))])),
        ]
        for (name, reply) in cases {
            XCTAssertThrowsError(try ClusterSlotMap(slotsReply: reply, askedHost: "127.0.0.1"), name) { error in
                guard case RedisError.protocolError = error else { return XCTFail("\(name): \(error)") }
            }
        }
    }

    func testAMovedSlotIsReassigned() throws {
        var map = try ClusterSlotMap(
            slotsReply: .array([range(0, 16383, node("127.0.0.1", 7000))]), askedHost: "127.0.0.1")
        let other = try ClusterNode(host: "127.0.0.1", port: 7001)
        map.assign(slot: 42, to: other)
        XCTAssertEqual(map.owner(ofSlot: 42), other)
        XCTAssertEqual(map.owner(ofSlot: 43)?.port, 7000)
        XCTAssertEqual(map.nodes.count, 2)
        map.assign(slot: 43, to: other)
        XCTAssertEqual(map.nodes.count, 2, "a known node is not added twice")
        map.assign(slot: 99999, to: other)
    }

    func testRedirections() throws {
        let replier = try ClusterNode(host: "10.1.1.1", port: 7000)
        XCTAssertEqual(
            try ClusterRedirection(error: "MOVED 3999 127.0.0.1:6381", replier: replier),
            .moved(slot: 3999, node: try ClusterNode(host: "127.0.0.1", port: 6381)))
        XCTAssertEqual(
            try ClusterRedirection(error: "ASK 0 127.0.0.1:6382", replier: replier),
            .ask(slot: 0, node: try ClusterNode(host: "127.0.0.1", port: 6382)))
        XCTAssertEqual(
            try ClusterRedirection(error: "MOVED 16383 :6380", replier: replier),
            .moved(slot: 16383, node: try ClusterNode(host: "10.1.1.1", port: 6380)))
        XCTAssertEqual(
            try ClusterRedirection(error: "MOVED 1 ::1:6380", replier: replier),
            .moved(slot: 1, node: try ClusterNode(host: "::1", port: 6380)))
        for other in ["ERR unknown command", "NOSCRIPT No matching script", "TRYAGAIN", "MOVEDX 1 a:1", ""] {
            XCTAssertNil(try ClusterRedirection(error: other, replier: replier), other)
        }
        for malformed in [
            "MOVED", "MOVED 3999", "MOVED x 127.0.0.1:6381", "MOVED 16384 127.0.0.1:6381", "MOVED -1 127.0.0.1:1",
            "ASK 1 127.0.0.1", "ASK 1 127.0.0.1:", "ASK 1 127.0.0.1:0", "ASK 1 127.0.0.1:99999",
            "MOVED 1 127.0.0.1:6381 extra", "MOVED 1 host.example:6381",
        ] {
            XCTAssertThrowsError(try ClusterRedirection(error: malformed, replier: replier), malformed) { error in
                guard case RedisError.protocolError = error else { return XCTFail("\(malformed): \(error)") }
            }
        }
    }
}
