/// The request's headers as the router sees them.
///
/// A protocol rather than a concrete header type so that the router stays free of NIO: the server adapts
/// `HTTPHeaders` (or whatever it parsed) without copying it into another structure per request.
public protocol RouteHeaderLookup {
    /// `name` is lowercased; implementations compare header names case-insensitively.
    func containsHeader(_ name: String) -> Bool
    /// True if any value of header `name` equals `value` exactly (comma-split not required).
    func containsHeader(_ name: String, value: String) -> Bool
}
