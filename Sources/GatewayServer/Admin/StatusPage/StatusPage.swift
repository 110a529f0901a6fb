/// The status page for people on the admin listener: `GET /admin/` and its script and style,
/// compiled into the binary (no CDN, no framework, nothing to install). The page holds no data;
/// it asks the admin JSON endpoints every few seconds with the token the person gave once, kept
/// in the tab's session storage.
enum StatusPage {
    /// Scripts and styles from this origin only, no inline code, no framing: a page that shows
    /// client-controlled text (URLs of top objects, route names) must not be able to run it.
    private static let securityHeaders: [(String, String)] = [
        (
            "content-security-policy",
            "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
                + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        ),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
    ]

    static func asset(at path: String) -> AdminAPI.Response? {
        let body: String
        let type: String
        switch path {
        case "/admin", "/admin/":
            (body, type) = (StatusPageDocument.html, "text/html; charset=utf-8")
        case "/admin/status.js":
            (body, type) = (StatusPageScript.javascript, "text/javascript; charset=utf-8")
        case "/admin/status.css":
            (body, type) = (StatusPageStyle.css, "text/css; charset=utf-8")
        default:
            return nil
        }
        return AdminAPI.Response(status: 200, contentType: type, body: body, headers: securityHeaders)
    }
}
