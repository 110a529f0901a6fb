import GatewayConfig
import HTTPCaching
import NIOCore

/// Fetches a list of URLs into the store (`POST /admin/cache/warm`), a bounded number at a time,
/// spread over the event loops, and reports each URL's result.
struct CacheWarmer {
    struct Result: Sendable {
        var url: String
        var outcome: BackgroundFetch.Outcome
    }

    let server: GatewayServer

    /// Counts after each URL, for a caller that reports progress (a fleet warm).
    struct Tally: Sendable {
        var done = 0
        var stored = 0
        var failed = 0
    }

    func warm(
        _ urls: [String], concurrency: Int, progress: (@Sendable (Tally) async -> Void)? = nil
    ) async -> [Result] {
        var results = [Result?](repeating: nil, count: urls.count)
        var tally = Tally()
        await withTaskGroup(of: (Int, Result).self) { group in
            var next = 0
            func startNext() {
                guard next < urls.count else { return }
                let index = next
                next += 1
                group.addTask { (index, await warmOne(urls[index], slot: index)) }
            }
            for _ in 0..<max(1, concurrency) { startNext() }
            while let (index, result) = await group.next() {
                results[index] = result
                startNext()
                tally.done += 1
                switch result.outcome {
                case .stored: tally.stored += 1
                case .failed: tally.failed += 1
                case .notStored: break
                }
                await progress?(tally)
            }
        }
        return results.compactMap { $0 }
    }

    private func warmOne(_ url: String, slot: Int) async -> Result {
        let snapshot = server.snapshot
        let hostAndTarget: String
        do {
            hostAndTarget = try CacheAdmin.hostAndPath(url)
        } catch {
            return Result(url: url, outcome: .failed("'\(url)' needs a host, as in https://host/path"))
        }
        let slash = hostAndTarget.firstIndex(of: "/") ?? hostAndTarget.endIndex
        let host = String(hostAndTarget[..<slash])
        let target = slash == hostAndTarget.endIndex ? "/" : String(hostAndTarget[slash...])
        guard
            let match = snapshot.router.match(
                host: Substring(host), path: target.prefix { $0 != "?" }, method: "GET", headers: NoRequestHeaders())
        else { return Result(url: url, outcome: .failed("no route matches it")) }
        let routeConfig = snapshot.configuration.routes[match.routeIndex]
        guard let routeCache = routeConfig.cache else {
            return Result(url: url, outcome: .failed("route '\(routeConfig.name)' does not cache"))
        }
        guard let loop = server.loop(slot) else {
            return Result(url: url, outcome: .failed("the gateway is not running"))
        }
        let route = snapshot.routes[match.routeIndex]
        let caching = RouteCaching(routeCache)
        let request = BackgroundFetch.Request(
            key: CacheKey.make(host: host, target: target, query: caching.query), host: host, target: target,
            fields: { _ in [] }, stale: nil)
        let outcome = try? await loop.eventLoop.flatSubmit {
            BackgroundFetch.fetch(request, route: route, caching: caching, loop: loop.value, metrics: nil)
        }.get()
        return Result(url: url, outcome: outcome ?? .failed("the event loop is shutting down"))
    }
}

/// Requests made by the gateway itself carry no header a route could match on.
struct NoRequestHeaders: RouteHeaderLookup {
    func containsHeader(_ name: String) -> Bool { false }
    func containsHeader(_ name: String, value: String) -> Bool { false }
}
