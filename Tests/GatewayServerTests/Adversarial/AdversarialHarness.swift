import GatewayConfig
import NIOCore
import NIOPosix
import XCTest

/// A gateway in front of a recording origin, and a way to send it exact bytes: each attack is sent
/// followed by a well-formed probe request that closes the connection, so the answer tells both
/// what the attack got and whether the connection stayed usable (two answers) or was closed after
/// it (one), and the origin's log tells what, if anything, got through.
final class AdversarialHarness {
    struct Outcome {
        let text: String
        /// Status codes of every response on the connection, in order.
        let statuses: [Int]
        /// Requests the origin received for this exchange.
        let reachedOrigin: [ScriptedOrigin.Request]

        var keptOpen: Bool { statuses.count == 2 }
    }

    static let probe: [UInt8] = Array("GET /probe HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n".utf8)

    let origin: ScriptedOrigin
    let gateway: TestGateway
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    init(routes: [RouteConfig]? = nil, listener: ListenerConfig? = nil) async throws {
        origin = try await ScriptedOrigin { request in .init(body: "origin saw \(request.method) \(request.uri)") }
        gateway = try await TestGateway.start(
            upstreams: [
                UpstreamConfig(
                    name: "app", endpoints: [EndpointConfig(address: HostPort(host: "127.0.0.1", port: origin.port))])
            ],
            routes: routes ?? [prefixRoute("all", "/", upstream: "app")],
            listener: listener
                ?? ListenerConfig(
                    name: "t", address: HostPort(host: "127.0.0.1", port: 0),
                    timeouts: ListenerTimeouts(headerRead: .seconds(2), bodyRead: .seconds(2))))
    }

    func stop() async {
        await gateway.stop()
        await origin.stop()
        try? await group.shutdownGracefully()
    }

    /// Sends `attack` then the probe in one write, and reads until the gateway closes.
    func send(_ attack: [UInt8]) async throws -> Outcome {
        let before = origin.requestCount
        let raw = try await RawClient.connect(port: gateway.port, group: group)
        try await raw.send(bytes: attack + Self.probe)
        let text = try await raw.readUntilClosed()
        let statuses = text.components(separatedBy: "HTTP/1.1 ").dropFirst().compactMap { Int($0.prefix(3)) }
        return Outcome(text: text, statuses: statuses, reachedOrigin: Array(origin.requests.dropFirst(before)))
    }

    func send(_ attack: String) async throws -> Outcome {
        try await send(Array(attack.utf8))
    }
}

/// Asserts the attack got `status`, the connection closed right after it, and nothing but the
/// probe (never sent, since the connection closed) reached the origin.
func assertRefusedAndClosed(
    _ outcome: AdversarialHarness.Outcome, _ status: Int, _ label: String, file: StaticString = #filePath,
    line: UInt = #line
) {
    XCTAssertEqual(outcome.statuses, [status], "\(label): \(outcome.text)", file: file, line: line)
    XCTAssertEqual(outcome.reachedOrigin.count, 0, "\(label) reached the origin", file: file, line: line)
}
