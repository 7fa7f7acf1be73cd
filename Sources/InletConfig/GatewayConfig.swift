import Foundation
import InletCore

/// How hard a commit is pushed to disk before the ack.
public enum Durability: String, Sendable, CaseIterable {
    /// fsync on every group commit (SQLite `synchronous=FULL`): an acknowledged event survives power loss.
    case fsync
    /// WAL without fsync per commit (`synchronous=NORMAL`): survives a process crash, may lose the last
    /// commits on power loss or kernel panic.
    case relaxed
}

public struct ServerSettings: Sendable, Equatable {
    public var host: String = "127.0.0.1"
    public var port: Int = 8080
    /// Idle keep-alive connections are closed after this long.
    public var idleTimeoutSeconds: Int = 60
    /// A request whose head and body have not fully arrived in this time gets 408 and the connection closes.
    public var requestTimeoutSeconds: Int = 30
    /// Open ingress connections at most (also kept below the process's descriptor limit); more are closed at once.
    public var maxConnections: Int = 10_000
    /// Request bodies held in memory at once, across all ingress connections (received and not yet committed or
    /// refused). Past it a request is answered `503 over_capacity` with `Retry-After: 1`, so a flood of connections
    /// each sending up to `max_body_bytes` cannot exhaust memory.
    public var maxInFlightBytes: Int = 256 << 20
    /// A TLS handshake not complete in this time closes the connection (the head timeout only starts on decrypted bytes).
    public var tlsHandshakeTimeoutSeconds: Int = 10
    /// Terminate TLS on the ingress listener (for deployments without a proxy in front).
    public var tls: TLSSettings?
    public init() {}
}

/// PEM files for the ingress listener, as absolute paths. Re-read on reload, so a renewed certificate is picked up.
public struct TLSSettings: Sendable, Equatable {
    public var certificatePath: String
    public var keyPath: String
}

public struct StoreSettings: Sendable, Equatable {
    public enum Backend: String, Sendable, Equatable {
        /// One file, one gateway process: the embedded default.
        case sqlite
        /// A shared PostgreSQL database: several gateway instances behind one load balancer.
        case postgres
    }
    public var backend: Backend = .sqlite
    /// PostgreSQL: the `postgres://` URL, as a secret reference (it usually carries a password).
    public var url: SecretReference?
    /// PostgreSQL: connections per instance.
    public var connections: Int = 8
    /// PostgreSQL: apply pending migrations at start-up (otherwise `inlet migrate` does).
    public var migrateOnStart = true
    public var path: String = "data/inlet.sqlite"
    public var durability: Durability = .fsync
    public var idempotencyRetentionDays: Int = 30
    /// Raw payloads (events with their deliveries and attempts) are kept this long once delivered.
    public var eventRetentionDays: Int = 30
    /// Most requests committed in one group-commit transaction.
    public var maxBatch: Int = 1024
    public init() {}
}

public struct DeliverySettings: Sendable, Equatable {
    /// Deliveries in flight across all destinations.
    public var concurrency: Int = 64
    /// How long a claimed queue row is reserved for its worker; after a crash it is retried once this passes.
    public var leaseSeconds: Int = 60
    /// Longest sleep between queue scans when nothing wakes the workers.
    public var pollIntervalMillis: Int = 1000
    public init() {}
}

/// Rejected requests kept for re-admission: bounded in count, per-entry size and time, so a flood of forgeries
/// costs a fixed amount of disk.
public struct QuarantineSettings: Sendable, Equatable {
    public var enabled = true
    /// The newest this many entries are kept; older ones make room.
    public var maxEntries = 10_000
    /// The newest this many per source and reason: junk of one kind (a scanner's forgeries) cannot evict the genuine
    /// requests of another (a provider signing with a secret the config does not hold yet).
    public var maxEntriesPerSourceReason = 1_000
    /// Reasons never kept: an unsigned request or one from a refused address is not what re-admission recovers.
    public var skipReasons: Set<String> = ["missing_signature", "ip_not_allowed"]
    /// Entries kept per peer address per minute; more from the same peer are counted and dropped.
    public var perPeerPerMinute = 60
    /// Larger rejected bodies are not kept (the rejection is still counted).
    public var maxBodyBytes = 262_144
    public var retentionHours = 72
    public init() {}
}

public struct SinkSettings: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var secrets: [SecretReference]
}

public struct AdminSettings: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var tokens: [SecretReference]
    /// Largest request body the admin API reads (bulk replay filters are small); more gets 413.
    public var maxBodyBytes: Int = 1 << 20
    /// Open admin connections at most; more are closed at once.
    public var maxConnections: Int = 64
}

