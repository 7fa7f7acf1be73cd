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

/// A reference to a secret: `env:NAME`, `file:PATH`, or the literal value.
public struct SecretReference: Sendable, Equatable, CustomStringConvertible {
    public var label: String
    public var reference: String
    /// The secret verifies (or signs) only from this time on.
    public var notBefore: EpochMillis?
    /// The secret stops verifying (or signing) at this time.
    public var expiresAt: EpochMillis?

    public init(label: String, reference: String, notBefore: EpochMillis? = nil, expiresAt: EpochMillis? = nil) {
        self.label = label
        self.reference = reference
        self.notBefore = notBefore
        self.expiresAt = expiresAt
    }

    public var window: SecretWindow { SecretWindow(notBefore: notBefore, expiresAt: expiresAt) }

    /// Describes where the secret comes from, never its value.
    public var description: String {
        if reference.hasPrefix("env:") || reference.hasPrefix("file:") { return "\(label) (\(reference))" }
        return "\(label) (literal)"
    }

    public enum ResolveError: Error, Equatable { case envUnset(String), fileUnreadable(String), empty }

    public func resolve(environment: [String: String], baseDirectory: String) -> Result<String, ResolveError> {
        if reference.hasPrefix("env:") {
            let name = String(reference.dropFirst(4))
            guard let v = environment[name] else { return .failure(.envUnset(name)) }
            return v.isEmpty ? .failure(.empty) : .success(v)
        }
        if reference.hasPrefix("file:") {
            let path = GatewayConfig.resolvePath(String(reference.dropFirst(5)), relativeTo: baseDirectory)
            guard let v = try? String(contentsOfFile: path, encoding: .utf8) else { return .failure(.fileUnreadable(path)) }
            let trimmed = v.trimmingCharacters(in: .whitespacesAndNewlines)
            return trimmed.isEmpty ? .failure(.empty) : .success(trimmed)
        }
        return reference.isEmpty ? .failure(.empty) : .success(reference)
    }
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

/// A configuration with every secret resolved and every source bound to its profile: what the gateway runs.
public struct ResolvedGateway: Sendable {
    public var config: GatewayConfig
    public var profiles: [String: ProviderProfile]
    public var sources: [SourcePolicy]
    public var destinations: [String: ResolvedDestination]
    public var sinkSigner: StandardWebhooksSigner?
    /// Bearer tokens the admin API accepts.
    public var adminTokens: [String] = []
    /// The PostgreSQL store's URL, resolved (with its password).
    public var storeURL: String?
    /// Known development credentials in use, all guarding loopback-only listeners (others are refused): warned about.
    public var developmentCredentials: [DevelopmentCredentialUse] = []

    /// A secret that stops working soon (or has stopped), for start-up warnings and the expiry metric.
    public struct SecretExpiry: Sendable, Equatable, CustomStringConvertible {
        public var owner: String  // "source stripe" or "destination billing"
        public var label: String
        public var expiresAt: EpochMillis
        public var expired: Bool
        public var description: String {
            "\(owner): secret '\(label)' \(expired ? "expired" : "expires") at \(RFC3339.format(expiresAt))"
        }
    }

    /// Every secret with an `expires_at`, in order of expiry.
    public func secretExpiries(now: EpochMillis) -> [SecretExpiry] {
        var out: [SecretExpiry] = []
        for s in sources {
            for k in s.keys { if let ex = k.window.expiresAt { out.append(.init(owner: "source \(s.name)", label: k.label, expiresAt: ex, expired: now >= ex)) } }
        }
        for (name, d) in destinations {
            for ref in d.config.secrets {
                if let ex = ref.expiresAt { out.append(.init(owner: "destination \(name)", label: ref.label, expiresAt: ex, expired: now >= ex)) }
            }
        }
        return out.sorted { ($0.expiresAt, $0.owner, $0.label) < ($1.expiresAt, $1.owner, $1.label) }
    }

