import ArgumentParser
import GatewayConfig
import GatewayServer
import Logging
import Metrics
import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

@main
struct GatewayCLI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "HTTP API gateway and edge cache node.",
        subcommands: [Run.self, Validate.self, Version.self]
    )
}

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the gateway with a configuration file.")

    @Option(name: .shortAndLong, help: "Path to the YAML configuration.")
    var config: String

    func run() async throws {
        let configuration: GatewayConfiguration
        switch ConfigLoader.load(path: config) {
        case .success(let loaded):
            configuration = loaded
        case .failure(let errors):
            printToStandardError(errors.description)
            printToStandardError("\(config): configuration is invalid, not starting")
            throw ExitCode(1)
        }
        let level = Logger.Level(rawValue: configuration.logging.level.rawValue) ?? .info
        LogLevels.shared.base = level
        LoggingSystem.bootstrap { label in JSONLogHandler(label: label) }
        let logger = Logger(label: "gateway")
        let server = GatewayServer(snapshot: Snapshot(configuration: configuration, generation: 1), logger: logger)
        // Libraries that report through swift-metrics land on the same /metrics page.
        MetricsSystem.bootstrap(server.processMetrics.factory)
        var adminToken: String?
        if let variable = configuration.admin?.tokenEnvironmentVariable {
            guard let value = getenv(variable).map({ String(cString: $0) }), !value.isEmpty else {
                logger.critical(
                    "cannot start",
                    metadata: ["error": "admin.token_env names \(variable), which is not set or empty"])
                throw ExitCode(1)
            }
            adminToken = value
        }
        // SIGHUP reloads the file (nginx's `-s reload`); the reloader ends with the group.
        let reloader = ConfigReloader(path: config, server: server, logger: logger.subsystem(.config))
        var admin: AdminServer?
        do {
            try await server.start()
            if let adminConfig = configuration.admin {
                let api = AdminAPI(server: server, reloader: reloader, token: adminToken)
                admin = AdminServer(config: adminConfig, api: api, logger: logger)
                try await admin?.start()
            }
        } catch {
            logger.critical("cannot start", metadata: ["error": "\(error)"])
            await server.shutdown(drainTimeout: .zero)
            throw ExitCode(1)
        }
        // Services stop in reverse order: the reloader first, then the data plane drains while the
        // admin API still answers (readiness reports 503 meanwhile), and the admin API last.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let admin {
            services.append(.init(service: admin))
        }
        services.append(.init(service: server))
        services.append(.init(service: reloader, successTerminationBehavior: .ignore))
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services, gracefulShutdownSignals: [.sigterm, .sigint], cancellationSignals: [],
                logger: logger))
        try await group.run()
    }
}

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a configuration file, like nginx -t: prints ok, or every problem as FILE:LINE: message.")

    @Argument(help: "Path to the YAML configuration.")
    var file: String

    func run() throws {
        switch ConfigLoader.load(path: file) {
        case .success(let configuration):
            // Like nginx -t, the certificates and keys are read too: a missing or mismatched file
            // is found here rather than at start or reload.
            do {
                try GatewayServer.validateTLS(configuration)
            } catch {
                printToStandardError("\(file): \(error)")
                throw ExitCode(1)
            }
            print("ok")
        case .failure(let errors):
            printToStandardError(errors.description)
            throw ExitCode(1)
        }
    }
}

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the version.")

    func run() {
        print("gateway \(GatewayVersion.current)")
    }
}

func printToStandardError(_ text: String) {
    writeToStandardError(text + "\n")
}
