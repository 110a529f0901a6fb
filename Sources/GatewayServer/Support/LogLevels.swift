import Logging
import NIOConcurrencyHelpers

/// The parts of the gateway whose log level can be set on its own (`PUT /admin/logging`).
public enum LogSubsystem: String, CaseIterable, Sendable {
    /// Request path: upstream failures and timeouts, with request and trace id.
    case proxy
    /// Health checks, pools, TLS to upstreams.
    case upstream
    /// Fleet purges, warms and statistics through Redis.
    case fleet
    /// Redis clients (rate limits).
    case redis
    /// JWKS and introspection.
    case auth
    /// Start, reload, drain.
    case config
    /// Span export to the OTLP collector.
    case tracing
}

extension Logger {
    /// This logger, tagged so its lines obey `subsystem`'s level.
    public func subsystem(_ subsystem: LogSubsystem) -> Logger {
        var tagged = self
        tagged[metadataKey: LogLevels.subsystemKey] = .string(subsystem.rawValue)
        return tagged
    }
}

/// Log levels per subsystem, changeable while the gateway runs. Process-wide, as swift-log's
/// handlers are: a `Logger` is a value copied into every component, so a level set on one copy
/// would change nothing; the handler asks here instead, for each line.
public final class LogLevels: Sendable {
    public static let shared = LogLevels()
    static let subsystemKey = "subsystem"

    private struct State {
        var base: Logger.Level = .info
        var overrides: [LogSubsystem: Logger.Level] = [:]
        /// The most verbose of all: what swift-log may pass to the handler, which filters per
        /// subsystem (swift-log checks one level per handler before it builds the line).
        var mostVerbose: Logger.Level = .info
    }

    private let state = NIOLockedValueBox(State())

    /// The level of lines without a subsystem, and of subsystems without a level of their own.
    public var base: Logger.Level {
        get { state.withLockedValue { $0.base } }
        set {
            state.withLockedValue { state in
                state.base = newValue
                Self.recompute(&state)
            }
        }
    }

    public func level(of subsystem: LogSubsystem) -> Logger.Level {
        state.withLockedValue { $0.overrides[subsystem] ?? $0.base }
    }

    /// nil: back to the base level.
    public func set(_ level: Logger.Level?, for subsystem: LogSubsystem) {
        state.withLockedValue { state in
            state.overrides[subsystem] = level
            Self.recompute(&state)
        }
    }

    var mostVerbose: Logger.Level { state.withLockedValue { $0.mostVerbose } }

    /// Whether a line at `level`, from a logger tagged `subsystem` (nil: untagged), is written.
    func allows(_ level: Logger.Level, subsystem: String?) -> Bool {
        state.withLockedValue { state in
            let threshold =
                subsystem.flatMap(LogSubsystem.init(rawValue:)).flatMap { state.overrides[$0] } ?? state.base
            return level >= threshold
        }
    }

    private static func recompute(_ state: inout State) {
        state.mostVerbose = ([state.base] + state.overrides.values).min() ?? state.base
    }
}
