import NIOCore

/// What the data plane needs from Redis, whether one server or a Cluster: run a script where its
/// keys live. Implementations are bound to one event loop and used only from it.
public protocol RedisScriptRunner: AnyObject {
    var eventLoop: EventLoop { get }
    /// True when a command sent now would be written to a server instead of failing at once.
    var isConnected: Bool { get }
    /// Connects (or discovers the cluster) now; later failures reconnect by themselves.
    func connect() -> EventLoopFuture<Void>
    /// EVALSHA, loading the script first and again after NOSCRIPT. In a Cluster all `keys` must
    /// hash to one slot (use one hash tag). A `-ERR` reply succeeds as `.error`.
    func evaluate(_ script: RedisScript, keys: [[UInt8]], arguments: [[UInt8]]) -> EventLoopFuture<RESPValue>
    func close()
}
