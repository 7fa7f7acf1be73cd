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

    /// Directory that relative paths in the file are resolved against: the config file's own directory.
    public var baseDirectory: String { (file as NSString).deletingLastPathComponent.isEmpty ? "." : (file as NSString).deletingLastPathComponent }

    static func resolvePath(_ p: String, relativeTo base: String) -> String {
        p.hasPrefix("/") ? p : (base as NSString).appendingPathComponent(p)
    }

    public var storePath: String { Self.resolvePath(store.path, relativeTo: baseDirectory) }
    public var providersPath: String { Self.resolvePath(providersDirectory, relativeTo: baseDirectory) }

    public static func load(file: String) throws(ConfigError) -> GatewayConfig {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw ConfigError(file: file, line: nil, key: "", message: "cannot read config file")
        }
        return try parse(text, file: file)
    }

    public static func parse(_ text: String, file: String) throws(ConfigError) -> GatewayConfig {
        let doc = try TOMLDocument(text: text, file: file)
        var r = TableReader(doc: doc, path: [], values: doc.root)
        var c = GatewayConfig(file: file, providersDirectory: "providers")
        c.providersDirectory = try r.string("providers_dir") ?? "providers"

        if var s = try r.table("server") {
            if let listen = try s.string("listen") {
                guard let (h, p) = parseHostPort(listen) else { throw s.error("listen", "expected HOST:PORT, e.g. 127.0.0.1:8080") }
                c.server.host = h; c.server.port = p
            }
            c.server.idleTimeoutSeconds = try s.int("idle_timeout_seconds", range: 1...86_400) ?? c.server.idleTimeoutSeconds
            c.server.requestTimeoutSeconds = try s.int("request_timeout_seconds", range: 1...3_600) ?? c.server.requestTimeoutSeconds
            c.server.maxConnections = try s.int("max_connections", range: 1...1_000_000) ?? c.server.maxConnections
            c.server.maxInFlightBytes = try s.int("max_in_flight_bytes", range: (1 << 20)...(1 << 40)) ?? c.server.maxInFlightBytes
            c.server.tlsHandshakeTimeoutSeconds = try s.int("tls_handshake_timeout_seconds", range: 1...300) ?? c.server.tlsHandshakeTimeoutSeconds
            if var t = try s.table("tls") {
                let base = (file as NSString).deletingLastPathComponent.isEmpty ? "." : (file as NSString).deletingLastPathComponent
                c.server.tls = TLSSettings(certificatePath: resolvePath(try t.requiredString("certificate"), relativeTo: base),
                                           keyPath: resolvePath(try t.requiredString("key"), relativeTo: base))
                try t.rejectUnknownKeys()
            }
            try s.rejectUnknownKeys()
        }
        if var s = try r.table("store") {
            if let b = try s.string("backend") {
                guard let backend = StoreSettings.Backend(rawValue: b) else { throw s.error("backend", "must be sqlite or postgres") }
                c.store.backend = backend
            }
            if let u = try s.string("url") { c.store.url = SecretReference(label: "store-url", reference: u) }
            c.store.connections = try s.int("connections", range: 1...512) ?? c.store.connections
            c.store.migrateOnStart = try s.bool("migrate_on_start") ?? c.store.migrateOnStart
            if c.store.backend == .postgres && c.store.url == nil {
                throw s.error("url", "is required with backend = \"postgres\" (e.g. \"env:INLET_DATABASE_URL\")")
            }
            c.store.path = try s.string("path") ?? c.store.path
            if let d = try s.string("durability") {
                guard let dur = Durability(rawValue: d) else { throw s.error("durability", "must be fsync or relaxed") }
                c.store.durability = dur
            }
            c.store.idempotencyRetentionDays = try s.int("idempotency_retention_days", range: 1...3650) ?? c.store.idempotencyRetentionDays
            c.store.eventRetentionDays = try s.int("event_retention_days", range: 1...3650) ?? c.store.eventRetentionDays
            c.store.maxBatch = try s.int("max_batch", range: 1...100_000) ?? c.store.maxBatch
            try s.rejectUnknownKeys()
        }
        if var s = try r.table("delivery") {
            c.delivery.concurrency = try s.int("concurrency", range: 1...10_000) ?? c.delivery.concurrency
            c.delivery.leaseSeconds = try s.int("lease_seconds", range: 1...86_400) ?? c.delivery.leaseSeconds
            c.delivery.pollIntervalMillis = try s.int("poll_interval_ms", range: 10...600_000) ?? c.delivery.pollIntervalMillis
            try s.rejectUnknownKeys()
        }
        if var s = try r.table("quarantine") {
            c.quarantine.enabled = try s.bool("enabled") ?? c.quarantine.enabled
            c.quarantine.maxEntries = try s.int("max_entries", range: 1...10_000_000) ?? c.quarantine.maxEntries
            c.quarantine.maxBodyBytes = try s.int("max_body_bytes", range: 0...(64 << 20)) ?? c.quarantine.maxBodyBytes
            c.quarantine.retentionHours = try s.int("retention_hours", range: 1...8760) ?? c.quarantine.retentionHours
            c.quarantine.maxEntriesPerSourceReason = try s.int("max_entries_per_source_reason", range: 1...10_000_000) ?? c.quarantine.maxEntriesPerSourceReason
            c.quarantine.perPeerPerMinute = try s.int("per_peer_per_minute", range: 1...1_000_000) ?? c.quarantine.perPeerPerMinute
            if let reasons = try s.strings("skip_reasons") {
                let known = Set(RejectionReason.allCases.filter(\.isQuarantinable).map(\.rawValue))
                if let bad = reasons.first(where: { !known.contains($0) }) {
                    throw s.error("skip_reasons", "'\(bad)' is not a quarantined reason (one of \(known.sorted().joined(separator: ", ")))")
                }
                c.quarantine.skipReasons = Set(reasons)
            }
            try s.rejectUnknownKeys()
        }
        if var s = try r.table("admin") {
            let listen = try s.requiredString("listen")
            guard let hp = parseHostPort(listen) else { throw s.error("listen", "expected HOST:PORT") }
            var admin = AdminSettings(host: hp.0, port: hp.1, tokens: try secretList(&s, "tokens", required: true))
            admin.maxBodyBytes = try s.int("max_body_bytes", range: 1024...(64 << 20)) ?? admin.maxBodyBytes
            admin.maxConnections = try s.int("max_connections", range: 1...100_000) ?? admin.maxConnections
            c.admin = admin
            try s.rejectUnknownKeys()
        }
        if var s = try r.table("metrics") {
            let listen = try s.requiredString("listen")
            guard let hp = parseHostPort(listen) else { throw s.error("listen", "expected HOST:PORT") }
            c.metricsListen = hp
            try s.rejectUnknownKeys()
        }
        if var s = try r.table("secrets") {
            c.secretExpiryWarningDays = try s.int("expiry_warning_days", range: 0...3650) ?? c.secretExpiryWarningDays
            try s.rejectUnknownKeys()
        }
        if var s = try r.table("log") {
            c.logLevel = try s.string("level") ?? c.logLevel
            guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(c.logLevel) else {
                throw s.error("level", "must be one of trace, debug, info, notice, warning, error, critical")
            }
            c.logFormat = try s.string("format") ?? c.logFormat
            guard ["json", "text"].contains(c.logFormat) else { throw s.error("format", "must be json or text") }
            try s.rejectUnknownKeys()
        }
        if var s = try r.table("sink") {
            let listen = try s.requiredString("listen")
            guard let (h, p) = parseHostPort(listen) else { throw s.error("listen", "expected HOST:PORT") }
            c.sink = SinkSettings(host: h, port: p, secrets: try secretList(&s, "secrets", required: true))
            try s.rejectUnknownKeys()
        }
        if var dests = try r.table("destinations") {
            for name in dests.values.keys.sorted() {
                guard var d = try dests.table(name) else { continue }
                var dc = DestinationConfig(name: name, url: try d.requiredString("url"), secrets: try secretList(&d, "secrets", required: true))
                guard let u = URL(string: dc.url), let scheme = u.scheme, ["http", "https"].contains(scheme), u.host != nil else {
                    throw d.error("url", "must be an http:// or https:// URL")
                }
                dc.timeoutSeconds = try d.int("timeout_seconds", range: 1...600) ?? dc.timeoutSeconds
                dc.retry.maxAttempts = try d.int("max_attempts", range: 1...1000) ?? dc.retry.maxAttempts
                dc.retry.initialDelayMillis = Int64(try d.int("initial_backoff_ms", range: 1...86_400_000) ?? Int(dc.retry.initialDelayMillis))
                dc.retry.maxDelayMillis = Int64(try d.int("max_backoff_ms", range: 1...604_800_000) ?? Int(dc.retry.maxDelayMillis))
                dc.maxAgeSeconds = try d.int("max_age_seconds", range: 1...(90 * 86_400)) ?? dc.maxAgeSeconds
                if let node = d.raw("retry_on") {
                    let entries: [String]
                    switch node {
                    case .array(let items):
                        entries = items.compactMap { item -> String? in
                            switch item { case .int(let i): return String(i); case .string(let s): return s; default: return "?" }
                        }
                    default: throw d.error("retry_on", "expected a list of statuses, e.g. [408, 429, \"5xx\"]")
                    }
                    guard let statuses = RetryStatuses(entries) else { throw d.error("retry_on", "entries are statuses (429) or classes (\"5xx\")") }
                    dc.retryStatuses = statuses
                }
                if let mode = try d.string("payload") {
                    guard let m = PayloadMode(rawValue: mode) else { throw d.error("payload", "must be cloudevents, cloudevents-binary or raw") }
                    dc.payload = m
                }
                dc.maxConcurrency = try d.int("max_concurrency", range: 1...10_000) ?? dc.maxConcurrency
                if let node = d.raw("rate_limit_per_second") {
                    switch node {
                    // Bounded: TOML allows `inf` and `nan`, and the token bucket turns the rate into whole tokens.
                    case .int(let i) where (1...1_000_000).contains(i): dc.rateLimitPerSecond = Double(i)
                    case .double(let v) where v.isFinite && v >= 0.001 && v <= 1_000_000: dc.rateLimitPerSecond = v
                    default: throw d.error("rate_limit_per_second", "must be a number from 0.001 to 1000000")
                    }
                }
                if let o = try d.string("ordering") {
                    guard let key = OrderingKey(o) else { throw d.error("ordering", "must be \"source\" or \"json:/pointer\"") }
                    dc.ordering = key
                }
                dc.circuitFailureThreshold = try d.int("circuit_failure_threshold", range: 1...10_000) ?? dc.circuitFailureThreshold
                dc.circuitOpenMillis = Int64(try d.int("circuit_open_ms", range: 10...86_400_000) ?? Int(dc.circuitOpenMillis))
                dc.circuitMaxOpenMillis = Int64(try d.int("circuit_max_open_ms", range: 10...86_400_000) ?? Int(dc.circuitMaxOpenMillis))
                try d.rejectUnknownKeys()
                c.destinations[name] = dc
            }
        }
        if var srcs = try r.table("sources") {
            var paths: [String: String] = [:]
            for name in srcs.values.keys.sorted() {
                guard var s = try srcs.table(name) else { continue }
                guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
                    throw s.error(nil, "source names are letters, digits, '-' or '_'")
                }
                var sc = SourceConfig(name: name, provider: try s.requiredString("provider"), path: try s.string("path") ?? "/hooks/\(name)",
                                      secrets: try secretList(&s, "secrets", required: false), destinations: try s.strings("destinations") ?? [])
                guard sc.path.hasPrefix("/"), !sc.path.contains("?") else { throw s.error("path", "must start with '/' and have no query") }
                if let other = paths[sc.path] { throw s.error("path", "'\(sc.path)' is already used by source '\(other)'") }
                paths[sc.path] = name
                for d in sc.destinations where c.destinations[d] == nil {
                    throw s.error("destinations", "unknown destination '\(d)'")
                }
                sc.maxBodyBytes = try s.int("max_body_bytes", range: 1...(256 << 20)) ?? sc.maxBodyBytes
                sc.toleranceSeconds = try s.int("tolerance_seconds", range: 1...31_536_000)
                sc.allowIPs = try cidrs(&s, "allow_ips")
                sc.trustedProxies = try cidrs(&s, "trusted_proxies")
                sc.allowLegacySignatures = try s.bool("allow_legacy_signatures") ?? false
                sc.publicURL = try s.string("public_url")
                sc.allowProviderIPs = try s.bool("allow_provider_ips") ?? false
                for var rt in try s.tables("routes") ?? [] {
                    let dest = try rt.requiredString("destination")
                    guard c.destinations[dest] != nil else { throw rt.error("destination", "unknown destination '\(dest)'") }
                    var route = Route(destination: dest, types: (try rt.strings("types") ?? []).map(TypePattern.init))
                    if let node = rt.raw("where") {
                        guard case .array(let items) = node else { throw rt.error("where", "expected a list of { pointer = \"/a/b\", equals = … | in = […] | exists = true }") }
                        for (n, item) in items.enumerated() {
                            guard case .table(let t) = item, case .string(let ptrText)? = t["pointer"], let ptr = JSONPointer(ptrText) else {
                                throw rt.error("where", "item \(n + 1): needs pointer = \"/json/pointer\"")
                            }
                            func text(_ v: TOMLNode) -> String? {
                                switch v { case .string(let s): return s; case .int(let i): return String(i); case .bool(let b): return String(b); case .double(let d): return String(d); default: return nil }
                            }
                            let test: FieldCondition.Test
                            if let v = t["equals"] {
                                guard let s = text(v) else { throw rt.error("where", "item \(n + 1): equals must be a string, number or boolean") }
                                test = .equals(s)
                            } else if case .array(let vs)? = t["in"] {
                                test = .oneOf(vs.compactMap(text))
                            } else if case .bool(let b)? = t["exists"] {
                                test = .exists(b)
                            } else {
                                throw rt.error("where", "item \(n + 1): needs equals, in or exists")
                            }
                            for k in t.keys where !["pointer", "equals", "in", "exists"].contains(k) { throw rt.error("where", "item \(n + 1): unknown key '\(k)'") }
                            route.conditions.append(FieldCondition(pointer: ptr, test: test))
                        }
                    }
                    try rt.rejectUnknownKeys()
                    sc.routes.append(route)
                }
                sc.webhookID = try s.string("webhook_id")
                sc.snsAutoConfirm = try s.bool("sns_auto_confirm") ?? false
                for text in try s.strings("topic_arns") ?? [] {
                    guard let pattern = SNSTopicPattern(text) else {
                        throw s.error("topic_arns", "'\(text)' is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:TOPIC; REGION or TOPIC may be *)")
                    }
                    sc.topicARNs.append(pattern)
                }
                sc.sandbox = try s.bool("sandbox") ?? false
                sc.dedupOnBodyHash = try s.bool("dedup_on_body_hash")
                if let t = try s.string("verify_token") { sc.verifyToken = SecretReference(label: "verify_token", reference: t) }
                try s.rejectUnknownKeys()
                c.sources.append(sc)
            }
        }
        try r.rejectUnknownKeys()
        return c
    }

    private static func cidrs(_ r: inout TableReader, _ key: String) throws(ConfigError) -> [CIDR] {
        var out: [CIDR] = []
        for t in try r.strings(key) ?? [] {
            guard let c = CIDR(t) else { throw r.error(key, "'\(t)' is not an IP address or CIDR") }
            out.append(c)
        }
        return out
    }

    /// Secrets as strings (`"env:NAME"`) or tables (`{ label = "2026-q4", value = "env:NAME" }`).
    private static func secretList(_ r: inout TableReader, _ key: String, required: Bool) throws(ConfigError) -> [SecretReference] {
        guard let node = r.raw(key) else {
            if required { throw r.error(key, "is required (at least one secret)") }
            return []
        }
        let items: [TOMLNode]
        switch node {
        case .array(let a): items = a
        case .string, .table: items = [node]
        default: throw r.error(key, "expected a list of secrets")
        }
        var out: [SecretReference] = []
        for (n, item) in items.enumerated() {
            switch item {
            case .string(let s): out.append(SecretReference(label: "secret-\(n + 1)", reference: s))
            case .table(let t):
                guard case .string(let v)? = t["value"] else { throw r.error(key, "item \(n + 1): needs value = \"env:NAME\" (or file:/literal)") }
                var ref = SecretReference(label: "secret-\(n + 1)", reference: v)
                if case .string(let l)? = t["label"] { ref.label = l }
                func time(_ k: String) throws(ConfigError) -> EpochMillis? {
                    switch t[k] {
                    case nil: return nil
                    case .dateTime(let ms)?: return ms
                    case .string(let text)?:
                        guard let ms = RFC3339.parse(text) else { throw r.error(key, "item \(n + 1): \(k) '\(text)' is not an RFC 3339 time (2026-12-01T00:00:00Z)") }
                        return ms
                    default: throw r.error(key, "item \(n + 1): \(k) must be a date-time with an offset, e.g. 2026-12-01T00:00:00Z")
                    }
                }
                ref.notBefore = try time("not_before")
                ref.expiresAt = try time("expires_at")
                if let a = ref.notBefore, let b = ref.expiresAt, a >= b { throw r.error(key, "item \(n + 1): not_before must be before expires_at") }
                for k in t.keys where !["value", "label", "not_before", "expires_at"].contains(k) { throw r.error(key, "item \(n + 1): unknown key '\(k)'") }
                out.append(ref)
            default: throw r.error(key, "item \(n + 1): expected a string or a table")
            }
        }
        if required && out.isEmpty { throw r.error(key, "is required (at least one secret)") }
        if Set(out.map(\.label)).count != out.count { throw r.error(key, "secret labels must be unique") }
        return out
    }

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
        let doc = try TOMLDocument(text: (try? String(contentsOfFile: file, encoding: .utf8)) ?? "", file: file)
        func err(_ path: [String], _ m: String) -> ConfigError { doc.error(path, m) }

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
