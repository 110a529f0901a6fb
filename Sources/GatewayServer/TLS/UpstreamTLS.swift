import Foundation
import GatewayConfig
import NIOSSL

/// HTTPS to an upstream's endpoints: the client context (trust roots, optional client certificate)
/// built from the files once per configuration, and the name each endpoint is asked for.
final class UpstreamTLS: Sendable {
    let context: NIOSSLContext
    let config: UpstreamTLSConfig

    private init(context: NIOSSLContext, config: UpstreamTLSConfig) {
        self.context = context
        self.config = config
    }

    /// The SNI name (and the name the certificate must carry) for `endpoint`: the configured one,
    /// else the endpoint's host if it is a name. An IP address sends no SNI and is checked as an
    /// address against the certificate.
    func serverName(for endpoint: HostPort) -> String? {
        if let name = config.serverName { return name }
        let host = endpoint.host
        let isAddress = host.contains(":") || host.allSatisfy { $0.isNumber || $0 == "." }
        return isAddress ? nil : host
    }

    /// `http2`: ALPN offers only `h2` (an upstream declared `protocol: h2`), else only `http/1.1`.
    static func build(_ config: UpstreamTLSConfig, upstream: String, http2: Bool = false) throws -> UpstreamTLS {
        func fail(_ reason: String) -> ServerTLS.SetupError {
            ServerTLS.SetupError(description: "upstream '\(upstream)': \(reason)")
        }
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        configuration.cipherSuiteValues = ServerTLS.cipherSuites
        configuration.applicationProtocols = http2 ? ["h2"] : ["http/1.1"]
        if config.verify {
            configuration.certificateVerification = .fullVerification
            if let ca = config.caPath {
                guard FileManager.default.isReadableFile(atPath: ca) else {
                    throw fail("cannot use ca '\(ca)': no such file or not readable")
                }
                do {
                    let roots = try NIOSSLCertificate.fromPEMFile(ca)
                    guard !roots.isEmpty else { throw fail("cannot use ca '\(ca)': no certificate in the file") }
                    configuration.trustRoots = .certificates(roots)
                } catch let error as ServerTLS.SetupError {
                    throw error
                } catch {
                    throw fail("cannot use ca '\(ca)': not a PEM certificate (\(error))")
                }
            }
        } else {
            configuration.certificateVerification = .none
        }
        if let certificatePath = config.certificatePath, let keyPath = config.keyPath {
            for (what, path) in [("cert", certificatePath), ("key", keyPath)] {
                guard FileManager.default.isReadableFile(atPath: path) else {
                    throw fail("cannot use \(what) '\(path)': no such file or not readable")
                }
            }
            do {
                configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(certificatePath).map {
                    .certificate($0)
                }
            } catch {
                throw fail("cannot use cert '\(certificatePath)': not a PEM certificate (\(error))")
            }
            do {
                configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: keyPath, format: .pem))
            } catch {
                throw fail("cannot use key '\(keyPath)': not a PEM private key (\(error))")
            }
        }
        do {
            return UpstreamTLS(context: try NIOSSLContext(configuration: configuration), config: config)
        } catch {
            throw fail("cannot set up TLS: \(error)")
        }
    }
}
