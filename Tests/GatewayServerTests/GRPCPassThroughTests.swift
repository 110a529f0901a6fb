import GRPCCore
import GRPCNIOTransportHTTP2
import GatewayConfig
import NIOCore
import NIOPosix
import XCTest

/// gRPC through the gateway, end to end with real grpc-swift-2 clients and servers: an h2c client
/// connection to the gateway, each call forwarded as an HTTP/2 stream to an upstream declared
/// `protocol: h2c`, trailers and streaming intact, and the gateway's own errors in gRPC form.
final class GRPCPassThroughTests: XCTestCase {
    private var upstream: GRPCEchoServer!
    private var gateway: TestGateway!
    private static let coder = UTF8Coder()
    private static var options: CallOptions {
        var options = CallOptions.defaults
        options.timeout = .seconds(15)
        return options
    }

    override func setUp() async throws {
        upstream = try await GRPCEchoServer()
        // A port that refuses connections: bound, then closed.
        let closed = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let deadPort = closed.localAddress?.port ?? 1
        try await closed.close()
        gateway = try await TestGateway.start(
            upstreams: [
                UpstreamConfig(
                    name: "echo",
                    endpoints: [EndpointConfig(address: HostPort(host: "127.0.0.1", port: upstream.port))],
                    protocolVersion: .h2c),
                UpstreamConfig(
                    name: "down", endpoints: [EndpointConfig(address: HostPort(host: "127.0.0.1", port: deadPort))],
                    protocolVersion: .h2c),
            ],
            routes: [
                prefixRoute("echo", "/echo.Echo/", upstream: "echo"),
                prefixRoute("down", "/down.Service/", upstream: "down"),
            ],
            listener: ListenerConfig(
                name: "test", address: HostPort(host: "127.0.0.1", port: 0), protocols: [.http1, .h2c]))
    }

    override func tearDown() async throws {
        await gateway?.stop()
        await upstream.stop()
    }

    /// A client connected to a gateway (never to the upstream directly): this test's, or the one on `port`.
    private func withClient<Result: Sendable>(
        port: Int? = nil, _ body: @Sendable (GRPCClient<HTTP2ClientTransport.Posix>) async throws -> Result
    ) async throws -> Result {
        let transport = try HTTP2ClientTransport.Posix(
            target: .ipv4(address: "127.0.0.1", port: port ?? gateway.port), transportSecurity: .plaintext)
        return try await withGRPCClient(transport: transport) { client in try await body(client) }
    }

    /// One unary call with the string coder and a 15 s deadline: the response as it came.
    private static func unary(
        _ client: GRPCClient<HTTP2ClientTransport.Posix>, _ message: String, _ method: MethodDescriptor
    ) async throws -> ClientResponse<String> {
        try await client.unary(
            request: ClientRequest(message: message), descriptor: method, serializer: coder, deserializer: coder,
            options: options
        ) { $0 }
    }

    /// The status a unary call ended with, or nil if it succeeded.
    private static func failure(of response: ClientResponse<String>) -> RPCError? {
        do {
            _ = try response.message
            return nil
        } catch {
            return error as? RPCError
        }
    }

    func testUnaryCallKeepsMetadataAndTrailers() async throws {
        let response = try await withClient { client in try await Self.unary(client, "order 7", EchoMethod.unary) }
        XCTAssertEqual(try response.message, "echo: order 7")
        XCTAssertEqual(Array(response.metadata[stringValues: "x-initial"]), ["i1"])
        // Trailers came through the gateway as trailers (grpc-status too, or the call would fail).
        XCTAssertEqual(Array(response.trailingMetadata[stringValues: "x-trailer"]), ["t1"])
        XCTAssertEqual(Array(response.trailingMetadata[stringValues: "x-seen-te"]), ["trailers"])
        XCTAssertFalse(response.metadata[stringValues: "x-request-id"].map { $0 }.isEmpty)
    }

    func testBidirectionalStreamingIsInterleaved() async throws {
        let coder = Self.coder
        let options = Self.options
        // The client sends message n+1 only after the echo of message n came back: if the gateway
        // buffered either direction until its end, this would never finish.
        let (echoes, echoSeen) = AsyncStream.makeStream(of: String.self)
        let received = try await withClient { client in
            try await client.bidirectionalStreaming(
                request: StreamingClientRequest(of: String.self) { writer in
                    var iterator = echoes.makeAsyncIterator()
                    for index in 0..<20 {
                        try await writer.write("m\(index)")
                        guard await iterator.next() != nil else { return }
                    }
                },
                descriptor: EchoMethod.bidirectional, serializer: coder, deserializer: coder, options: options
            ) { response in
                var all: [String] = []
                for try await message in response.messages {
                    all.append(message)
                    echoSeen.yield(message)
                }
                echoSeen.finish()
                return all
            }
        }
        XCTAssertEqual(received, (0..<20).map { "bidi: m\($0)" })
    }

