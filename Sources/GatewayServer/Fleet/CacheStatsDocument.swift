/// Cache analytics as JSON, in two forms: the wire form a node stores in Redis for the others
/// (raw counts and histogram buckets, so edges can be added up exactly), and the summary
/// `GET /admin/cache/stats` shows (ratios and quantiles), for one node or many.
enum CacheStatsDocument {
    /// The wire form: `{node, region, at, analytics}`.
    static func wire(_ analytics: CacheAnalytics, node: FleetCommands.Node, at unixMilliseconds: Int64) -> JSONValue {
        .object([
            ("node", .string(node.id)), ("region", node.region.map(JSONValue.string) ?? .null),
            ("at", .int(Int(unixMilliseconds))),
            ("requests", .array(analytics.requests.map(JSONValue.int))),
            ("bytes_served", .int(analytics.bytesServed)), ("bytes_from_origin", .int(analytics.bytesFromOrigin)),
            (
                "response_times",
                .array(
                    analytics.responseTimes.map { histogram in
                        .object([
                            ("counts", .array(histogram.counts.map(JSONValue.int))),
                            ("sum_ns", .int(Int(histogram.sumNanoseconds))),
                        ])
                    })
            ),
            (
                "top",
                .array(
                    analytics.topObjects.top(analytics.topObjects.capacity).map { item in
                        .array([
                            .string(item.object), .int(item.counter.count), .int(item.counter.error),
                            .int(item.counter.bytes),
                        ])
                    })
            ),
        ])
    }

    struct NodeStats {
        let node: FleetCommands.Node
        let at: Int64
        let analytics: CacheAnalytics
    }

    /// nil for anything that is not a wire document of this version.
    static func node(fromWire document: JSONValue) -> NodeStats? {
        guard case .string(let id) = document["node"], case .int(let at) = document["at"],
            case .array(let requests) = document["requests"], requests.count == CacheOutcome.allCases.count,
            case .int(let served) = document["bytes_served"], case .int(let fromOrigin) = document["bytes_from_origin"],
            case .array(let times) = document["response_times"], times.count == CacheOutcome.allCases.count,
            case .array(let top) = document["top"]
        else { return nil }
        var region: String?
        if case .string(let text) = document["region"] { region = text }
        var analytics = CacheAnalytics()
        for (index, value) in requests.enumerated() {
            guard case .int(let count) = value else { return nil }
            analytics.requests[index] = count
        }
        analytics.bytesServed = served
        analytics.bytesFromOrigin = fromOrigin
        for (index, value) in times.enumerated() {
            guard case .array(let counts) = value["counts"], case .int(let sum) = value["sum_ns"],
                let histogram = DurationHistogram(
                    counts: counts.compactMap { if case .int(let count) = $0 { count } else { nil } },
                    sumNanoseconds: Int64(sum))
            else { return nil }
            analytics.responseTimes[index] = histogram
        }
        for item in top {
            guard case .array(let parts) = item, parts.count == 4, case .string(let object) = parts[0],
                case .int(let count) = parts[1], case .int(let error) = parts[2], case .int(let bytes) = parts[3]
            else { continue }
            analytics.topObjects.insert(object, HeavyHitters.Counter(count: count, error: error, bytes: bytes))
        }
        analytics.topObjects.trim()
        return NodeStats(node: FleetCommands.Node(id: id, region: region), at: Int64(at), analytics: analytics)
    }

    /// The summary members shared by the node and fleet views.
    static func summary(_ analytics: CacheAnalytics, top: Int) -> [(String, JSONValue)] {
        [
            ("hit_ratio", analytics.hitRatio.map { .string(format3($0)) } ?? .null),
            ("bytes_served", .int(analytics.bytesServed)), ("bytes_from_origin", .int(analytics.bytesFromOrigin)),
            (
                "response_time_ms",
                .object(
                    CacheOutcome.allCases.enumerated().map { index, outcome in
                        let histogram = analytics.responseTimes[index]
                        return (
                            outcome.rawValue.lowercased(),
                            .object([
                                ("count", .int(histogram.count)),
                                ("p50_at_most", quantile(histogram, 0.5)), ("p99_at_most", quantile(histogram, 0.99)),
                            ])
                        )
                    })
            ),
            (
                "top_objects",
                .array(
                    analytics.topObjects.top(top).map { item in
                        .object([
                            ("object", .string(item.object)), ("requests", .int(item.counter.count)),
                            ("overcount_at_most", .int(item.counter.error)), ("bytes", .int(item.counter.bytes)),
                        ])
                    })
            ),
        ]
    }

    private static func quantile(_ histogram: DurationHistogram, _ quantile: Double) -> JSONValue {
        guard histogram.count > 0 else { return .null }
        guard let seconds = histogram.upperBound(ofQuantile: quantile) else { return .string("+Inf") }
        return .string(format3(seconds * 1000))
    }

    static func format3(_ value: Double) -> String {
        let thousandths = Int((value * 1000).rounded())
        let fraction = thousandths % 1000
        return "\(thousandths / 1000)." + (fraction < 10 ? "00" : fraction < 100 ? "0" : "") + "\(fraction)"
    }
}
