/// The route chosen for a request.
public struct RouteMatch: Sendable, Equatable {
    /// Index into the array given to `Router.init`.
    public let routeIndex: Int
    /// Values of the route's `{name}` segments in path order; empty (and unallocated) for routes without them.
    public let parameters: [RouteParameter]

    public init(routeIndex: Int, parameters: [RouteParameter] = []) {
        self.routeIndex = routeIndex
        self.parameters = parameters
    }
}

/// One `{name}` segment of a path template and the request's segment it matched.
public struct RouteParameter: Sendable, Equatable {
    public let name: String
    /// A slice of the request path, so capturing costs no copy of the bytes.
    public let value: Substring

    public init(name: String, value: Substring) {
        self.name = name
        self.value = value
    }
}
