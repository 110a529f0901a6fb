import Yams

extension ConfigReader {
    /// `redis: { mode: standalone | cluster, addresses: [host:port], username, password_env, database,
    /// timeouts: { connect, command }, expected_nodes }`.
    mutating func readRedis(_ entry: Entry) -> RedisConfig? {
        guard
            let s = section(
                entry, .redis, context: "in 'redis'",
                keys: ["mode", "addresses", "username", "password_env", "database", "timeouts", "expected_nodes"])
        else { return nil }
        require(["addresses"], in: s)
        let mode =
            s["mode"].flatMap { choice($0.value, ["standalone", "cluster"]) }.flatMap(RedisConfig.Mode.init(rawValue:))
            ?? .standalone
        var addresses: [HostPort] = []
        if let addressesEntry = s["addresses"], let items = list(addressesEntry, nonEmpty: true) {
            for item in items {
                guard let text = scalarText(item, expected: "host:port") else { continue }
                guard let address = UnitParser.parseHostPort(text), (1...65_535).contains(address.port) else {
                    error(item.position, "expected host:port like 127.0.0.1:6379, got '\(text)'")
                    continue
                }
                addresses.append(address)
            }
            if addresses.count > 1, mode == .standalone {
                // Several addresses are a cluster's seed nodes; a standalone client would use one.
                error(addressesEntry.line, "several redis addresses need mode: cluster (they are its seed nodes)")
            }
        }
        var config = RedisConfig(mode: mode, addresses: addresses)
        if let usernameEntry = s["username"], let username = string(usernameEntry) {
            config.username = username
        }
        if let databaseEntry = s["database"], let database = int(databaseEntry, in: 0...1_000_000) {
            if mode == .cluster, database != 0 {
                error(
                    databaseEntry.line, "a redis cluster has database 0 only; remove 'database' or use mode: standalone"
                )
            }
            config.database = database
        }
        if let nodesEntry = s["expected_nodes"], let nodes = int(nodesEntry, in: 1...10_000) {
            config.expectedNodes = nodes
        }
        if let passwordEntry = s["password_env"], let variable = name(passwordEntry) {
            if variable.utf8.allSatisfy({
                UnitParser.isASCIIDigit($0) || UnitParser.isASCIILetter($0) || $0 == UInt8(ascii: "_")
            }) {
                config.passwordEnvironmentVariable = variable
            } else {
                error(
                    passwordEntry.line,
                    "'password_env' must name an environment variable (letters, digits, _), got '\(variable)'")
            }
        }
        if let timeouts = s["timeouts"],
            let t = section(timeouts, .redisTimeouts, context: "in redis timeouts", keys: ["connect", "command"])
        {
            if let connect = t["connect"].flatMap({ duration($0) }) { config.connectTimeout = connect }
            if let command = t["command"].flatMap({ duration($0) }) { config.commandTimeout = command }
        }
        return addresses.isEmpty ? nil : config
    }
}
