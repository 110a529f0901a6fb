import Redis

/// One fleet command (a purge or a warm) as it is kept in the fleet log stream.
struct FleetLogEntry {
    enum Command {
        case purge(PurgeOrder)
        case warm(WarmOrder)

        var kind: String {
            switch self {
            case .purge: "purge"
            case .warm: "warm"
            }
        }

        var json: JSONValue {
            switch self {
            case .purge(let order): order.json
            case .warm(let order): order.json
            }
        }
    }

    let id: String
    let sequence: Int64
    let scope: FleetScope
    let origin: String
    let command: Command

    /// Appends to the log and numbers the command in one step, so sequence numbers and log order
    /// agree.
    static let publishScript = """
        local seq = redis.call('INCR', KEYS[1])
        local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[1], '*', 'seq', seq, 'scope', ARGV[2], 'origin', ARGV[3], 'kind', ARGV[4], 'order', ARGV[5])
        return {seq, id}
        """

    /// The entries of an XREAD reply for the purge log; entries that cannot be read are returned
    /// as errors so the reader can treat them as a gap rather than skip them silently.
    static func entries(ofXREAD reply: RESPValue) -> [Result<FleetLogEntry, FleetLogError>] {
        guard let streams = reply.array else { return [] }
        var result: [Result<FleetLogEntry, FleetLogError>] = []
        for stream in streams {
            guard let pair = stream.array, pair.count == 2, let entries = pair[1].array else { continue }
            for entry in entries {
                result.append(parse(entry))
            }
        }
        return result
    }

    static func parse(_ entry: RESPValue) -> Result<FleetLogEntry, FleetLogError> {
        guard let parts = entry.array, parts.count == 2, let id = parts[0].string, parts[1].array != nil else {
            return .failure(FleetLogError(id: nil, reason: "not a stream entry"))
        }
        var fields: [String: String] = [:]
        for (name, value) in parts[1].stringPairs { fields[name] = value }
        guard let sequenceText = fields["seq"], let sequence = Int64(sequenceText) else {
            return .failure(FleetLogError(id: id, reason: "no sequence number"))
        }
        guard let scope = try? FleetScope(text: fields["scope"] ?? "") else {
            return .failure(FleetLogError(id: id, sequence: sequence, reason: "no scope"))
        }
        do {
            let document = try JSONParser.parse(Array((fields["order"] ?? "").utf8))
            let command: Command
            switch fields["kind"] ?? "purge" {
            case "purge": command = .purge(try PurgeOrder(document))
            case "warm": command = .warm(try WarmOrder(document))
            case let other:
                throw FleetLogError(
                    id: id, sequence: sequence, scope: scope, isUnknownCommand: true,
                    reason: "unknown command '\(other)' (published by a newer version?)")
            }
            return .success(
                FleetLogEntry(
                    id: id, sequence: sequence, scope: scope, origin: fields["origin"] ?? "", command: command))
        } catch let problem as FleetLogError {
            return .failure(problem)
        } catch {
            return .failure(FleetLogError(id: id, sequence: sequence, scope: scope, reason: "\(error)"))
        }
    }
}

struct FleetLogError: Error {
    var id: String?
    var sequence: Int64?
    /// Known when only the command could not be read: an entry for other nodes does not matter.
    var scope: FleetScope?
    /// A command kind this version does not know: skipped, not treated as a missed purge.
    var isUnknownCommand = false
    var reason: String
}
