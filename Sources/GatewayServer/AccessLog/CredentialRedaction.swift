import GatewayConfig

/// Keeps credentials sent in the query string (`?access_token=…`, `?api_key=…`, when a route's
/// auth reads them from there) out of the access log: anyone who can read the log could
/// otherwise replay them. The value is replaced, the parameter's name and position are kept.
enum CredentialRedaction {
    static let placeholder = "[redacted]"

    /// `target` itself, without a copy, when it has no query or no credential parameter. Names are
    /// compared percent-decoded, exactly as `CredentialReader` finds the credential, so
    /// `access%5Ftoken=…` is redacted too.
    static func redact(_ target: String, names: [String]) -> String {
        guard !names.isEmpty, let question = target.firstIndex(of: "?") else { return target }
        let parameters = target[target.index(after: question)...].split(
            separator: "&", omittingEmptySubsequences: false)
        func isCredential(_ parameter: Substring) -> Bool {
            let name = parameter.utf8.prefix { $0 != UInt8(ascii: "=") }
            guard name.count < parameter.utf8.count, let decoded = PercentDecoding.decode(name) else { return false }
            return names.contains { $0.utf8.elementsEqual(decoded) }
        }
        guard parameters.contains(where: isCredential) else { return target }
        let redacted = parameters.map { parameter in
            isCredential(parameter) ? parameter.prefix { $0 != "=" } + "=" + placeholder : parameter
        }
        return String(target[...question]) + redacted.joined(separator: "&")
    }
}
