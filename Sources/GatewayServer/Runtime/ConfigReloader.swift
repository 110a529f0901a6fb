import GatewayConfig
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle
import UnixSignals

/// Reloads the configuration file on SIGHUP (as nginx does): read, validate and compile off the
/// event loops, then publish to the server. An invalid file changes nothing; every problem is
/// logged as `FILE:LINE: message`.
public final class ConfigReloader: Service, Sendable {
    public enum Outcome: Equatable, Sendable {
        case applied(generation: Int)
        case rejected(problems: [String])
    }

    private let path: String
    private let server: GatewayServer
    private let logger: Logger
    /// The last reload started: each new one waits for it, so reloads (SIGHUP, the admin API)
    /// reach the event loops one at a time and generations only go up.
    private let lastReload = NIOLockedValueBox<Task<Outcome, Never>?>(nil)

    public init(path: String, server: GatewayServer, logger: Logger) {
        self.path = path
        self.server = server
        self.logger = logger
    }

    /// SIGHUP: reopen the access log and reload the file (nginx's `-s reload`); SIGUSR1: reopen
    /// the access log only (nginx's `-s reopen`, what logrotate's postrotate sends).
    public func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup, .sigusr1)
        for await signal in signals.cancelOnGracefulShutdown() {
            server.accessLog.reopen()
            if signal == .sighup {
                _ = await reload()
            }
        }
    }

    /// One reload attempt, after any still running; also what `POST /admin/reload` will call.
    public func reload() async -> Outcome {
        let task = lastReload.withLockedValue { last -> Task<Outcome, Never> in
            let previous = last
            let next = Task {
                _ = await previous?.value
                return await self.reloadNow()
            }
            last = next
            return next
        }
        return await task.value
    }

    private func reloadNow() async -> Outcome {
        let current = server.snapshot
        switch ConfigLoader.load(path: path) {
        case .failure(let errors):
            let problems = errors.diagnostics.map(\.description)
            for problem in problems {
                logger.error("configuration reload rejected", metadata: ["problem": "\(problem)"])
            }
            logger.error(
                "configuration unchanged",
                metadata: ["generation": "\(current.generation)", "problems": "\(problems.count)"])
            server.processMetrics.reloadFailed(problems: problems, generation: current.generation)
            return .rejected(problems: problems)
        case .success(let configuration):
            if Self.storeSettings(configuration.cache) != Self.storeSettings(current.configuration.cache) {
                // The store is built once; rebuilding it on reload would drop every cached object.
                logger.warning(
                    "cache memory, max_object, eviction, coalesce_timeout and compression are not applied by a reload; restart to apply them"
                )
            }
            if configuration.redis != current.configuration.redis {
                logger.warning("redis changes are not applied by a reload; restart to apply them")
            }
            if configuration.tracing?.withoutSampleRatio != current.configuration.tracing?.withoutSampleRatio {
                logger.warning(
                    "tracing changes other than sample ratios are not applied by a reload; restart to apply them")
            }
            if configuration.admin != current.configuration.admin {
                logger.warning("admin listener changes are not applied by a reload; restart to apply them")
            }
            let next = Snapshot(configuration: configuration, generation: current.generation + 1)
            do {
                try await server.reload(to: next)
            } catch {
                logger.error(
                    "configuration reload failed",
                    metadata: ["error": "\(error)", "generation": "\(current.generation)"])
                server.processMetrics.reloadFailed(problems: ["\(error)"], generation: current.generation)
                return .rejected(problems: ["\(error)"])
            }
            server.processMetrics.reloadSucceeded(generation: next.generation)
            return .applied(generation: next.generation)
        }
    }

    /// The parts of `cache` that belong to the store (all but targeted_header, which a reload applies).
    private static func storeSettings(_ cache: CacheConfig?) -> CacheConfig {
        var settings = cache ?? CacheConfig()
        settings.targetedHeader = nil
        return settings
    }
}
