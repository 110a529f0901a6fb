import Yams

extension ConfigReader {
    static let listenerKeys = [
        "name", "address", "protocols", "max_connections", "timeouts", "limits", "tls", "https_redirect",
    ]

    mutating func readListeners(_ entry: Entry) -> [ListenerConfig] {
        guard let items = list(entry, nonEmpty: true) else { return [] }
        var result: [ListenerConfig] = []
        var firstNameLine: [String: Position] = [:]
        var bound: [(listener: String, address: HostPort, line: Position)] = []
        for (index, item) in items.enumerated() {
            let label = Self.itemLabel(item, kind: "listener", index: index)
            guard let listener = readListener(item, label: label) else { continue }
            if let line = firstNameLine[listener.config.name] {
                error(listener.nameLine, "duplicate listener name '\(listener.config.name)' (first at line \(line))")
            } else {
                firstNameLine[listener.config.name] = listener.nameLine
            }
            let address = listener.config.address
            // Port 0 lets the OS pick a free port each time, so such listeners never clash.
            if address.port != 0,
                let other = bound.first(where: { Self.addressesOverlap($0.address, address) })
            {
                error(
                    listener.addressLine,
                    "port clash: \(label) at \(address) overlaps listener '\(other.listener)' at \(other.address)"
                        + " (line \(other.line))")
            }
            bound.append((listener.config.name, address, listener.addressLine))
            result.append(listener.config)
        }
        return result
    }

    /// How messages name a list item: by its `name` when it has a usable one, else by position.
    static func itemLabel(_ item: Node, kind: String, index: Int) -> String {
        if case .mapping(let mapping) = item, case .scalar(let name)? = mapping["name"], !isNull(name) {
            return "\(kind) '\(name.string)'"
        }
        return "\(kind) #\(index + 1)"
    }

    /// Same port and either the same host or a wildcard host, which binds every address.
    static func addressesOverlap(_ a: HostPort, _ b: HostPort) -> Bool {
        guard a.port == b.port else { return false }
        let wildcards: Set<String> = ["0.0.0.0", "::", "0:0:0:0:0:0:0:0"]
        return a.host.lowercased() == b.host.lowercased() || wildcards.contains(a.host) || wildcards.contains(b.host)
    }

    /// The model's defaults, read from its initialiser so they are written down once.
    private static let listenerDefaults = ListenerConfig(name: "", address: HostPort(host: "", port: 0))

    private struct ListenerRead {
        var config: ListenerConfig
        var nameLine: Position
        var addressLine: Position
    }

    private mutating func readListener(_ item: Node, label: String) -> ListenerRead? {
        guard let s = section(item, .listener, context: "in \(label)", keys: Self.listenerKeys, what: label) else {
            return nil
        }
        require(["name", "address"], in: s)
        let name = s["name"].flatMap { self.name($0) }
        let address = s["address"].flatMap { hostPort($0, ports: 0...65_535) }
        let protocols = s["protocols"].map { readListenerProtocols($0) } ?? [.http1]
        let maxConnections = s["max_connections"].flatMap { int($0, in: 1...Int.max) }
        let timeouts = s["timeouts"].map { readListenerTimeouts($0, label: label) } ?? ListenerTimeouts()
        let limits = s["limits"].map { readListenerLimits($0, label: label) } ?? ListenerLimits()
        let tls = s["tls"].flatMap { readListenerTLS($0, label: label) }
        let redirectPort = s["https_redirect"].flatMap { readHTTPSRedirect($0) }
        if let redirect = s["https_redirect"], s["tls"] != nil {
            error(redirect.keyLine, "'https_redirect' belongs on a cleartext listener, not on one with 'tls'")
        }
        if tls != nil, protocols.contains(.h2c), let entry = s["protocols"] {
            error(entry.line, "h2c is cleartext HTTP/2: use h2 on a listener with 'tls'")
        }
        if tls == nil, protocols.contains(.h2), let entry = s["protocols"] {
            error(entry.line, "h2 is HTTP/2 over TLS: the listener needs 'tls' (or use h2c for cleartext)")
        }
        guard let name, let address, let nameEntry = s["name"], let addressEntry = s["address"] else { return nil }
        let config = ListenerConfig(
            name: name, address: address, protocols: protocols,
            maxConnections: maxConnections ?? Self.listenerDefaults.maxConnections,
            timeouts: timeouts, limits: limits, tls: tls, httpsRedirectPort: redirectPort)
        return ListenerRead(config: config, nameLine: nameEntry.line, addressLine: addressEntry.line)
    }

    private mutating func readListenerProtocols(_ entry: Entry) -> [ListenerProtocol] {
        guard let items = list(entry, nonEmpty: true) else { return [.http1] }
        var result: [ListenerProtocol] = []
        for item in items {
            guard let text = choice(item, ["http1", "h2c", "h2"], unsupported: .listenerProtocol),
                let value = ListenerProtocol(rawValue: text)
            else { continue }
            if result.contains(value) {
                error(item.position, "protocol '\(text)' is listed twice")
                continue
            }
            result.append(value)
        }
        return result
    }

    private mutating func readListenerTimeouts(_ entry: Entry, label: String) -> ListenerTimeouts {
        let defaults = ListenerTimeouts()
        guard
            let s = section(
                entry, .listenerTimeouts, context: "in timeouts of \(label)",
                keys: ["header_read", "body_read", "idle"])
        else { return defaults }
        return ListenerTimeouts(
            headerRead: s["header_read"].flatMap { duration($0) } ?? defaults.headerRead,
            bodyRead: s["body_read"].flatMap { duration($0) } ?? defaults.bodyRead,
            idle: s["idle"].flatMap { duration($0) } ?? defaults.idle)
    }

    private mutating func readListenerLimits(_ entry: Entry, label: String) -> ListenerLimits {
        let defaults = ListenerLimits()
        let keys = ["max_header_bytes", "max_headers", "max_body"]
        guard let s = section(entry, .listenerLimits, context: "in limits of \(label)", keys: keys) else {
            return defaults
        }
        var maxHeaderBytes = defaults.maxHeaderBytes
        if let e = s["max_header_bytes"], let bytes = size(e) {
            // Below 1KiB ordinary browser requests would be refused with 431; above 1MiB one
            // connection's head alone could hold that much memory (nginx's largest is 8 x 8k).
            if bytes < 1024 {
                error(e.line, "'max_header_bytes' must be at least 1KiB, got \(bytes) bytes")
            } else if bytes > 1024 * 1024 {
                error(e.line, "'max_header_bytes' must be at most 1MiB, got \(bytes) bytes")
            } else {
                maxHeaderBytes = bytes
            }
        }
        var maxBody = defaults.maxBody
        if let e = s["max_body"] {
            if case .scalar(let scalar) = e.value, scalar.string == "unlimited" {
                maxBody = nil
            } else {
                maxBody = size(e)
            }
        }
        return ListenerLimits(
            maxHeaderBytes: maxHeaderBytes,
            maxHeaders: s["max_headers"].flatMap { int($0, in: 1...Int.max) } ?? defaults.maxHeaders,
            maxBody: maxBody)
    }
}
