/// A Lua script the client runs with EVALSHA. An object, not a string, so a client finds the
/// script's SHA1 by identity instead of hashing its whole source on every call.
public final class RedisScript: Sendable {
    public let source: String

    public init(_ source: String) {
        self.source = source
    }
}
