import GatewayConfig

/// What the admin API answers, independent of the socket it arrives on (AdminServer), so every
/// endpoint can be tested as a call.
public final class AdminAPI: Sendable {
    struct Request: Sendable {
        var method: String
        /// Without the query.
        var path: String
        var authorization: String?
        var query: String = ""
        var body: [UInt8] = []
    }

    struct Response: Sendable {
        var status: Int
        var contentType = "application/json"
        var body: String
        var headers: [(String, String)] = []

        static func json(_ status: Int, _ value: JSONValue) -> Response {
            Response(status: status, body: value.rendered)
        }

        static func error(_ status: Int, _ code: String, _ message: String) -> Response {
            json(status, .object([("error", .string(code)), ("message", .string(message))]))
        }
    }

    let server: GatewayServer
    private let reloader: ConfigReloader?
    private let authorization: AdminAuthorization

    /// `token` nil: no token asked (only valid on a loopback address, which validation ensures).
    public init(server: GatewayServer, reloader: ConfigReloader?, token: String?) {
        self.server = server
        self.reloader = reloader
        self.authorization = AdminAuthorization(token: token)
    }

    private static let endpoints: [String: [String]] = [
        "/admin/health": ["GET", "HEAD"], "/admin/ready": ["GET", "HEAD"], "/admin/config": ["GET", "HEAD"],
        "/admin/reload": ["POST"], "/admin/upstreams": ["GET", "HEAD"], "/metrics": ["GET", "HEAD"],
        "/admin/cache/purge": ["POST"], "/admin/cache/stats": ["GET", "HEAD"], "/admin/cache/warm": ["POST"],
        "/admin/ratelimits": ["GET", "HEAD"], "/admin/logging": ["GET", "HEAD", "PUT"],
        "/admin/stats": ["GET", "HEAD"],
    ]

    func handle(_ request: Request) async -> Response {
        // The status page's files hold no data (the page fetches it with the token), so they are
        // served without one: a person opens the page, then gives the token once.
        if let asset = StatusPage.asset(at: request.path) {
            guard request.method == "GET" || request.method == "HEAD" else {
                var response = Response.error(405, "method_not_allowed", "\(request.path) accepts GET, HEAD.")
                response.headers.append(("allow", "GET, HEAD"))
                return response
            }
            return asset
        }
        guard authorization.allows(authorizationHeader: request.authorization) else {
            var response = Response.error(401, "unauthorized", "A valid bearer token is required.")
            response.headers.append(("www-authenticate", "Bearer realm=\"gateway-admin\""))
            return response
        }
        if request.path.hasPrefix(CacheAdmin.warmProgressPrefix) {
            guard request.method == "GET" || request.method == "HEAD" else {
                var response = Response.error(405, "method_not_allowed", "\(request.path) accepts GET, HEAD.")
                response.headers.append(("allow", "GET, HEAD"))
                return response
            }
            return await CacheAdmin(server: server).warmProgress(path: request.path)
        }
        guard let methods = Self.endpoints[request.path] else {
            return .error(404, "not_found", "No admin endpoint at \(request.path).")
        }
        guard methods.contains(request.method) else {
            var response = Response.error(
                405, "method_not_allowed", "\(request.path) accepts \(methods.joined(separator: ", ")).")
            response.headers.append(("allow", methods.joined(separator: ", ")))
            return response
        }
        switch request.path {
        case "/admin/health":
            return .json(200, .object([("status", .string("ok"))]))
        case "/admin/ready":
            return ready()
        case "/admin/config":
            let snapshot = server.snapshot
            return .json(
                200,
                .object([
                    ("generation", .int(snapshot.generation)),
                    ("config", ConfigDocument.render(snapshot.configuration)),
                ]))
        case "/admin/reload":
            return await reload()
        case "/admin/upstreams":
            return await upstreams()
        case "/admin/cache/purge":
            return await CacheAdmin(server: server).purge(request.body)
        case "/admin/cache/warm":
            return await CacheAdmin(server: server).warm(request.body)
        case "/admin/cache/stats":
            return await CacheAdmin(server: server).stats(query: request.query)
        case "/admin/logging":
            let admin = LoggingAdmin(levels: .shared)
            return request.method == "PUT" ? admin.change(request.body) : admin.show()
        case "/admin/ratelimits":
            return await RateLimitAdmin(server: server).handle(query: request.query)
        case "/admin/stats":
            return .json(200, await TrafficDocument(server: server).render())
        default:
            return Response(
                status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: await server.metricsText())
        }
    }

    private func ready() -> Response {
        let generation = JSONValue.int(server.snapshot.generation)
        if server.isReady {
            let listeners = server.boundAddresses.sorted { $0.key < $1.key }.map {
                ($0.key, JSONValue.string(GatewayServer.format($0.value)))
            }
            return .json(
                200,
                .object([("ready", .bool(true)), ("generation", generation), ("listeners", .object(listeners))]))
        }
        let reason = server.isDraining ? "draining" : "not_started"
        return .json(503, .object([("ready", .bool(false)), ("reason", .string(reason)), ("generation", generation)]))
    }

    private func reload() async -> Response {
        guard let reloader else {
            return .error(503, "reload_unavailable", "This gateway was not started from a configuration file.")
        }
        switch await reloader.reload() {
        case .applied(let generation):
            return .json(200, .object([("result", .string("applied")), ("generation", .int(generation))]))
        case .rejected(let problems):
            return .json(
                422,
                .object([
                    ("result", .string("rejected")), ("generation", .int(server.snapshot.generation)),
                    ("problems", .array(problems.map(JSONValue.string))),
                ]))
        }
    }
}