    func testServerAndClientStreaming() async throws {
        let coder = Self.coder
        let options = Self.options
        let (streamed, joined) = try await withClient { client in
            let streamed = try await client.serverStreaming(
                request: ClientRequest(message: "tick"), descriptor: EchoMethod.serverStream, serializer: coder,
                deserializer: coder, options: options
            ) { response in
                var all: [String] = []
                for try await message in response.messages { all.append(message) }
                return all
            }
            let joined = try await client.clientStreaming(
                request: StreamingClientRequest(of: String.self) { writer in
                    for part in ["a", "b", "c"] { try await writer.write(part) }
                },
                descriptor: EchoMethod.clientStream, serializer: coder, deserializer: coder, options: options
            ) { try $0.message }
            return (streamed, joined)
        }
        XCTAssertEqual(streamed, (0..<5).map { "tick #\($0)" })
        XCTAssertEqual(joined, "a+b+c")
    }

    func testUpstreamStatusAndMessagePassThrough() async throws {
        let error = try await withClient { client in
            Self.failure(of: try await Self.unary(client, "x", EchoMethod.fail))
        }
        XCTAssertEqual(error?.code, .notFound)
        XCTAssertEqual(error?.message, "no such order 42")
    }

    func testGatewayErrorsAreAnsweredInGRPCForm() async throws {
        let (unavailable, unimplemented) = try await withClient { client in
            // The upstream's only endpoint refuses connections: the gateway's 502 becomes UNAVAILABLE.
            let unavailable = Self.failure(
                of: try await Self.unary(
                    client, "x", MethodDescriptor(fullyQualifiedService: "down.Service", method: "Call")))
            // No route: 404 becomes UNIMPLEMENTED.
            let unimplemented = Self.failure(
                of: try await Self.unary(
                    client, "x", MethodDescriptor(fullyQualifiedService: "nowhere.Service", method: "Call")))
            return (unavailable, unimplemented)
        }
        XCTAssertEqual(unavailable?.code, .unavailable)
        XCTAssertEqual(unavailable?.message, "The upstream could not be reached.")
        XCTAssertEqual(unimplemented?.code, .unimplemented)
        XCTAssertEqual(unimplemented?.message, "No route matches this request.")
    }

    func testUpstreamOverTLSWithProtocolH2() async throws {
        let tlsUpstream = try await GRPCEchoServer(
            tls: (try DevCertificates.path("origin.crt"), try DevCertificates.path("origin.key")))
        let tlsGateway = try await TestGateway.start(
            upstreams: [
                UpstreamConfig(
                    name: "echo",
                    endpoints: [EndpointConfig(address: HostPort(host: "127.0.0.1", port: tlsUpstream.port))],
                    protocolVersion: .h2,
                    tls: UpstreamTLSConfig(
                        caPath: try DevCertificates.path("ca.crt"), serverName: "origin.example.test"))
            ],
            routes: [prefixRoute("echo", "/echo.Echo/", upstream: "echo")],
            listener: ListenerConfig(name: "test", address: HostPort(host: "127.0.0.1", port: 0), protocols: [.h2c]))
        let result: Result<String, any Error>
        do {
            let reply = try await withClient(port: tlsGateway.port) { client in
                try await Self.unary(client, "secure", EchoMethod.unary).message
            }
            result = .success(reply)
        } catch {
            result = .failure(error)
        }
        await tlsGateway.stop()
        await tlsUpstream.stop()
        XCTAssertEqual(try result.get(), "echo: secure")
    }

    func testTwoHundredConcurrentCallsAllAnswered() async throws {
        let replies = try await withClient { client in
            try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<200 {
                    group.addTask { try await Self.unary(client, "n\(index)", EchoMethod.unary).message }
                }
                var all: [String] = []
                for try await reply in group { all.append(reply) }
                return all
            }
        }
        XCTAssertEqual(Set(replies), Set((0..<200).map { "echo: n\($0)" }))
    }
}
