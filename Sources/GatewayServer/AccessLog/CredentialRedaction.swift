/// Keeps credentials sent in the query string (`?access_token=…`, `?api_key=…`, when a route's
/// auth reads them from there) out of the access log: anyone who can read the log could
/// otherwise replay them. The value is replaced, the parameter's name and position are kept.
enum CredentialRedaction {
    static let placeholder = "[redacted]"

    /// `target` itself, without a copy, when it has no query or no credential parameter.
    static func redact(_ target: String, names: [String]) -> String {
        guard !names.isEmpty, let question = target.utf8.firstIndex(of: UInt8(ascii: "?")) else { return target }
        let query = target[target.index(after: question)...]
        var changed = false
        let parameters = query.split(separator: "&", omittingEmptySubsequences: false).map { parameter in
            let name = parameter.prefix { $0 != "=" }
            guard name.count < parameter.count, names.contains(where: { $0 == name }) else { return parameter }
            changed = true
            return name + "=" + placeholder
        }
        guard changed else { return target }
        return String(target[...question]) + parameters.joined(separator: "&")
    }
}