    /// Secrets that expire within the configured horizon (or already have).
    public func expiryWarnings(now: EpochMillis) -> [SecretExpiry] {
        let horizon = now + Int64(config.secretExpiryWarningDays) * 86_400_000
        return secretExpiries(now: now).filter { $0.expiresAt <= horizon }
    }
}

public struct ResolvedDestination: Sendable {
    public var config: DestinationConfig
    public var signer: StandardWebhooksSigner
}

extension GatewayConfig {
    /// Loads profiles, resolves secrets and binds sources. Errors name the key, never a secret's value.
    public func resolve(environment: [String: String] = ProcessInfo.processInfo.environment, profiles preloaded: [String: ProviderProfile]? = nil,
                        now: EpochMillis = SystemClock().now()) throws(ConfigError) -> ResolvedGateway {
        let profiles: [String: ProviderProfile]
        if let preloaded { profiles = preloaded } else { profiles = try ProfileLoader.loadDirectory(providersPath) }
        let locator = keyLocator ?? KeyLocator(file: file, text: "")
        func err(_ path: [String], _ m: String) -> ConfigError { locator.error(path, m) }

        func resolveAll(_ refs: [SecretReference], path: [String]) throws(ConfigError) -> [(SecretReference, String)] {
            var out: [(SecretReference, String)] = []
            for ref in refs {
                switch ref.resolve(environment: environment, baseDirectory: baseDirectory) {
                case .success(let v): out.append((ref, v))
                case .failure(.envUnset(let name)): throw err(path, "secret '\(ref.label)': environment variable \(name) is not set")
                case .failure(.fileUnreadable(let p)): throw err(path, "secret '\(ref.label)': cannot read \(p)")
                case .failure(.empty): throw err(path, "secret '\(ref.label)' is empty")
                }
            }
            return out
        }

        var policies: [SourcePolicy] = []
        for s in sources {
            guard let profile = profiles[s.provider] else {
                throw err(["sources", s.name, "provider"], "unknown provider '\(s.provider)' (see `inlet providers`)")
            }
            let usesCertificate = profile.signatures.contains { $0.algorithm.usesSigningCertificate }
            if s.secrets.isEmpty && !usesCertificate {
                throw err(["sources", s.name, "secrets"], "is required (at least one secret)")
            }
            if usesCertificate && profile.signatures.contains(where: { $0.algorithm == .paypalRSA }) && s.webhookID == nil {
                throw err(["sources", s.name, "webhook_id"], "is required: PayPal signs your webhook's ID (from the PayPal dashboard)")
            }
            let verifiesSNS = profile.signatures.contains { $0.algorithm == .awsSNS }
            if verifiesSNS && s.topicARNs.isEmpty {
                throw err(["sources", s.name, "topic_arns"], "is required for an aws-sns source: AWS signs messages of every account's topics, so list yours (e.g. [\"arn:aws:sns:us-east-1:123456789012:orders\"])")
            }
            if !verifiesSNS && !s.topicARNs.isEmpty { throw err(["sources", s.name, "topic_arns"], "only applies to aws-sns sources") }
            if s.sandbox && !profile.signatures.contains(where: { $0.algorithm == .paypalRSA }) {
                throw err(["sources", s.name, "sandbox"], "only applies to paypal sources")
            }
            var keys: [VerificationKey] = []
            for (ref, value) in try resolveAll(s.secrets, path: ["sources", s.name, "secrets"]) {
                guard var k = profile.makeKey(label: ref.label, secret: value) else {
                    throw err(["sources", s.name, "secrets"], "secret '\(ref.label)' does not decode as the \(profile.name) profile expects (\(profile.keyDescription))")
                }
                k.window = ref.window
                keys.append(k)
            }
            // A source whose every secret has expired would reject all traffic: refuse to start instead.
            if !keys.isEmpty, keys.allSatisfy({ $0.window.hasExpired(at: now) }) {
                throw err(["sources", s.name, "secrets"], "every secret has expired (\(keys.map { "\($0.label) at \(RFC3339.format($0.window.expiresAt!))" }.joined(separator: ", "))): add a current one")
            }
            var verifyToken: String?
            if let ref = s.verifyToken { verifyToken = try resolveAll([ref], path: ["sources", s.name, "verify_token"])[0].1 }
            if profile.handshakes.contains(.metaVerifyToken) && verifyToken == nil {
                throw err(["sources", s.name, "verify_token"], "is required: the \(profile.name) profile answers GET hub.challenge verification with it")
            }
            if profile.signatures.contains(where: { $0.signedContent.usesURL || $0.algorithm == .twilio }) && s.publicURL == nil {
                throw err(["sources", s.name, "public_url"], "is required: the \(profile.name) scheme signs the URL the provider calls")
            }
            var allowed = s.allowIPs
            if s.allowProviderIPs {
                guard let published = profile.sourceIPs, !published.ranges.isEmpty else {
                    throw err(["sources", s.name, "allow_provider_ips"], "the \(profile.name) profile publishes no source addresses")
                }
                allowed += published.ranges
            }
            var verification = VerificationOptions(toleranceSeconds: s.toleranceSeconds.map(Int64.init), allowLegacySignatures: s.allowLegacySignatures,
                                                   publicURL: s.publicURL, verifyToken: verifyToken, webhookID: s.webhookID, snsAutoConfirm: s.snsAutoConfirm)
            verification.sandbox = s.sandbox
            var policy = SourcePolicy(
                name: s.name, path: s.path, profile: profile, keys: keys,
                allowlist: IPAllowlist(allowed: allowed, trustedProxies: s.trustedProxies),
                maxBodyBytes: s.maxBodyBytes, verification: verification,
                destinations: s.destinations, routes: s.routes)
            policy.topicARNs = s.topicARNs
            if let own = s.dedupOnBodyHash { policy.dedupOnBodyHash = own }
            policies.append(policy)
        }
        var dests: [String: ResolvedDestination] = [:]
        for (name, d) in destinations {
            let resolvedSecrets = try resolveAll(d.secrets, path: ["destinations", name, "secrets"])
            guard let signer = try? StandardWebhooksSigner(secrets: resolvedSecrets.map(\.1), windows: resolvedSecrets.map(\.0.window)) else {
                throw err(["destinations", name, "secrets"], "signing secrets must be whsec_<base64>")
            }
            dests[name] = ResolvedDestination(config: d, signer: signer)
        }
        var sinkSigner: StandardWebhooksSigner?
        if let sink {
            let values = try resolveAll(sink.secrets, path: ["sink", "secrets"]).map(\.1)
            guard let s = try? StandardWebhooksSigner(secrets: values) else { throw err(["sink", "secrets"], "must be whsec_<base64>") }
            sinkSigner = s
        }
        var resolved = ResolvedGateway(config: self, profiles: profiles, sources: policies, destinations: dests, sinkSigner: sinkSigner)
        if let admin {
            resolved.adminTokens = try resolveAll(admin.tokens, path: ["admin", "tokens"]).map(\.1)
        }
        if let url = store.url {
            resolved.storeURL = try resolveAll([url], path: ["store", "url"]).first?.1
        }
        // Published values guard nothing: tolerated for local development only (see DevelopmentCredentials).
        resolved.developmentCredentials = developmentCredentialUses(environment: environment)
        if let exposed = resolved.developmentCredentials.first(where: { !$0.loopbackOnly }) { throw err(exposed.keyPath, exposed.refusal) }
        return resolved
    }
}
