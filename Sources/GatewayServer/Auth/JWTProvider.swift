import AsyncHTTPClient
import Authentication
import Foundation
import GatewayConfig
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// One configured JWT provider at run time: its current verifier (keys from config plus, with a
/// `jwks_url`, the last good JWKS), refreshed on a schedule and when a token names an unknown
/// key — at most every `min_refresh_interval`, so a flood of random `kid`s cannot hammer the
/// identity provider. A failed fetch keeps the last good keys.
final class JWTProvider: Sendable {
    let config: JWTProviderConfig
    private let staticSources: [JWTKeySet.Source]
    private let algorithms: Set<SigningAlgorithm>
    private let rules: JWTVerifier.Rules
    private let httpClient: HTTPClient?
    private let logger: Logger

    private struct State {
        var verifier: JWTVerifier
        /// Bumped whenever the keys change: cached verdicts from older keys are not trusted.
        var generation = 0
        var lastFetchStarted: ContinuousClock.Instant?
        var inFlight: Task<Void, Never>?
        var periodic: Task<Void, Never>?
    }

    private let state: NIOLockedValueBox<State>

    struct SetupError: Error, CustomStringConvertible {
        let description: String
    }

    private init(
        config: JWTProviderConfig, staticSources: [JWTKeySet.Source], algorithms: Set<SigningAlgorithm>,
        verifier: JWTVerifier, httpClient: HTTPClient?, logger: Logger
    ) {
        self.config = config
        self.staticSources = staticSources
        self.algorithms = algorithms
        self.rules = verifier.rules
        self.httpClient = httpClient
        self.logger = logger
        self.state = NIOLockedValueBox(State(verifier: verifier))
    }

    /// Reads the configured keys (secret from its environment variable, PEM files) and, with a
    /// JWKS URL, fetches it once; a JWKS that cannot be fetched at start leaves only the static
    /// keys (logged) and the schedule keeps trying.
    static func make(
        _ config: JWTProviderConfig, httpClient: HTTPClient?, environment: [String: String], logger: Logger
    ) async throws -> JWTProvider {
        let label = "auth.jwt.\(config.name)"
        let algorithms = Set(config.algorithms.compactMap(SigningAlgorithm.init(rawValue:)))
        var sources: [JWTKeySet.Source] = []
        if let variable = config.secretEnvironmentVariable {
            guard let secret = environment[variable], !secret.isEmpty else {
                throw SetupError(description: "\(label): environment variable \(variable) (secret_env) is not set")
            }
            sources.append(.secret(Array(secret.utf8), keyID: nil))
        }
        for file in config.publicKeyFiles {
            guard let text = try? String(contentsOfFile: file.path, encoding: .utf8) else {
                throw SetupError(description: "\(label): cannot read public key file \(file.path)")
            }
            sources.append(.pem(text, keyID: file.keyID))
        }
        let rules = JWTVerifier.Rules(
            issuer: config.issuer, audiences: config.audiences,
            leewaySeconds: Double(config.leeway.components.seconds), requiredClaims: config.requiredClaims)
        let keys: JWTKeySet
        do {
            keys = try await JWTKeySet.build(sources, algorithms: algorithms)
        } catch {
            throw SetupError(description: "\(label): \(error)")
        }
        let provider = JWTProvider(
            config: config, staticSources: sources, algorithms: algorithms,
            verifier: JWTVerifier(keys: keys, algorithms: algorithms, rules: rules),
            httpClient: config.jwksURL == nil ? nil : httpClient, logger: logger)
        if config.jwksURL != nil {
            await provider.fetch()
            provider.startSchedule()
        }
        return provider
    }

    /// The verifier and the generation of its keys, read together: a fetch between two separate
    /// reads would let a token checked with the old keys be cached under the new generation.
    var current: (verifier: JWTVerifier, generation: Int) {
        state.withLockedValue { ($0.verifier, $0.generation) }
    }

    /// A token named a key this provider does not have: fetch the JWKS again unless one was
    /// fetched within `min_refresh_interval`. Returns the refresh to wait for, or nil if none is
    /// allowed now (no JWKS, or rate-limited).
    func refreshForUnknownKey() -> Task<Void, Never>? {
        guard config.jwksURL != nil else { return nil }
        let minimum = config.minimumRefreshInterval
        return state.withLockedValue { state -> Task<Void, Never>? in
            if let inFlight = state.inFlight { return inFlight }
            let now = ContinuousClock.now
            if let last = state.lastFetchStarted, now - last < minimum { return nil }
            state.lastFetchStarted = now
            let task = Task { await self.fetch() }
            state.inFlight = task
            return task
        }
    }

    func stop() {
        state.withLockedValue { state in
            state.periodic?.cancel()
            state.inFlight?.cancel()
        }
    }

    private func startSchedule() {
        let refresh = config.refresh
        let task = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: refresh)
                guard !Task.isCancelled, let self else { return }
                await self.fetch()
            }
        }
        state.withLockedValue { $0.periodic = task }
    }

    private func fetch() async {
        guard let url = config.jwksURL, let httpClient else { return }
        state.withLockedValue { $0.lastFetchStarted = $0.lastFetchStarted ?? ContinuousClock.now }
        defer { state.withLockedValue { $0.inFlight = nil } }
        do {
            var request = HTTPClientRequest(url: url)
            request.headers.add(name: "accept", value: "application/json")
            let response = try await httpClient.execute(request, timeout: .seconds(5))
            guard response.status == .ok else { throw SetupError(description: "HTTP \(response.status.code)") }
            let body = try await response.body.collect(upTo: 1 << 20)
            let keys = try await JWTKeySet.build(
                staticSources + [.jwks(Array(body.readableBytesView))], algorithms: algorithms)
            let verifier = JWTVerifier(keys: keys, algorithms: algorithms, rules: rules)
            state.withLockedValue { state in
                state.verifier = verifier
                state.generation += 1
            }
            logger.info(
                "jwks fetched", metadata: ["provider": "\(config.name)", "keys": "\(keys.count)", "url": "\(url)"])
        } catch {
            // The last good keys stay.
            logger.warning(
                "jwks fetch failed; keeping the last good keys",
                metadata: ["provider": "\(config.name)", "url": "\(url)", "error": "\(error)"])
        }
    }
}
