import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import XCTest

/// The development CA and certificates from `certs/gen-dev-certs.sh`, made once per test run in
/// a temporary directory (the script is what users run, so the tests run it too).
enum DevCertificates {
    private static let made = NIOLockedValueBox<String?>(nil)

    static func directory() throws -> String {
        try made.withLockedValue { existing in
            if let existing { return existing }
            let directory = try generate()
            existing = directory
            return directory
        }
    }

    /// Runs the script into `directory` (default: a new temporary one) and returns it; each run
    /// into a new directory makes a new CA, unrelated to any other.
    @discardableResult
    static func generate(into directory: String? = nil) throws -> String {
        let target = directory ?? NSTemporaryDirectory() + "gateway-test-certs-\(UUID().uuidString)"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [
            GatewayProcess.repositoryRoot.appendingPathComponent("certs/gen-dev-certs.sh").path, target,
        ]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // A short-lived child that only writes files: waiting on its pid is safe here.
        var status: Int32 = 0
        while waitpid(process.processIdentifier, &status, 0) == -1 && errno == EINTR {}
        guard FileManager.default.fileExists(atPath: target + "/api.crt") else {
            throw TestTimeout(what: "certs/gen-dev-certs.sh to write certificates (status \(status))")
        }
        return target
    }

    static func path(_ file: String) throws -> String {
        try directory() + "/" + file
    }
}

/// A TLS client on raw bytes: the test sees the certificate the server chose, the protocol
/// version and ALPN, and exactly the bytes of the response.
final class TLSClient: Sendable {
    let channel: Channel
    private let received: NIOLockedValueBox<String>
    private let handshake: EventLoopPromise<String?>
    private let details: NIOLockedValueBox<HandshakeDetails>

    struct Options {
        var serverName: String?
        var maximumVersion: TLSVersion? = nil
        var minimumVersion: TLSVersion = .tlsv1
        var alpn: [String] = []
    }

    static func connect(port: Int, group: EventLoopGroup, options: Options) async throws -> TLSClient {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(DevCertificates.path("ca.crt")))
        // The tests check which certificate came back themselves, names the CA did not sign included.
        configuration.certificateVerification = .noHostnameVerification
        configuration.minimumTLSVersion = options.minimumVersion
        configuration.maximumTLSVersion = options.maximumVersion
        configuration.applicationProtocols = options.alpn
        let context = try NIOSSLContext(configuration: configuration)
        let received = NIOLockedValueBox("")
        let handshake = group.next().makePromise(of: String?.self)
        let details = NIOLockedValueBox(HandshakeDetails())
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        try NIOSSLClientHandler(context: context, serverHostname: options.serverName))
                    try channel.pipeline.syncOperations.addHandler(
                        TextCollector(received: received, handshake: handshake, details: details))
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
        return TLSClient(channel: channel, received: received, handshake: handshake, details: details)
    }

    private init(
        channel: Channel, received: NIOLockedValueBox<String>, handshake: EventLoopPromise<String?>,
        details: NIOLockedValueBox<HandshakeDetails>
    ) {
        self.channel = channel
        self.received = received
        self.handshake = handshake
        self.details = details
    }

    /// Sends a request with `Connection: close` and returns everything until the server closes.
    func exchange(_ request: String) async throws -> String {
        try await channel.writeAndFlush(ByteBuffer(string: request))
        try await bounded(channel.closeFuture, "the TLS server to close").get()
        return received.withLockedValue { $0 }
    }

    /// The certificate the server presented, kept from the handshake (the connection may be gone).
    func peerCertificate() async throws -> NIOSSLCertificate? {
        _ = try await bounded(handshake.futureResult, "the TLS handshake").get()
        return details.withLockedValue { $0.certificate }
    }

    func tlsVersion() async throws -> TLSVersion? {
        _ = try await bounded(handshake.futureResult, "the TLS handshake").get()
        return details.withLockedValue { $0.version }
    }

    /// The ALPN protocol the handshake settled on (nil: none); waits for the handshake.
    func negotiatedProtocol() async throws -> String? {
        try await bounded(handshake.futureResult, "the TLS handshake").get()
    }
}

struct HandshakeDetails: Sendable {
    var certificate: NIOSSLCertificate?
    var version: TLSVersion?
}

private final class TextCollector: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private let received: NIOLockedValueBox<String>
    private let handshake: EventLoopPromise<String?>
    private let details: NIOLockedValueBox<HandshakeDetails>

    init(
        received: NIOLockedValueBox<String>, handshake: EventLoopPromise<String?>,
        details: NIOLockedValueBox<HandshakeDetails>
    ) {
        self.received = received
        self.handshake = handshake
        self.details = details
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted(let negotiatedProtocol) = event {
            let handler = try? context.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self)
            details.withLockedValue {
                $0.certificate = handler?.peerCertificate
                $0.version = handler?.tlsVersion
            }
            handshake.succeed(negotiatedProtocol)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        handshake.fail(ChannelError.eof)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let text = String(buffer: unwrapInboundIn(data))
        received.withLockedValue { $0 += text }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        handshake.fail(error)
        context.close(promise: nil)
    }
}
