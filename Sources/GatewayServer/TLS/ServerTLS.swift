import Foundation
import GatewayConfig
import NIOSSL

/// A listener's TLS: the certificates read from disk once per configuration (a reload reads them
/// again, so a renewed certificate takes effect without a restart), the default one in the context
/// and the others chosen by SNI during the handshake.
final class ServerTLS: Sendable {
    let context: NIOSSLContext

    struct SetupError: Error, CustomStringConvertible {
        let description: String
    }

    /// TLS 1.2 suites with forward secrecy and AEAD only (Mozilla's "intermediate" profile); TLS 1.3
    /// suites are all modern and not configurable.
    static let cipherSuites: [NIOTLSCipher] = [
        .TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, .TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        .TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, .TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        .TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, .TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ]

    private struct Identity: Sendable {
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
    }

    private init(context: NIOSSLContext) {
        self.context = context
    }

    /// Reads every certificate and key of `config`; a file that is missing, unreadable or not PEM,
    /// or a key that does not belong to its certificate, is an error naming the listener and file.
    static func build(_ config: ListenerTLSConfig, listener: String, applicationProtocols: [String]) throws
        -> ServerTLS
    {
        var identities: [(hosts: [String], identity: Identity)] = []
        for certificate in config.certificates {
            identities.append((certificate.hosts, try load(certificate, listener: listener)))
        }
        guard let fallback = identities.first(where: { $0.hosts.isEmpty }) ?? identities.first else {
            throw SetupError(description: "listener '\(listener)': tls needs at least one certificate")
        }
        var exact: [String: Identity] = [:]
        var wildcard: [String: Identity] = [:]
        for (hosts, identity) in identities {
            for host in hosts {
                if host.hasPrefix("*.") {
                    wildcard[String(host.dropFirst(2))] = identity
                } else {
                    exact[host] = identity
                }
            }
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: fallback.identity.chain.map { .certificate($0) },
            privateKey: .privateKey(fallback.identity.key))
        configuration.minimumTLSVersion = config.minVersion == .tls13 ? .tlsv13 : .tlsv12
        configuration.maximumTLSVersion = .tlsv13
        configuration.cipherSuiteValues = cipherSuites
        configuration.applicationProtocols = applicationProtocols
        if !exact.isEmpty || !wildcard.isEmpty {
            let table = (exact: exact, wildcard: wildcard)
            configuration.sslContextCallback = { values, promise in
                guard let identity = select(values.serverHostname, exact: table.exact, wildcard: table.wildcard) else {
                    promise.succeed(.noChanges)
                    return
                }
                var override = NIOSSLContextConfigurationOverride()
                override.certificateChain = identity.chain.map { .certificate($0) }
                override.privateKey = .privateKey(identity.key)
                promise.succeed(override)
            }
        }
        do {
            return ServerTLS(context: try NIOSSLContext(configuration: configuration))
        } catch {
            throw SetupError(description: "listener '\(listener)': cannot set up TLS: \(error)")
        }
    }

    /// Exact names first, then a wildcard for the name's parent (`*.example.test` covers
    /// `a.example.test`, not `a.b.example.test`, as RFC 6125 has it).
    private static func select(_ serverName: String?, exact: [String: Identity], wildcard: [String: Identity])
        -> Identity?
    {
        guard var name = serverName?.lowercased(), !name.isEmpty else { return nil }
        if name.hasSuffix(".") { name.removeLast() }
        if let identity = exact[name] { return identity }
        guard let dot = name.firstIndex(of: ".") else { return nil }
        return wildcard[String(name[name.index(after: dot)...])]
    }

    private static func load(_ certificate: TLSCertificateConfig, listener: String) throws -> Identity {
        func fail(_ what: String, _ path: String, _ reason: String) -> SetupError {
            SetupError(description: "listener '\(listener)': cannot use \(what) '\(path)': \(reason)")
        }
        for (what, path) in [("certificate", certificate.certificatePath), ("key", certificate.keyPath)] {
            guard FileManager.default.isReadableFile(atPath: path) else {
                let reason =
                    FileManager.default.fileExists(atPath: path)
                    ? "not readable" : "no such file (run certs/gen-dev-certs.sh for the demo's)"
                throw fail(what, path, reason)
            }
        }
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificate.certificatePath)
        } catch {
            throw fail("certificate", certificate.certificatePath, "not a PEM certificate (\(error))")
        }
        guard !chain.isEmpty else {
            throw fail("certificate", certificate.certificatePath, "no certificate in the file")
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: certificate.keyPath, format: .pem)
        } catch {
            throw fail("key", certificate.keyPath, "not a PEM private key (\(error))")
        }
        // A key that does not match fails every handshake; say so now instead.
        var probe = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        probe.minimumTLSVersion = .tlsv12
        do {
            _ = try NIOSSLContext(configuration: probe)
        } catch {
            throw fail(
                "key", certificate.keyPath, "does not match certificate '\(certificate.certificatePath)' (\(error))")
        }
        return Identity(chain: chain, key: key)
    }
}
