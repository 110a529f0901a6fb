import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// An HTTPS upstream on 127.0.0.1 with a certificate from the dev CA (`origin.crt`: origin.example.test
/// and 127.0.0.1). With `requireClientCertificate` it asks for one signed by the dev CA (mTLS) and
/// answers with the client's common name in `x-client`.
final class TLSUpstream: Sendable {
    let group: MultiThreadedEventLoopGroup
    let channel: Channel
    var port: Int { channel.localAddress?.port ?? 0 }

    /// `certificate`: a name from certs/gen-dev-certs.sh (`origin` also carries 127.0.0.1; `api` only names).
    init(certificate: String = "origin", requireClientCertificate: Bool = false) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.group = group
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(DevCertificates.path("\(certificate).crt")).map {
                .certificate($0)
            },
            privateKey: .privateKey(
                try NIOSSLPrivateKey(file: DevCertificates.path("\(certificate).key"), format: .pem)))
        if requireClientCertificate {
            configuration.certificateVerification = .noHostnameVerification
            configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(DevCertificates.path("ca.crt")))
        }
        let context = try NIOSSLContext(configuration: configuration)
        self.channel = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(TLSUpstreamHandler())
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
    }

    func stop() async {
        try? await channel.close()
        try? await group.shutdownGracefully()
    }
}

private final class TLSUpstreamHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .end = unwrapInboundIn(data) else { return }
        let peer = (try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self))?.peerCertificate
        let client =
            peer?.description.components(separatedBy: "common_name=").dropFirst().first?
            .prefix { $0 != ";" && $0 != ">" } ?? "none"
        let body = ByteBuffer(string: "tls-upstream")
        let headers = HTTPHeaders([("content-length", String(body.readableBytes)), ("x-client", String(client))])
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}
