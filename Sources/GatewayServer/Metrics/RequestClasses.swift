import NIOHTTP1

/// Methods as a bounded label: a client inventing methods must not create new time series.
enum MethodClass: Int, CaseIterable, Sendable {
    case get, head, post, put, delete, patch, options, other

    init(_ method: HTTPMethod) {
        switch method {
        case .GET: self = .get
        case .HEAD: self = .head
        case .POST: self = .post
        case .PUT: self = .put
        case .DELETE: self = .delete
        case .PATCH: self = .patch
        case .OPTIONS: self = .options
        default: self = .other
        }
    }

    var label: String {
        switch self {
        case .get: "GET"
        case .head: "HEAD"
        case .post: "POST"
        case .put: "PUT"
        case .delete: "DELETE"
        case .patch: "PATCH"
        case .options: "OPTIONS"
        case .other: "other"
        }
    }
}

/// 1xx…5xx; anything outside 100…599 counts as 5xx (it can only be an upstream's fault).
enum StatusClass: Int, CaseIterable, Sendable {
    case informational, success, redirection, clientError, serverError

    init(status: Int) {
        switch status {
        case 100..<200: self = .informational
        case 200..<300: self = .success
        case 300..<400: self = .redirection
        case 400..<500: self = .clientError
        default: self = .serverError
        }
    }

    var label: String { "\(rawValue + 1)xx" }
}

/// Why an upstream attempt failed, as a bounded label.
enum UpstreamErrorKind: Int, CaseIterable, Sendable {
    case connectFailure, connectTimeout, responseTimeout, reset, invalidResponse, overloaded, tls

    var label: String {
        switch self {
        case .connectFailure: "connect_failure"
        case .connectTimeout: "connect_timeout"
        case .responseTimeout: "timeout"
        case .reset: "reset"
        case .invalidResponse: "invalid_response"
        case .overloaded: "overloaded"
        case .tls: "tls"
        }
    }
}
