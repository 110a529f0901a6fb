import Authentication
import NIOHTTP1

/// Every error the gateway answers itself, mapped to a status and a stable machine-readable code in
/// one place (DESIGN.md "errors mapped to HTTP in one place"). A struct of static constants rather
/// than an enum so later issues add kinds without breaking exhaustive switches elsewhere.
struct GatewayError: Error, Equatable, CustomStringConvertible {
    enum Source: Equatable {
        case downstream
        case upstream
        case internalFault
    }

    let code: String
    let status: HTTPResponseStatus
    let source: Source
    let message: String

    var description: String { "\(code): \(message)" }

    static let badRequest = GatewayError(
        code: "bad_request", status: .badRequest, source: .downstream, message: "The request is malformed.")
    static let badPath = GatewayError(
        code: "bad_request", status: .badRequest, source: .downstream,
        message:
            "The request path is not allowed: an encoded slash or backslash, '..' above the root, or a bad %-escape.")
    static let invalidHost = GatewayError(
        code: "bad_request", status: .badRequest, source: .downstream,
        message: "The Host header is not a valid host[:port].")
    static let uriTooLong = GatewayError(
        code: "uri_too_long", status: .uriTooLong, source: .downstream,
        message: "The request line exceeds the header size limit of this listener.")
    static let missingHost = GatewayError(
        code: "bad_request", status: .badRequest, source: .downstream,
        message: "HTTP/1.1 requests must carry exactly one Host header.")
    /// A cleartext listener with `https_redirect`: 301 for GET/HEAD, 308 (method kept) otherwise.
    static let httpsRedirect = GatewayError(
        code: "https_required", status: .movedPermanently, source: .downstream,
        message: "This address only redirects to HTTPS; see Location.")
    static let httpsRedirectKeepingMethod = GatewayError(
        code: "https_required", status: .permanentRedirect, source: .downstream,
        message: "This address only redirects to HTTPS; see Location.")
    static let noRoute = GatewayError(
        code: "no_route", status: .notFound, source: .downstream, message: "No route matches this request.")
    static let payloadTooLarge = GatewayError(
        code: "payload_too_large", status: .payloadTooLarge, source: .downstream,
        message: "The request body exceeds the limit of this listener.")
    static let headersTooLarge = GatewayError(
        code: "request_header_fields_too_large", status: .requestHeaderFieldsTooLarge, source: .downstream,
        message: "The request headers exceed the limit of this listener.")
    static let versionNotSupported = GatewayError(
        code: "http_version_not_supported", status: .httpVersionNotSupported, source: .downstream,
        message: "Only HTTP/1.0 and HTTP/1.1 are spoken on this listener.")
    static let requestTimeout = GatewayError(
        code: "request_timeout", status: .requestTimeout, source: .downstream,
        message: "The request body did not arrive in time.")
    static let unsupportedTransferCoding = GatewayError(
        code: "not_implemented", status: .notImplemented, source: .downstream,
        message: "Only the chunked transfer coding is supported.")
    static let unsupportedExpectation = GatewayError(
        code: "expectation_failed", status: .expectationFailed, source: .downstream,
        message: "Only Expect: 100-continue is supported.")
    static let upstreamUnavailable = GatewayError(
        code: "upstream_unavailable", status: .badGateway, source: .upstream,
        message: "The upstream could not be reached.")
    static let upstreamReset = GatewayError(
        code: "upstream_reset", status: .badGateway, source: .upstream,
        message: "The upstream closed the connection before answering.")
    static let upstreamTLSFailure = GatewayError(
        code: "upstream_tls_failed", status: .badGateway, source: .upstream,
        message: "The TLS handshake with the upstream failed.")
    static let upstreamInvalidResponse = GatewayError(
        code: "bad_gateway", status: .badGateway, source: .upstream,
        message: "The upstream sent an invalid response.")
    static let upstreamConnectTimeout = GatewayError(
        code: "upstream_timeout", status: .gatewayTimeout, source: .upstream,
        message: "Connecting to the upstream timed out.")
    static let upstreamTimeout = GatewayError(
        code: "upstream_timeout", status: .gatewayTimeout, source: .upstream,
        message: "The upstream did not answer in time.")
    static let noEndpoint = GatewayError(
        code: "no_healthy_upstream", status: .serviceUnavailable, source: .upstream,
        message: "No endpoint of the upstream is in rotation (circuits open, health checks failing or ejected).")
    static let upstreamOverloaded = GatewayError(
        code: "upstream_overloaded", status: .serviceUnavailable, source: .upstream,
        message: "Too many requests are waiting for an upstream connection.")
    static let upstreamConcurrencyLimit = GatewayError(
        code: "upstream_overloaded", status: .serviceUnavailable, source: .upstream,
        message: "The upstream has as many requests in flight as it is allowed; retry after the time in Retry-After.")
    static let upstreamPendingLimit = GatewayError(
        code: "upstream_overloaded", status: .serviceUnavailable, source: .upstream,
        message: "Too many requests are waiting for this upstream; retry after the time in Retry-After.")
    static let routeConcurrencyLimit = GatewayError(
        code: "route_overloaded", status: .serviceUnavailable, source: .upstream,
        message: "The route has as many requests in flight as it is allowed; retry after the time in Retry-After.")
    static let rateLimited = GatewayError(
        code: "rate_limited", status: .tooManyRequests, source: .downstream,
        message: "Too many requests; retry after the time in Retry-After.")
    static let rateLimiterUnavailable = GatewayError(
        code: "rate_limiter_unavailable", status: .serviceUnavailable, source: .internalFault,
        message: "The rate limiter cannot decide right now and this limit fails closed.")
    /// 401/403/503 for a request that did not authenticate; the code is the failure's reason.
    static func authentication(_ failure: AuthFailure) -> GatewayError {
        GatewayError(
            code: failure.rawValue, status: HTTPResponseStatus(statusCode: failure.status), source: .downstream,
            message: failure.description)
    }

    static let notCached = GatewayError(
        code: "not_cached", status: .gatewayTimeout, source: .downstream,
        message: "The request said only-if-cached and the cache cannot answer it.")
}
