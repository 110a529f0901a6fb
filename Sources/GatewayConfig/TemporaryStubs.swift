// Stand-ins while the real router and loader are written beside; removed when they land.
public protocol RouteHeaderLookup {
    func containsHeader(_ name: String) -> Bool
    func containsHeader(_ name: String, value: String) -> Bool
}
public struct RouteParameter: Sendable, Equatable {
    public let name: String
    public let value: Substring
}
public struct RouteMatch: Sendable, Equatable {
    public let routeIndex: Int
    public let parameters: [RouteParameter]
}
public struct Router: Sendable {
    let routes: [RouteMatchConfig]
    public init(routes: [RouteMatchConfig]) { self.routes = routes }
    public func match<Headers: RouteHeaderLookup>(
        host: Substring?, path: Substring, method: Substring, headers: Headers
    ) -> RouteMatch? {
        for (index, route) in routes.enumerated() {
            if case .prefix(let prefix) = route.path, path.hasPrefix(prefix) {
                return RouteMatch(routeIndex: index, parameters: [])
            }
            if route.path == nil { return RouteMatch(routeIndex: index, parameters: []) }
        }
        return nil
    }
}
public struct ConfigDiagnostic: Sendable, Equatable, CustomStringConvertible {
    public let file: String
    public let line: Int?
    public let message: String
    public var description: String { "\(file):\(line ?? 0): \(message)" }
}
public struct ConfigErrors: Error, Sendable, CustomStringConvertible {
    public let diagnostics: [ConfigDiagnostic]
    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}
public enum ConfigLoader {
    public static func load(path: String, defaultNodeID: String = "node") -> Result<GatewayConfiguration, ConfigErrors> {
        .failure(ConfigErrors(diagnostics: [ConfigDiagnostic(file: path, line: nil, message: "stub")]))
    }
    public static func parse(yaml: String, fileName: String, defaultNodeID: String = "node") -> Result<
        GatewayConfiguration, ConfigErrors
    > {
        .failure(ConfigErrors(diagnostics: []))
    }
}
