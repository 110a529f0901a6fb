import NIOHTTP1

/// `X-Forwarded-For/-Proto/-Host` and `Via`. A client that is not a trusted proxy cannot make us
/// believe its own forwarding headers (that is how IP spoofing through XFF works), so for it they
/// are replaced; a trusted proxy's chain is extended, as nginx's `$proxy_add_x_forwarded_for` does.
enum ForwardedHeaders {
    static func apply(
        to headers: inout HTTPHeaders, client: ClientAddress, originalHost: String?, scheme: String, via: String
    ) {
        if client.isTrustedProxy, let existing = headers.first(name: "x-forwarded-for") {
            headers.replaceOrAdd(name: "x-forwarded-for", value: existing + ", " + client.ip)
        } else {
            headers.replaceOrAdd(name: "x-forwarded-for", value: client.ip)
        }
        if !(client.isTrustedProxy && headers.contains(name: "x-forwarded-proto")) {
            headers.replaceOrAdd(name: "x-forwarded-proto", value: scheme)
        }
        if !(client.isTrustedProxy && headers.contains(name: "x-forwarded-host")) {
            if let originalHost {
                headers.replaceOrAdd(name: "x-forwarded-host", value: originalHost)
            } else {
                headers.remove(name: "x-forwarded-host")
            }
        }
        if let existing = headers.first(name: "via") {
            headers.replaceOrAdd(name: "via", value: existing + ", " + via)
        } else {
            headers.add(name: "via", value: via)
        }
    }
}
