import NIOCore
import Redis
import TestSupport

/// A client for `server`, made on (and only used from) `eventLoop`, already connected.
func connectedClient(to server: RedisServerProcess, on eventLoop: EventLoop) async throws -> RedisClient {
    let address = try server.address
    let client = try await eventLoop.submit { RedisClient(address: address, on: eventLoop) }.get()
    try await eventLoop.flatSubmit { client.connect() }.get()
    return client
}
