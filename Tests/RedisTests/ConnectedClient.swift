import NIOCore
import Redis
import TestSupport

/// A client for `server`, made on (and only used from) `eventLoop`, already connected; bound to
/// the loop so tests can hand it to closures that run there.
func connectedClient(to server: RedisServerProcess, on eventLoop: EventLoop) async throws -> NIOLoopBound<RedisClient> {
    let address = try server.address
    let client = try await eventLoop.submit {
        NIOLoopBound(RedisClient(address: address, on: eventLoop), eventLoop: eventLoop)
    }.get()
    try await eventLoop.flatSubmit { client.value.connect() }.get()
    return client
}
