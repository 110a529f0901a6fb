extension ConfigReader {
    /// `node: { id, region }`; the id falls back to the host name so a fleet needs no per-host edits.
    mutating func readNode(_ entry: Entry) -> NodeConfig {
        guard let s = section(entry, .node, context: "in 'node'", keys: ["id", "region"]) else {
            return NodeConfig(id: defaultNodeID)
        }
        var id = s["id"].flatMap { name($0) } ?? defaultNodeID
        if let entry = s["id"], !HTTPSyntax.isWireSafe(id) {
            // The id is sent in `Via`: a space or control character would corrupt the header.
            error(entry.line, "node id '\(id)' must be visible ASCII without spaces (it is sent in Via)")
            id = defaultNodeID
        }
        let region = s["region"].flatMap { name($0) }
        return NodeConfig(id: id, region: region)
    }

    mutating func readRuntime(_ entry: Entry) -> RuntimeConfig {
        let defaults = RuntimeConfig()
        guard let s = section(entry, .runtime, context: "in 'runtime'", keys: ["event_loops", "drain_timeout"]) else {
            return defaults
        }
        return RuntimeConfig(
            eventLoops: s["event_loops"].flatMap { int($0, in: 0...256) } ?? defaults.eventLoops,
            // Zero is allowed: it means close remaining connections at once.
            drainTimeout: s["drain_timeout"].flatMap { duration($0, positive: false) } ?? defaults.drainTimeout)
    }

    mutating func readLogging(_ entry: Entry) -> LoggingConfig {
        guard let s = section(entry, .logging, context: "in 'logging'", keys: ["level", "access_log"]) else {
            return LoggingConfig()
        }
        let levels = LogLevel.allCases.map(\.rawValue)
        let level = s["level"].flatMap { choice($0.value, levels) }.flatMap(LogLevel.init(rawValue:))
        let accessLog = s["access_log"].flatMap { readAccessLog($0) }
        return LoggingConfig(level: level ?? .info, accessLog: accessLog)
    }

    /// `access_log: { path: stdout | stderr | FILE, format: json, buffer: 4MiB }`.
    mutating func readAccessLog(_ entry: Entry) -> AccessLogConfig? {
        guard
            let s = section(
                entry, .accessLog, context: "in 'access_log'", keys: ["path", "format", "buffer"])
        else { return nil }
        let defaults = AccessLogConfig()
        var destination = defaults.destination
        if let pathEntry = s["path"], let path = name(pathEntry) {
            switch path {
            case "stdout": destination = .standardOutput
            case "stderr": destination = .standardError
            default: destination = .file(path: path)
            }
        }
        if let format = s["format"] {
            _ = choice(format.value, ["json"])
        }
        var buffer = defaults.bufferBytes
        if let bufferEntry = s["buffer"], let size = size(bufferEntry) {
            if size < 64 * 1024 {
                error(bufferEntry.line, "'buffer' must be at least 64KiB, got \(size) bytes")
            } else {
                buffer = size
            }
        }
        return AccessLogConfig(destination: destination, bufferBytes: buffer)
    }

    /// `admin: { address, token_env }`. Without a token the admin API is open to anyone who can
    /// reach it, so that is only allowed on loopback (Envoy's admin has no auth at all).
    mutating func readAdmin(_ entry: Entry, listeners: [ListenerConfig]) -> AdminConfig? {
        guard let s = section(entry, .admin, context: "in 'admin'", keys: ["address", "token_env"]) else {
            return nil
        }
        var admin = AdminConfig()
        if let addressEntry = s["address"], let address = hostPort(addressEntry, ports: 0...65535) {
            admin.address = address
            if address.port != 0,
                let clash = listeners.first(where: { Self.addressesOverlap($0.address, address) })
            {
                error(
                    addressEntry.line,
                    "port clash: admin at \(address) overlaps listener '\(clash.name)' at \(clash.address)")
            }
        }
        if let tokenEntry = s["token_env"], let variable = name(tokenEntry) {
            if variable.utf8.allSatisfy({
                UnitParser.isASCIIDigit($0) || $0 == UInt8(ascii: "_") || (65...90).contains($0)
                    || (97...122).contains($0)
            }) {
                admin.tokenEnvironmentVariable = variable
            } else {
                error(
                    tokenEntry.line,
                    "'token_env' must name an environment variable (letters, digits, _), got '\(variable)'")
            }
        }
        if admin.tokenEnvironmentVariable == nil, s["token_env"] == nil, !admin.isLoopback {
            error(
                s.line,
                "admin address \(admin.address) is not a loopback address: set 'token_env' so the admin API asks for a token"
            )
        }
        return admin
    }
}
