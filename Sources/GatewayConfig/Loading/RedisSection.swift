import Yams

extension ConfigReader {
    /// `redis: { mode: standalone, addresses: [host:port], password_env, timeouts: { connect, command } }`.
    mutating func readRedis(_ entry: Entry) -> RedisConfig? {
        guard
            let s = section(
                entry, .redis, context: "in 'redis'", keys: ["mode", "addresses", "password_env", "timeouts"])
        else { return nil }
        require(["addresses"], in: s)
        if let mode = s["mode"] {
            _ = choice(mode.value, ["standalone", "cluster"], unsupported: .redisMode)
        }
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
            if addresses.count > 1 {
                // Several addresses mean a cluster's seed nodes, which come with cluster mode.
                error(
                    addressesEntry.line,
                    "several redis addresses need mode: cluster, which is not supported by this version yet")
            }
        }
        var config = RedisConfig(addresses: addresses)
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
