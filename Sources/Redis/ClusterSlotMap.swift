import NIOCore

/// A Cluster master as the cluster names it (`host:port`), with the address to connect to.
/// Only IP endpoints are accepted: resolving a hostname would block the event loop.
public struct ClusterNode: Hashable, Sendable, CustomStringConvertible {
    public let host: String
    public let port: Int
    public let address: SocketAddress

    public init(host: String, port: Int) throws {
        guard (1...65535).contains(port) else {
            throw RedisError.protocolError("cluster node \(host) has an invalid port \(port)")
        }
        do {
            address = try SocketAddress(ipAddress: host, port: port)
        } catch {
            throw RedisError.protocolError("cluster node endpoint '\(host)' is not an IP address")
        }
        self.host = host
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    // The address is derived from host and port: comparing it too would add nothing.
    public static func == (lhs: ClusterNode, rhs: ClusterNode) -> Bool {
        lhs.port == rhs.port && lhs.host == rhs.host
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(host)
        hasher.combine(port)
    }
}

/// Which master serves each of the 16384 slots, read from a `CLUSTER SLOTS` reply. Anything
/// unexpected in the reply is a `RedisError.protocolError`, never a guess or a crash: a wrong
/// map would send commands to the wrong node.
public struct ClusterSlotMap: Sendable, Equatable {
    /// The masters that serve at least one slot, in the order the reply named them.
    public private(set) var nodes: [ClusterNode]
    /// Per slot, an index into `nodes`, or `unowned`: 32 KiB, and a lookup is one load.
    private var owners: [UInt16]
    private static let unowned = UInt16.max

    /// `askedHost` stands in for a node whose endpoint the reply leaves empty (NULL): Redis
    /// means "the host you asked, with this port".
    public init(slotsReply reply: RESPValue, askedHost: String) throws {
        if case .error(let message) = reply {
            throw RedisError.protocolError("CLUSTER SLOTS: \(message)")
        }
        guard let ranges = reply.array else {
            throw RedisError.protocolError("CLUSTER SLOTS answered \(reply), not an array")
        }
        nodes = []
        owners = Array(repeating: Self.unowned, count: HashSlot.count)
        var covered = Array(repeating: false, count: HashSlot.count)
        var indexOf: [ClusterNode: UInt16] = [:]
        for range in ranges {
            guard let fields = range.array, fields.count >= 3 else {
                throw RedisError.protocolError("CLUSTER SLOTS entry \(range) is not [start, end, master, ...]")
            }
            guard let start = fields[0].integer, let end = fields[1].integer,
                0 <= start, start <= end, end < HashSlot.count
            else {
                throw RedisError.protocolError("CLUSTER SLOTS entry has a bad slot range: \(fields[0]), \(fields[1])")
            }
            let slots = Int(start)...Int(end)
            if covered[slots].contains(true) {
                throw RedisError.protocolError("CLUSTER SLOTS ranges overlap at \(start)-\(end)")
            }
            covered.replaceSubrange(slots, with: repeatElement(true, count: slots.count))
            // A node without a known endpoint ("?") cannot be reached: its slots stay unowned,
            // so commands for them fail at once instead of the whole map being refused.
            guard let node = try Self.node(fields[2], askedHost: askedHost) else { continue }
            let index: UInt16
            if let known = indexOf[node] {
                index = known
            } else {
                index = UInt16(nodes.count)
                indexOf[node] = index
                nodes.append(node)
            }
            owners.replaceSubrange(slots, with: repeatElement(index, count: slots.count))
        }
        guard !nodes.isEmpty else {
            throw RedisError.protocolError("CLUSTER SLOTS names no reachable master (no slots assigned yet?)")
        }
    }

    /// `[host, port, id, ...]`; replicas and metadata after the master are not used.
    private static func node(_ value: RESPValue, askedHost: String) throws -> ClusterNode? {
        guard let fields = value.array, fields.count >= 2 else {
            throw RedisError.protocolError("CLUSTER SLOTS node \(value) is not [host, port, ...]")
        }
        let host: String
        switch fields[0] {
        case .bulkString, .simpleString:
            host = fields[0].string ?? ""
        case .null:
            host = ""
        default:
            throw RedisError.protocolError("CLUSTER SLOTS node host \(fields[0]) is not a string")
        }
        guard let port = fields[1].integer else {
            throw RedisError.protocolError("CLUSTER SLOTS node port \(fields[1]) is not an integer")
        }
        if fields.count > 2, fields[2].string == nil {
            throw RedisError.protocolError("CLUSTER SLOTS node id \(fields[2]) is not a string")
        }
        if host == "?" { return nil }
        // Checked before narrowing to Int, so a huge value is an error, not a trap.
        guard (1...65535).contains(port) else {
            throw RedisError.protocolError("cluster node \(host) has an invalid port \(port)")
        }
        return try ClusterNode(host: host.isEmpty ? askedHost : host, port: Int(port))
    }

    public func owner(ofSlot slot: Int) -> ClusterNode? {
        guard owners.indices.contains(slot) else { return nil }
        let index = owners[slot]
        return index == Self.unowned ? nil : nodes[Int(index)]
    }

    /// A MOVED reply's news, applied before the next full refresh arrives.
    mutating func assign(slot: Int, to node: ClusterNode) {
        guard owners.indices.contains(slot) else { return }
        if let index = nodes.firstIndex(of: node) {
            owners[slot] = UInt16(index)
        } else if nodes.count < Int(Self.unowned) {
            owners[slot] = UInt16(nodes.count)
            nodes.append(node)
        }
    }
}

/// A `-MOVED slot host:port` or `-ASK slot host:port` reply. Nil for any other error, so the
/// caller sees it as a reply; a redirection it cannot read is a `RedisError.protocolError`.
enum ClusterRedirection: Equatable {
    /// The slot lives on `node` now: remember it.
    case moved(slot: Int, node: ClusterNode)
    /// Only this command goes to `node` (after ASKING): the slot is being migrated.
    case ask(slot: Int, node: ClusterNode)

    /// `replier` supplies the host when the reply leaves it empty (`MOVED 3999 :6380`), which
    /// Redis does for a node whose preferred endpoint is unknown.
    init?(error message: String, replier: ClusterNode) throws {
        let parts = message.split(separator: " ", omittingEmptySubsequences: true)
        let isMoved = parts.first == "MOVED"
        guard isMoved || parts.first == "ASK" else { return nil }
        guard parts.count == 3, let slot = Int(parts[1]), (0..<HashSlot.count).contains(slot),
            let colon = parts[2].lastIndex(of: ":"), let port = Int(parts[2][parts[2].index(after: colon)...])
        else {
            throw RedisError.protocolError("unreadable cluster redirection '\(message)'")
        }
        let host = String(parts[2][..<colon])
        let node = try ClusterNode(host: host.isEmpty ? replier.host : host, port: port)
        self = isMoved ? .moved(slot: slot, node: node) : .ask(slot: slot, node: node)
    }
}
