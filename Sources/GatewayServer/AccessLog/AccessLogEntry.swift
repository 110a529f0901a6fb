import NIOCore
import NIOHTTP1

/// What one access log line says about one request. Built on the event loop when the exchange
/// ends and written straight into the loop's batch as bytes.
struct AccessLogEntry {
    var requestID: RequestID
    var client: String
    var method: HTTPMethod
    var host: String?
    var target: String?
    var status: Int
    var receivedBytes: Int
    var sentBytes: Int
    var duration: TimeAmount
    var route: String?
    var upstreamEndpoint: String?
    var upstreamDuration: TimeAmount?
    /// `X-Cache`'s word on cached routes.
    var cacheStatus: String?
    /// Who authenticated: the token's `sub` or the API key's consumer; nil on open routes.
    var user: String? = nil
    /// The client's region by `geo`, on routes that pick their upstream by it.
    var region: String? = nil
    /// The trace id of the request's W3C `traceparent`, when it brought one.
    var traceID: String? = nil

    /// One JSON object and a line feed. Field names follow nginx's variables where one exists.
    func write(into line: inout JSONLineWriter, clock: inout WallClockText) {
        line.begin()
        line.key("time")
        clock.writeQuoted(into: &line.bytes)
        line.key("request_id")
        line.bytes.append(UInt8(ascii: "\""))
        requestID.append(to: &line.bytes)
        line.bytes.append(UInt8(ascii: "\""))
        line.field("client_ip", client)
        line.field("method", method.rawValue)
        line.field("host", host)
        line.field("path", target)
        line.field("status", status)
        line.field("bytes_received", receivedBytes)
        line.field("bytes_sent", sentBytes)
        line.millisecondsField("duration_ms", duration)
        line.field("route", route)
        line.field("upstream", upstreamEndpoint)
        if let upstreamDuration {
            line.millisecondsField("upstream_duration_ms", upstreamDuration)
        } else {
            line.key("upstream_duration_ms")
            line.null()
        }
        line.field("cache_status", cacheStatus)
        line.field("user", user)
        if let region { line.field("region", region) }
        line.field("trace_id", traceID)
        line.end()
    }
}
