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
