import GRPCCore
import GRPCNIOTransportHTTP2

/// UTF-8 strings as gRPC messages: the tests need real gRPC framing, metadata, trailers and
/// streaming, not protobuf, so no generated code is involved.
struct UTF8Coder: MessageSerializer, MessageDeserializer {
    func serialize<Bytes: GRPCContiguousBytes>(_ message: String) throws -> Bytes {
        Bytes(Array(message.utf8))
    }

    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> String {
        serializedMessageBytes.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
    }
}

/// The methods of the test service `echo.Echo`, one per RPC shape plus one that fails.
enum EchoMethod {
    static let unary = MethodDescriptor(fullyQualifiedService: "echo.Echo", method: "Unary")
    static let serverStream = MethodDescriptor(fullyQualifiedService: "echo.Echo", method: "ServerStream")
    static let clientStream = MethodDescriptor(fullyQualifiedService: "echo.Echo", method: "ClientStream")
    static let bidirectional = MethodDescriptor(fullyQualifiedService: "echo.Echo", method: "Bidirectional")
    static let fail = MethodDescriptor(fullyQualifiedService: "echo.Echo", method: "Fail")
}

/// A real gRPC server (grpc-swift-2 over its NIO HTTP/2 transport) on 127.0.0.1: h2c, or h2
/// over TLS with the given certificate and key files.
final class GRPCEchoServer: Sendable {
    let server: GRPCServer<HTTP2ServerTransport.Posix>
    let port: Int
    private let serving: Task<Void, any Error>

    init(tls: (cert: String, key: String)? = nil) async throws {
        let security: HTTP2ServerTransport.Posix.TransportSecurity =
            if let tls {
                .tls(
                    certificateChain: [.file(path: tls.cert, format: .pem)],
                    privateKey: .file(path: tls.key, format: .pem))
            } else {
                .plaintext
            }
        let transport = HTTP2ServerTransport.Posix(
            address: .ipv4(host: "127.0.0.1", port: 0), transportSecurity: security)
        let server = GRPCServer(transport: transport, router: Self.router())
        self.server = server
        serving = Task { try await server.serve() }
        port = try await transport.listeningAddress.ipv4?.port ?? 0
    }

    func stop() async {
        server.beginGracefulShutdown()
        _ = await serving.result
    }

    private static func router() -> RPCRouter<HTTP2ServerTransport.Posix> {
        var router = RPCRouter<HTTP2ServerTransport.Posix>()
        let coder = UTF8Coder()
        router.registerHandler(forMethod: EchoMethod.unary, deserializer: coder, serializer: coder) { request, _ in
            let message = try await ServerRequest(stream: request).message
            let seenTE = request.metadata[stringValues: "te"].map { $0 }.joined(separator: ",")
            return StreamingServerResponse(of: String.self, metadata: ["x-initial": "i1"]) { writer in
                try await writer.write("echo: \(message)")
                return ["x-trailer": "t1", "x-seen-te": .string(seenTE)]
            }
        }
        router.registerHandler(forMethod: EchoMethod.serverStream, deserializer: coder, serializer: coder) {
            request, _ in
            let message = try await ServerRequest(stream: request).message
            return StreamingServerResponse(of: String.self) { writer in
                for index in 0..<5 { try await writer.write("\(message) #\(index)") }
                return [:]
            }
        }
        router.registerHandler(forMethod: EchoMethod.clientStream, deserializer: coder, serializer: coder) {
            request, _ in
            var parts: [String] = []
            for try await message in request.messages { parts.append(message) }
            let joined = parts.joined(separator: "+")
            return StreamingServerResponse(of: String.self) { writer in
                try await writer.write(joined)
                return [:]
            }
        }
        router.registerHandler(forMethod: EchoMethod.bidirectional, deserializer: coder, serializer: coder) {
            request, _ in
            StreamingServerResponse(of: String.self) { writer in
                for try await message in request.messages { try await writer.write("bidi: \(message)") }
                return ["x-count": "done"]
            }
        }
        router.registerHandler(forMethod: EchoMethod.fail, deserializer: coder, serializer: coder) { _, _ in
            StreamingServerResponse(of: String.self, error: RPCError(code: .notFound, message: "no such order 42"))
        }
        return router
    }
}
