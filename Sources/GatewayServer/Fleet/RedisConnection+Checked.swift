import Redis

extension RedisConnection {
    /// A command whose `-ERR` reply is thrown: the fleet must never read `-LOADING` (Redis still
    /// loading after a restart) or `-NOPERM` as data, e.g. as "sequence 0" or "no node alive".
    func checked(_ arguments: [String]) async throws -> RESPValue {
        let reply = try await send(arguments).get()
        if case .error(let message) = reply {
            throw RedisError.protocolError("\(arguments.first ?? "command"): \(message)")
        }
        return reply
    }

    /// Redis's clock in milliseconds: heartbeats and their freshness are judged on one clock, so
    /// skew between the nodes' clocks cannot make a live node look dead.
    func serverMilliseconds() async throws -> Int64 {
        let reply = try await checked(["TIME"])
        guard let parts = reply.array, parts.count == 2, let seconds = parts[0].string.flatMap({ Int64($0) }),
            let micros = parts[1].string.flatMap({ Int64($0) })
        else { throw RedisError.protocolError("TIME answered \(reply)") }
        return seconds * 1000 + micros / 1000
    }
}
