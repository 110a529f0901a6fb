import Foundation
import NIOCore
import NIOPosix
import TestSupport
import XCTest

@testable import Redis

/// The client against a real redis-server on 127.0.0.1.
final class RedisClientTests: XCTestCase {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    override func tearDown() async throws {
        try await group.shutdownGracefully()
    }

    private func onLoop<T: Sendable>(_ body: @escaping @Sendable () -> EventLoopFuture<T>) async throws -> T {
        try await group.next().flatSubmit(body).get()
    }

    func testCommandsArePipelinedAndAnsweredInOrder() async throws {
        let server = try RedisServerProcess()
        try await server.start()
        defer { server.stop() }
        let connection = try await RedisConnection.connect(to: try server.address, on: group.next()).get()
        let binary: [UInt8] = [0, 13, 10, 255]
        let set = try await connection.send([Array("SET".utf8), Array("bin".utf8), binary]).get()
        XCTAssertEqual(set, .simpleString("OK"))
        let reply1 = try await connection.send(["GET", "bin"]).get()

        XCTAssertEqual(reply1, .bulkString(binary))
        let reply2 = try await connection.send(["GET", "missing"]).get()

        XCTAssertEqual(reply2, .null)
        let reply3 = try await connection.send(["NOSUCHCOMMAND"]).get().string

        XCTAssertEqual(reply3, nil)
        // 1000 commands in flight at once: the replies come back in their order.
        let count = 1000
        let futures = try await connection.eventLoop.submit {
            (1...count).map { _ in connection.send(["INCR", "counter"]) }
        }.get()
        var values: [Int64] = []
        for future in futures { values.append(try await future.get().integer ?? -1) }
        XCTAssertEqual(values, Array(1...Int64(count)))
        connection.close()
    }

    func testAuthenticationAndDatabaseSelection() async throws {
        let server = try RedisServerProcess(extraArguments: ["--requirepass", "s3cret"])
        try await server.start()
        defer { server.stop() }
        do {
            _ = try await RedisConnection.connect(
                to: try server.address, on: group.next(), options: .init(password: "wrong")
            ).get()
            XCTFail("a wrong password must fail the connect")
        } catch let error as RedisError {
            guard case .handshakeFailed(let message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("WRONGPASS") || message.contains("invalid"), message)
        }
        let connection = try await RedisConnection.connect(
            to: try server.address, on: group.next(), options: .init(password: "s3cret", database: 3)
        ).get()
        _ = try await connection.send(["SET", "where", "db3"]).get()
        let check = try await RedisConnection.connect(
            to: try server.address, on: group.next(), options: .init(password: "s3cret", database: 0)
        ).get()
        let reply4 = try await check.send(["GET", "where"]).get()

        XCTAssertEqual(reply4, .null)
        let reply5 = try await check.send(["SELECT", "3"]).get()

        XCTAssertEqual(reply5, .simpleString("OK"))
        let reply6 = try await check.send(["GET", "where"]).get().string

        XCTAssertEqual(reply6, "db3")
        connection.close()
        check.close()
    }

    func testACommandThatTimesOutClosesTheConnection() async throws {
        let server = try RedisServerProcess(extraArguments: ["--enable-debug-command", "yes"])
        try await server.start()
        defer { server.stop() }
        let connection = try await RedisConnection.connect(
            to: try server.address, on: group.next(), options: .init(commandTimeout: .milliseconds(100))
        ).get()
        let slow = connection.send(["DEBUG", "SLEEP", "0.5"])
        let behind = connection.send(["PING"])
        do {
            _ = try await slow.get()
            XCTFail("DEBUG SLEEP must time out")
        } catch let error as RedisError {
            XCTAssertEqual(error, .timeout)
        }
        do {
            _ = try await behind.get()
            XCTFail("commands behind a timed-out one fail too")
        } catch let error as RedisError {
            XCTAssertEqual(error, .timeout)
        }
        try await connection.closeFuture.get()
    }

    func testScriptsLoadThemselvesAgainAfterAFlush() async throws {
        let server = try RedisServerProcess()
        try await server.start()
        defer { server.stop() }
        let eventLoop = group.next()
        let client = try await connectedClient(to: server, on: eventLoop)
        let script = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1])")
        let first = try await eventLoop.flatSubmit { client.value.evaluate(script, keys: ["k"], arguments: ["5"]) }
            .get()
        XCTAssertEqual(first, .integer(5))
        _ = try await eventLoop.flatSubmit { client.value.send(["SCRIPT", "FLUSH"]) }.get()
        let second = try await eventLoop.flatSubmit { client.value.evaluate(script, keys: ["k"], arguments: ["2"]) }
            .get()
        XCTAssertEqual(second, .integer(7), "NOSCRIPT is answered by loading the script again")
        try await eventLoop.submit { client.value.close() }.get()
    }

    func testRedisGoingAwayFailsFastAndTheClientReconnects() async throws {
        let server = try RedisServerProcess()
        try await server.start()
        let eventLoop = group.next()
        let address = try server.address
        let client = try await eventLoop.submit {
            NIOLoopBound(
                RedisClient(
                    address: address, on: eventLoop, options: .init(connectTimeout: .milliseconds(200)),
                    backoff: .init(initial: .milliseconds(20), maximum: .milliseconds(200))),
                eventLoop: eventLoop)
        }.get()
        try await eventLoop.flatSubmit { client.value.connect() }.get()
        let reply7 = try await eventLoop.flatSubmit { client.value.send(["PING"]) }.get()

        XCTAssertEqual(reply7, .simpleString("PONG"))

        server.kill()
        // Whatever is sent now fails promptly (connection closed, or unavailable): nothing hangs.
        for _ in 0..<3 {
            do {
                _ = try await eventLoop.flatSubmit { client.value.send(["PING"]) }.get()
                XCTFail("redis is gone")
            } catch let error as RedisError {
                switch error {
                case .connectionClosed, .unavailable: break
                default: XCTFail("\(error)")
                }
            }
        }

        try await server.start()
        // The server is up again (it said so): connecting now works, and so do commands.
        try await eventLoop.flatSubmit { client.value.connect() }.get()
        let afterRestart = try await eventLoop.flatSubmit { client.value.send(["PING"]) }.get()
        XCTAssertEqual(afterRestart, .simpleString("PONG"))
        try await eventLoop.submit { client.value.close() }.get()
        server.stop()
    }
}
