import GatewayConfig
import Logging
import NIOCore
import Redis

#if canImport(Glibc)
    import Glibc
#endif

/// Where the loops' Redis clients connect and how, resolved once at start from the `redis` section.
struct RedisEndpoint: Sendable {
    let mode: RedisConfig.Mode
    let addresses: [SocketAddress]
    let options: RedisConnection.Options

    func makeClient(on eventLoop: EventLoop, logger: Logger) -> any RedisScriptRunner {
        switch mode {
        case .standalone:
            return RedisClient(address: addresses[0], on: eventLoop, options: options, logger: logger)
        case .cluster:
            return RedisClusterClient(seeds: addresses, on: eventLoop, options: options, logger: logger)
        }
    }

    /// Nil without a `redis` section; throws (a start-up error) for names that do not resolve or
    /// a password variable that is not set.
    static func resolve(_ config: RedisConfig?) throws -> RedisEndpoint? {
        guard let config, !config.addresses.isEmpty else { return nil }
        var addresses: [SocketAddress] = []
        for hostPort in config.addresses {
            do {
                addresses.append(try SocketAddress.makeAddressResolvingHost(hostPort.host, port: hostPort.port))
            } catch {
                throw GatewayServer.StartupError(description: "redis: cannot resolve \(hostPort): \(error)")
            }
        }
        var password: String?
        if let variable = config.passwordEnvironmentVariable {
            guard let value = getenv(variable).map({ String(cString: $0) }), !value.isEmpty else {
                throw GatewayServer.StartupError(
                    description: "redis: environment variable \(variable) (password_env) is not set")
            }
            password = value
        }
        return RedisEndpoint(
            mode: config.mode, addresses: addresses,
            options: RedisConnection.Options(
                username: config.username, password: password, database: config.database,
                connectTimeout: TimeAmount(config.connectTimeout), commandTimeout: TimeAmount(config.commandTimeout)))
    }
}
