import Logging

/// `/admin/logging`: the log level of lines without a subsystem (`level`) and of each subsystem,
/// changeable while the gateway runs; a change lasts until the next one or a restart (a reload
/// does not reset it). Levels are process-wide, as the logging system is.
struct LoggingAdmin {
    typealias Response = AdminAPI.Response

    let levels: LogLevels

    func show() -> Response {
        .json(200, document)
    }

    /// Body: `{"level": "info"}` for the base level, `{"subsystem": "fleet", "level": "debug"}`
    /// for one subsystem, `"level": null` to send a subsystem back to the base level.
    func change(_ body: [UInt8]) -> Response {
        guard case .object(let members) = (try? JSONParser.parse(body)) ?? .null else {
            return .error(400, "invalid_request", "The body must be a JSON object with 'level' (and 'subsystem').")
        }
        if let unknown = members.first(where: { $0.0 != "level" && $0.0 != "subsystem" }) {
            return .error(400, "invalid_request", "Unknown field '\(unknown.0)'; expected level, subsystem.")
        }
        let request = JSONValue.object(members)
        let names = Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")
        var level: Logger.Level?
        switch request["level"] {
        case .string(let text)?:
            guard let parsed = Logger.Level(rawValue: text) else {
                return .error(400, "invalid_request", "'level' must be one of \(names), not '\(text)'.")
            }
            level = parsed
        case .null?:
            level = nil
        default:
            return .error(400, "invalid_request", "'level' must be one of \(names) (or null for a subsystem).")
        }
        switch request["subsystem"] {
        case nil:
            guard let level else { return .error(400, "invalid_request", "The base level cannot be null.") }
            levels.base = level
        case .string(let name)?:
            guard let subsystem = LogSubsystem(rawValue: name) else {
                let known = LogSubsystem.allCases.map(\.rawValue).joined(separator: ", ")
                return .error(400, "invalid_request", "Unknown subsystem '\(name)'; known: \(known).")
            }
            levels.set(level, for: subsystem)
        default:
            return .error(400, "invalid_request", "'subsystem' must be a string.")
        }
        return .json(200, document)
    }

    /// The levels now in force.
    private var document: JSONValue {
        .object([
            ("level", .string(levels.base.rawValue)),
            (
                "subsystems",
                .object(LogSubsystem.allCases.map { ($0.rawValue, .string(levels.level(of: $0).rawValue)) })
            ),
        ])
    }
}
