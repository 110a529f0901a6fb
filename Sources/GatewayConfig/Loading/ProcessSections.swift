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
        guard let s = section(entry, .logging, context: "in 'logging'", keys: ["level"]) else { return LoggingConfig() }
        let levels = LogLevel.allCases.map(\.rawValue)
        let level = s["level"].flatMap { choice($0.value, levels) }.flatMap(LogLevel.init(rawValue:))
        return LoggingConfig(level: level ?? .info)
    }
}
