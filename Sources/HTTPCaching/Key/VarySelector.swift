/// The secondary key of a stored response (RFC 9111 4.1): the names its `Vary` lists and the
/// request's values for them, normalised so trivially different spellings select the same variant.
public struct VarySelector: Sendable, Equatable {
    /// Lowercased field names, in the order `Vary` listed them, without duplicates.
    public let names: [String]
    /// The fetching request's normalised values, one per name ("" when absent).
    public let values: [String]

    public static let none = VarySelector(names: [], values: [])

    public init(names: [String], values: [String]) {
        self.names = names
        self.values = values
    }

    /// From the response's `Vary` values and a reader of the request's fields.
    public init(vary: [String], request: (String) -> [String]) {
        var names: [String] = []
        for value in vary {
            for name in value.split(separator: ",") {
                let lowercased = name.trimmingSpaces.lowercased()
                if !lowercased.isEmpty, !names.contains(lowercased) { names.append(lowercased) }
            }
        }
        self.names = names
        self.values = names.map { Self.normalise(name: $0, values: request($0)) }
    }

    /// Whether a request selects this variant.
    public func matches(_ request: (String) -> [String]) -> Bool {
        for (index, name) in names.enumerated() where Self.normalise(name: name, values: request(name)) != values[index]
        {
            return false
        }
        return true
    }

    /// Several lines are one comma-joined list (RFC 9110 5.3); whitespace around commas and at the
    /// ends does not matter. Accept-Encoding becomes the set of codings this cache can serve
    /// from it, since the cache negotiates those itself.
    static func normalise(name: String, values: [String]) -> String {
        let items = values.flatMap { $0.split(separator: ",") }.map { $0.trimmingSpaces }.filter { !$0.isEmpty }
        if name == "accept-encoding" {
            return AcceptEncoding(values).preferenceKey
        }
        return items.joined(separator: ",")
    }
}
