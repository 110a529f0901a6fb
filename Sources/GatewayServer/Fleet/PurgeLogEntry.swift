import Redis

/// One purge as it is kept in the purge log stream.
struct PurgeLogEntry {
    let id: String
    let sequence: Int64
    let scope: FleetScope
    let origin: String
    let order: PurgeOrder

    /// Appends to the log and numbers the purge in one step, so sequence numbers and log order
    /// agree.
    static let publishScript = """
        local seq = redis.call('INCR', KEYS[1])
        local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[1], '*', 'seq', seq, 'scope', ARGV[2], 'origin', ARGV[3], 'order', ARGV[4])
        return {seq, id}
        """

    /// The entries of an XREAD reply for the purge log; entries that cannot be read are returned
    /// as errors so the reader can treat them as a gap rather than skip them silently.
    static func entries(ofXREAD reply: RESPValue) -> [Result<PurgeLogEntry, PurgeLogError>] {
        guard let streams = reply.array else { return [] }
        var result: [Result<PurgeLogEntry, PurgeLogError>] = []
        for stream in streams {
            guard let pair = stream.array, pair.count == 2, let entries = pair[1].array else { continue }
            for entry in entries {
                result.append(parse(entry))
            }
        }
        return result
    }

    static func parse(_ entry: RESPValue) -> Result<PurgeLogEntry, PurgeLogError> {
        guard let parts = entry.array, parts.count == 2, let id = parts[0].string, let flat = parts[1].array else {
            return .failure(PurgeLogError(id: nil, reason: "not a stream entry"))
        }
        var fields: [String: String] = [:]
        var index = 0
        while index + 1 < flat.count {
            if let name = flat[index].string, let value = flat[index + 1].string { fields[name] = value }
            index += 2
        }
        guard let sequenceText = fields["seq"], let sequence = Int64(sequenceText) else {
            return .failure(PurgeLogError(id: id, reason: "no sequence number"))
        }
        do {
            let scope = try FleetScope(text: fields["scope"] ?? "")
            let order = try PurgeOrder(try JSONParser.parse(Array((fields["order"] ?? "").utf8)))
            return .success(
                PurgeLogEntry(id: id, sequence: sequence, scope: scope, origin: fields["origin"] ?? "", order: order))
        } catch {
            return .failure(PurgeLogError(id: id, sequence: sequence, reason: "\(error)"))
        }
    }
}

struct PurgeLogError: Error {
    var id: String?
    var sequence: Int64?
    var reason: String
}
