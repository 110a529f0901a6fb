import Yams

/// A listener's `tls:` and `https_redirect:`. Only the shape is checked here; the files are read
/// (and refused with a clear message when missing or malformed) when the TLS context is built,
/// which `gateway validate` also does.
extension ConfigReader {
    mutating func readListenerTLS(_ entry: Entry, label: String) -> ListenerTLSConfig? {
        guard
            let s = section(
                entry, .listenerTLS, context: "in tls of \(label)", keys: ["min_version", "certificates"])
        else { return nil }
        require(["certificates"], in: s)
        var minVersion = ListenerTLSConfig.Version.tls12
        if let e = s["min_version"], let text = choice(e.value, ["1.2", "1.3"]),
            let version = ListenerTLSConfig.Version(rawValue: text)
        {
            minVersion = version
        }
        guard let certificatesEntry = s["certificates"], let items = list(certificatesEntry, nonEmpty: true) else {
            return nil
        }
        var certificates: [TLSCertificateConfig] = []
        var hostLines: [String: Position] = [:]
        var defaultLine: Position?
        for item in items {
            let context = "in a certificate of \(label)"
            guard
                let c = section(
                    item, .tlsCertificate, context: context, keys: ["cert", "key", "hosts"], what: "a certificate")
            else { continue }
            require(["cert", "key"], in: c)
            let cert = c["cert"].flatMap { name($0) }
            let key = c["key"].flatMap { name($0) }
            var hosts: [String] = []
            if let e = c["hosts"], let names = list(e, nonEmpty: true) {
                for node in names {
                    guard let host = scalarText(node, expected: "a server name")?.lowercased() else { continue }
                    guard Self.isValidServerName(host) else {
                        error(node.position, "'\(host)' is not a server name (exact, or '*.' and a name)")
                        continue
                    }
                    if let line = hostLines[host] {
                        error(node.position, "server name '\(host)' is already on a certificate (line \(line))")
                        continue
                    }
                    hostLines[host] = node.position
                    hosts.append(host)
                }
            } else if let line = defaultLine {
                error(
                    c.line, "two certificates without 'hosts' in \(label) (first at line \(line)): one is the default")
            } else {
                defaultLine = c.line
            }
            if let cert, let key {
                certificates.append(TLSCertificateConfig(certificatePath: cert, keyPath: key, hosts: hosts))
            }
        }
        guard !certificates.isEmpty else { return nil }
        return ListenerTLSConfig(minVersion: minVersion, certificates: certificates)
    }

    /// An upstream's `tls: { verify, ca, sni, cert, key }`.
    mutating func readUpstreamTLS(_ entry: Entry, label: String) -> UpstreamTLSConfig? {
        guard
            let s = section(
                entry, .upstreamTLS, context: "in tls of \(label)", keys: ["verify", "ca", "sni", "cert", "key"])
        else { return nil }
        var config = UpstreamTLSConfig()
        if let verify = s["verify"].flatMap({ bool($0) }) { config.verify = verify }
        config.caPath = s["ca"].flatMap { name($0) }
        if let e = s["sni"], let sni = name(e) {
            if Self.isValidServerName(sni.lowercased()) && !sni.hasPrefix("*") {
                config.serverName = sni.lowercased()
            } else {
                error(e.line, "'\(sni)' is not a server name")
            }
        }
        config.certificatePath = s["cert"].flatMap { name($0) }
        config.keyPath = s["key"].flatMap { name($0) }
        if (config.certificatePath == nil) != (config.keyPath == nil) {
            error(s.line, "a client certificate needs both 'cert' and 'key' in tls of \(label)")
        }
        if !config.verify, config.caPath != nil, let e = s["ca"] {
            error(e.line, "'ca' has no effect with verify: false in tls of \(label)")
        }
        return config
    }

    /// `https_redirect: 8443` (the port clients are sent to; 443 is left out of the URL).
    mutating func readHTTPSRedirect(_ entry: Entry) -> Int? {
        int(entry, in: 1...65_535)
    }

    /// `api.example.test` or `*.example.test`: letters, digits, '-' and dots, a wildcard only as
    /// the whole first label.
    static func isValidServerName(_ name: String) -> Bool {
        var labels = name.split(separator: ".", omittingEmptySubsequences: false)
        if labels.first == "*" {
            labels.removeFirst()
            guard labels.count >= 2 else { return false }
        }
        return !labels.isEmpty
            && labels.allSatisfy { label in
                !label.isEmpty && label.count <= 63
                    && label.utf8.allSatisfy {
                        UnitParser.isASCIILetter($0) || UnitParser.isASCIIDigit($0) || $0 == UInt8(ascii: "-")
                    }
            }
    }
}