public struct SourceConfig: Sendable, Equatable {
    public var name: String
    public var provider: String
    public var path: String
    public var secrets: [SecretReference]
    public var destinations: [String]
    public var maxBodyBytes: Int = 1 << 20
    public var toleranceSeconds: Int?
    public var allowIPs: [CIDR] = []
    public var trustedProxies: [CIDR] = []
    public var allowLegacySignatures = false
    public var publicURL: String?
    /// Meta's `hub.verify_token`, as a secret reference.
    public var verifyToken: SecretReference?
    /// Also allow the provider's published source addresses (its profile's `[source_ips]`).
    public var allowProviderIPs = false
    /// PayPal signs the receiver's own webhook ID.
    public var webhookID: String?
    /// Confirm AWS SNS subscriptions automatically.
    public var snsAutoConfirm = false
    /// Filtered routes, beside the unfiltered `destinations`.
    public var routes: [Route] = []
    /// AWS SNS: the topics accepted (required for `aws-sns` sources).
    public var topicARNs: [SNSTopicPattern] = []
    /// PayPal: accept the sandbox's certificate hosts.
    public var sandbox = false
    /// Overrides the profile's `dedup_on_body_hash`.
    public var dedupOnBodyHash: Bool?
    /// `verify_signatures = false`: admit without verifying (events record `unverified`, or `sender_authenticated`
    /// with `allow_ips`). For senders that cannot sign; never the default.
    public var verifySignatures = true
    /// `accept_handshake_secret = true`: a handshake that hands over the secret (Asana's `X-Hook-Secret`) sets it,
    /// once, while the source has none. The secret is kept in the store.
    public var acceptHandshakeSecret = false
    /// JWT profiles: the audiences accepted in `aud` (Google Pub/Sub: the push endpoint or the configured audience).
    public var jwtAudience: [String] = []
    /// JWT profiles without a fixed key set: the provider's JWKS URL (a self-hosted FusionAuth's, say).
    public var jwksURL: String?
    /// JWT profiles with `source_claims`: the values accepted per claim (Google Pub/Sub: `email`).
    public var jwtClaims: [String: [String]] = [:]
    /// Profiles with `[key_fetch]`: the receiver's client id at the provider's key API (Plaid `client_id`, eBay App ID),
    /// as an `env:`/`file:` reference.
    public var keyFetchClientID: SecretReference?
    /// Profiles with `[key_fetch]`: the API key or client secret (Circle API key, Plaid secret, eBay Cert ID), as an
    /// `env:`/`file:` reference.
    public var keyFetchSecret: SecretReference?
    /// Profiles with `[key_fetch]`: another of the profile's pinned key hosts (a sandbox).
    public var keyHost: String?
}

public struct DestinationConfig: Sendable, Equatable {
    public var name: String
    public var url: String
    public var secrets: [SecretReference]
    public var timeoutSeconds: Int = 10
    public var retry = RetryPolicy()
    public var retryStatuses = RetryStatuses.default
    public var maxAgeSeconds: Int = 3 * 86_400
    public var payload = PayloadMode.cloudevents
    /// Deliveries in flight to this destination at once.
    public var maxConcurrency: Int = 16
    public var rateLimitPerSecond: Double?
    public var ordering: OrderingKey?
    public var circuitFailureThreshold: Int = 10
    public var circuitOpenMillis: Int64 = 5_000
    public var circuitMaxOpenMillis: Int64 = 300_000

    public var policy: DeliveryPolicy {
        DeliveryPolicy(retry: retry, retryStatuses: retryStatuses, maxAgeMillis: Int64(maxAgeSeconds) * 1000)
    }
}

/// A stream: an ordered log that routes append to (`destinations = ["stream:NAME"]`) and consumers pull from by group
/// on the admin listener (`/v1/streams/NAME/…`) with one of its own tokens.
public struct StreamConfig: Sendable, Equatable {
    public var name: String
    /// Consumer bearer tokens (secret references); admin tokens do not read a stream's events.
    public var tokens: [SecretReference]
    /// Entries are kept at most this long; earlier once every group has acknowledged them.
    public var retentionHours: Int = 168
    /// How long a batch handed to a consumer stays reserved for it unless the request names its own `lease`.
    public var leaseSeconds: Int = 30
    /// The largest `max` a consumer may ask for in one batch.
    public var maxBatch: Int = 1000
    /// A server-sent-events connection with nothing to send writes a comment this often, so proxies keep it open.
    public var sseHeartbeatSeconds: Int = 15

    public static func isValidName(_ name: String) -> Bool { RouteTarget.isValidName(name) }
}

/// The gateway's configuration file (`config/inlet.toml`), parsed and checked but with secrets unresolved.
public struct GatewayConfig: Sendable {
    public var file: String
    public var server = ServerSettings()
    public var store = StoreSettings()
    public var delivery = DeliverySettings()
    public var quarantine = QuarantineSettings()
    public var providersDirectory: String
    /// Secrets expiring within this many days are reported at start-up and by check-config.
    public var secretExpiryWarningDays: Int = 7
    public var logLevel: String = "info"
    public var logFormat: String = "json"
    public var sink: SinkSettings?
    /// The admin API's listener and bearer tokens (secret references), if enabled.
    public var admin: AdminSettings?
    /// Where `GET /metrics` is served (Prometheus), if anywhere.
    public var metricsListen: (host: String, port: Int)?
    public var sources: [SourceConfig] = []
    public var destinations: [String: DestinationConfig] = [:]
    public var streams: [String: StreamConfig] = [:]
    /// Where each key was written, from the parse: `resolve()` names lines without reading the file again.
    var keyLocator: KeyLocator?

    /// Directory that relative paths in the file are resolved against: the config file's own directory.
    public var baseDirectory: String { (file as NSString).deletingLastPathComponent.isEmpty ? "." : (file as NSString).deletingLastPathComponent }

    static func resolvePath(_ p: String, relativeTo base: String) -> String {
        p.hasPrefix("/") ? p : (base as NSString).appendingPathComponent(p)
    }

    public var storePath: String { Self.resolvePath(store.path, relativeTo: baseDirectory) }
    public var providersPath: String { Self.resolvePath(providersDirectory, relativeTo: baseDirectory) }

    public static func parseHostPort(_ s: String) -> (String, Int)? {
        guard let colon = s.lastIndex(of: ":") else { return nil }
        var host = String(s[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, let port = Int(s[s.index(after: colon)...]), (0...65535).contains(port) else { return nil }
        return (host, port)
    }
}
