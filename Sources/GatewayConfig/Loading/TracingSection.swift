import Yams

extension ConfigReader {
    /// `tracing: { otlp_endpoint, sample_ratio, service_name, flush_interval, export_timeout,
    /// max_queued_spans }`.
    mutating func readTracing(_ entry: Entry) -> TracingConfig? {
        let keys = [
            "otlp_endpoint", "sample_ratio", "service_name", "flush_interval", "export_timeout", "max_queued_spans",
        ]
        guard let s = section(entry, .tracing, context: "in 'tracing'", keys: keys) else { return nil }
        require(["otlp_endpoint"], in: s)
        guard let endpointEntry = s["otlp_endpoint"], let endpoint = name(endpointEntry) else { return nil }
        guard Self.isHTTPURL(endpoint) else {
            error(
                endpointEntry.line,
                "'otlp_endpoint' must be an http:// or https:// URL like http://127.0.0.1:4318/v1/traces, got '\(endpoint)'"
            )
            return nil
        }
        var config = TracingConfig(otlpEndpoint: endpoint)
        if let ratio = s["sample_ratio"].flatMap({ sampleRatio($0) }) { config.sampleRatio = ratio }
        if let service = s["service_name"].flatMap({ name($0) }) { config.serviceName = service }
        if let interval = s["flush_interval"].flatMap({ duration($0) }) { config.flushInterval = interval }
        if let timeout = s["export_timeout"].flatMap({ duration($0) }) { config.exportTimeout = timeout }
        if let queued = s["max_queued_spans"].flatMap({ int($0, in: 1...1_000_000) }) { config.maxQueuedSpans = queued }
        return config
    }

    /// A route's `tracing: { sample_ratio }`.
    mutating func readRouteTracing(_ entry: Entry, label: String) -> Double? {
        guard let s = section(entry, .routeTracing, context: "in tracing of \(label)", keys: ["sample_ratio"]) else {
            return nil
        }
        require(["sample_ratio"], in: s)
        return s["sample_ratio"].flatMap { sampleRatio($0) }
    }

    /// A number in [0, 1]: 0 turns tracing off (even under a sampled parent), 1 traces everything.
    private mutating func sampleRatio(_ entry: Entry) -> Double? {
        guard let text = scalarText(entry.value, expected: "a ratio like 0.1") else { return nil }
        guard let value = Double(text), value >= 0, value <= 1 else {
            error(entry.line, "'\(entry.key)' must be a number from 0 to 1, got '\(text)'")
            return nil
        }
        return value
    }

    private static func isHTTPURL(_ text: String) -> Bool {
        for scheme in ["http://", "https://"] where text.hasPrefix(scheme) {
            let rest = text.dropFirst(scheme.count)
            return !rest.isEmpty && !rest.hasPrefix("/") && HTTPSyntax.isWireSafe(String(rest))
        }
        return false
    }
}
