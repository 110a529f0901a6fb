/// `Connection` option parsing shared by both head writers.
enum ConnectionOptions {
    /// Field names a `Connection` value lists beyond its keep-alive/close options, lowercased
    /// (RFC 9110 7.6.1). `host` is never one: stripping it would break routing upstream.
    static func namedFields(in value: Substring, into names: inout [String]) {
        for token in value.split(separator: ",") {
            let name = token.trimmingSpaces().lowercased()
            if !name.isEmpty && name != "keep-alive" && name != "close" && name != "host" {
                names.append(name)
            }
        }
    }
}
