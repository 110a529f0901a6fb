/// The `auth` section: named JWT providers, introspection endpoints and API key sets that routes
/// refer to.
public struct AuthConfig: Sendable, Equatable {
    public var jwt: [JWTProviderConfig]
    public var introspection: [IntrospectionConfig]
    public var apiKeys: [APIKeySetConfig]

    public init(
        jwt: [JWTProviderConfig] = [], introspection: [IntrospectionConfig] = [], apiKeys: [APIKeySetConfig] = []
    ) {
        self.jwt = jwt
        self.introspection = introspection
        self.apiKeys = apiKeys
    }

    public var isEmpty: Bool { jwt.isEmpty && introspection.isEmpty && apiKeys.isEmpty }
}

/// Where a credential is read from in a request.
public enum CredentialSource: Sendable, Equatable {
    /// `Authorization: Bearer <token>`.
    case bearer
    case header(String)
    case query(String)
    case cookie(String)
}

public struct JWTProviderConfig: Sendable, Equatable {
    public struct PublicKeyFile: Sendable, Equatable {
        public var path: String
        public var keyID: String?

        public init(path: String, keyID: String? = nil) {
            self.path = path
            self.keyID = keyID
        }
    }

    public var name: String
    /// http(s) URL of a JWKS document, fetched at start and every `refresh`.
    public var jwksURL: String?
    public var refresh: Duration
    /// An unknown `kid` asks for the JWKS again at most this often.
    public var minimumRefreshInterval: Duration
    public var issuer: String?
    public var audiences: [String]
    /// JWS names (`RS256`, …); validated against the supported set.
    public var algorithms: [String]
    public var leeway: Duration
    /// Name of the environment variable holding an HMAC secret.
    public var secretEnvironmentVariable: String?
    public var publicKeyFiles: [PublicKeyFile]
    public var requiredClaims: [String]
    public var token: CredentialSource
    /// Verified tokens remembered per event loop (0 turns the cache off).
    public var cacheEntries: Int

    public init(
        name: String, jwksURL: String? = nil, refresh: Duration = .seconds(300),
        minimumRefreshInterval: Duration = .seconds(10), issuer: String? = nil, audiences: [String] = [],
        algorithms: [String] = [], leeway: Duration = .seconds(0), secretEnvironmentVariable: String? = nil,
        publicKeyFiles: [PublicKeyFile] = [], requiredClaims: [String] = [], token: CredentialSource = .bearer,
        cacheEntries: Int = 10_000
    ) {
        self.name = name
        self.jwksURL = jwksURL
        self.refresh = refresh
        self.minimumRefreshInterval = minimumRefreshInterval
        self.issuer = issuer
        self.audiences = audiences
        self.algorithms = algorithms
        self.leeway = leeway
        self.secretEnvironmentVariable = secretEnvironmentVariable
        self.publicKeyFiles = publicKeyFiles
        self.requiredClaims = requiredClaims
        self.token = token
        self.cacheEntries = cacheEntries
    }
}

/// An OAuth2 token introspection endpoint (RFC 7662) for opaque tokens.
public struct IntrospectionConfig: Sendable, Equatable {
    public var name: String
    public var url: String
    public var clientID: String
    public var clientSecretEnvironmentVariable: String?
    /// How long an answer is reused (never past the token's own `exp`).
    public var cacheFor: Duration
    public var timeout: Duration
    public var token: CredentialSource

    public init(
        name: String, url: String, clientID: String, clientSecretEnvironmentVariable: String? = nil,
        cacheFor: Duration = .seconds(60), timeout: Duration = .seconds(2), token: CredentialSource = .bearer
    ) {
        self.name = name
        self.url = url
        self.clientID = clientID
        self.clientSecretEnvironmentVariable = clientSecretEnvironmentVariable
        self.cacheFor = cacheFor
        self.timeout = timeout
        self.token = token
    }
}

/// API keys, stored as SHA-256 hashes, each with the consumer it identifies.
public struct APIKeySetConfig: Sendable, Equatable {
    public struct Key: Sendable, Equatable {
        public var consumer: String
        /// 32 bytes, from the config's hex.
        public var sha256: [UInt8]

        public init(consumer: String, sha256: [UInt8]) {
            self.consumer = consumer
            self.sha256 = sha256
        }
    }

    public var name: String
    public var source: CredentialSource
    public var keys: [Key]

    public init(name: String, source: CredentialSource = .header("x-api-key"), keys: [Key] = []) {
        self.name = name
        self.source = source
        self.keys = keys
    }
}

/// A route's `auth`: which methods may authenticate a request (any one suffices) and the scopes a
/// token must carry.
public struct RouteAuthConfig: Sendable, Equatable {
    public enum Method: Sendable, Equatable {
        case jwt(String)
        case introspection(String)
        case apiKey(String)
    }

    public var methods: [Method]
    public var scopes: [String]
    /// Whether the credential (Authorization header, API key header) goes on to the upstream.
    public var forwardCredentials: Bool

    public init(methods: [Method], scopes: [String] = [], forwardCredentials: Bool = true) {
        self.methods = methods
        self.scopes = scopes
        self.forwardCredentials = forwardCredentials
    }
}
