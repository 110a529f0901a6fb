/// Why a command got no reply. A `-ERR` reply is not one of these: it arrives as
/// `RESPValue.error` and the caller decides what it means.
public enum RedisError: Error, Equatable, CustomStringConvertible {
    /// Not connected (never was, or reconnecting after a failure): the caller's failure policy applies.
    case unavailable(String)
    /// The connection closed with the command outstanding.
    case connectionClosed
    /// No reply within the command timeout; the connection is closed (later replies could no
    /// longer be matched to their commands).
    case timeout
    /// The server sent something that is not RESP, or a reply nobody asked for.
    case protocolError(String)
    /// The connection handshake (AUTH, SELECT) was refused.
    case handshakeFailed(String)

    public var description: String {
        switch self {
        case .unavailable(let why): "redis unavailable: \(why)"
        case .connectionClosed: "redis connection closed"
        case .timeout: "redis command timed out"
        case .protocolError(let what): "redis protocol error: \(what)"
        case .handshakeFailed(let why): "redis handshake failed: \(why)"
        }
    }
}
