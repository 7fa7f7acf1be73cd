import Foundation
import InletCore

/// Reading a gateway config: one reader per section, each starting from the section's defaults and refusing keys it
/// does not know. Errors point at the offending key's line (see `TOMLDocument`).
extension GatewayConfig {
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
        c.keyLocator = doc.locator
        c.providersDirectory = try r.string("providers_dir") ?? "providers"
        if var s = try r.table("server") { c.server = try readServer(&s, file: file) }
        if var s = try r.table("store") { c.store = try readStore(&s) }
        if var s = try r.table("delivery") { c.delivery = try readDelivery(&s) }
        if var s = try r.table("quarantine") { c.quarantine = try readQuarantine(&s) }
        if var s = try r.table("admin") { c.admin = try readAdmin(&s) }
        if var s = try r.table("metrics") { c.metricsListen = try readMetricsListen(&s) }
        if var s = try r.table("secrets") { c.secretExpiryWarningDays = try readExpiryWarningDays(&s) ?? c.secretExpiryWarningDays }
        if var s = try r.table("log") { try readLog(&s, into: &c) }
        if var s = try r.table("sink") { c.sink = try readSink(&s) }
        if var s = try r.table("destinations") { c.destinations = try readDestinations(&s) }
        if var s = try r.table("streams") { c.streams = try readStreams(&s) }
        if var s = try r.table("sources") { c.sources = try readSources(&s, destinations: c.destinations, streams: c.streams) }
        try r.rejectUnknownKeys()
        if c.admin == nil, let stream = c.streams.keys.sorted().first {
            throw doc.error(["streams", stream], "consumers read streams on the admin listener: set [admin] listen and tokens")
        }
        return c
    }

    static func readServer(_ s: inout TableReader, file: String) throws(ConfigError) -> ServerSettings {
        var server = ServerSettings()
        if let listen = try s.string("listen") {
            guard let (h, p) = parseHostPort(listen) else { throw s.error("listen", "expected HOST:PORT, e.g. 127.0.0.1:8080") }
            server.host = h; server.port = p
        }
        server.idleTimeoutSeconds = try s.int("idle_timeout_seconds", range: 1...86_400) ?? server.idleTimeoutSeconds
        server.requestTimeoutSeconds = try s.int("request_timeout_seconds", range: 1...3_600) ?? server.requestTimeoutSeconds
        server.maxConnections = try s.int("max_connections", range: 1...1_000_000) ?? server.maxConnections
        server.maxInFlightBytes = try s.int("max_in_flight_bytes", range: (1 << 20)...(1 << 40)) ?? server.maxInFlightBytes
        server.tlsHandshakeTimeoutSeconds = try s.int("tls_handshake_timeout_seconds", range: 1...300) ?? server.tlsHandshakeTimeoutSeconds
        if var t = try s.table("tls") {
            let base = (file as NSString).deletingLastPathComponent.isEmpty ? "." : (file as NSString).deletingLastPathComponent
            server.tls = TLSSettings(certificatePath: resolvePath(try t.requiredString("certificate"), relativeTo: base),
                                       keyPath: resolvePath(try t.requiredString("key"), relativeTo: base))
            try t.rejectUnknownKeys()
        }
        try s.rejectUnknownKeys()
        return server
    }

    static func readStore(_ s: inout TableReader) throws(ConfigError) -> StoreSettings {
        var store = StoreSettings()
        if let b = try s.string("backend") {
            guard let backend = StoreSettings.Backend(rawValue: b) else { throw s.error("backend", "must be sqlite or postgres") }
            store.backend = backend
        }
        if let u = try s.string("url") { store.url = SecretReference(label: "store-url", reference: u) }
        store.connections = try s.int("connections", range: 1...512) ?? store.connections
        store.migrateOnStart = try s.bool("migrate_on_start") ?? store.migrateOnStart
        if store.backend == .postgres && store.url == nil {
            throw s.error("url", "is required with backend = \"postgres\" (e.g. \"env:INLET_DATABASE_URL\")")
        }
        store.path = try s.string("path") ?? store.path
        if let d = try s.string("durability") {
            guard let dur = Durability(rawValue: d) else { throw s.error("durability", "must be fsync or relaxed") }
            store.durability = dur
        }
        store.idempotencyRetentionDays = try s.int("idempotency_retention_days", range: 1...3650) ?? store.idempotencyRetentionDays
        store.eventRetentionDays = try s.int("event_retention_days", range: 1...3650) ?? store.eventRetentionDays
        store.maxBatch = try s.int("max_batch", range: 1...100_000) ?? store.maxBatch
        try s.rejectUnknownKeys()
        return store
    }

    static func readDelivery(_ s: inout TableReader) throws(ConfigError) -> DeliverySettings {
        var delivery = DeliverySettings()
        delivery.concurrency = try s.int("concurrency", range: 1...10_000) ?? delivery.concurrency
        delivery.leaseSeconds = try s.int("lease_seconds", range: 1...86_400) ?? delivery.leaseSeconds
        delivery.pollIntervalMillis = try s.int("poll_interval_ms", range: 10...600_000) ?? delivery.pollIntervalMillis
        try s.rejectUnknownKeys()
        return delivery
    }

    static func readQuarantine(_ s: inout TableReader) throws(ConfigError) -> QuarantineSettings {
        var quarantine = QuarantineSettings()
        quarantine.enabled = try s.bool("enabled") ?? quarantine.enabled
        quarantine.maxEntries = try s.int("max_entries", range: 1...10_000_000) ?? quarantine.maxEntries
        quarantine.maxBodyBytes = try s.int("max_body_bytes", range: 0...(64 << 20)) ?? quarantine.maxBodyBytes
        quarantine.retentionHours = try s.int("retention_hours", range: 1...8760) ?? quarantine.retentionHours
        quarantine.maxEntriesPerSourceReason = try s.int("max_entries_per_source_reason", range: 1...10_000_000) ?? quarantine.maxEntriesPerSourceReason
        quarantine.perPeerPerMinute = try s.int("per_peer_per_minute", range: 1...1_000_000) ?? quarantine.perPeerPerMinute
        if let reasons = try s.strings("skip_reasons") {
            let known = Set(RejectionReason.allCases.filter(\.isQuarantinable).map(\.rawValue))
            if let bad = reasons.first(where: { !known.contains($0) }) {
                throw s.error("skip_reasons", "'\(bad)' is not a quarantined reason (one of \(known.sorted().joined(separator: ", ")))")
            }
            quarantine.skipReasons = Set(reasons)
        }
        try s.rejectUnknownKeys()
        return quarantine
    }

    static func readAdmin(_ s: inout TableReader) throws(ConfigError) -> AdminSettings {
        let listen = try s.requiredString("listen")
        guard let hp = parseHostPort(listen) else { throw s.error("listen", "expected HOST:PORT") }
        var admin = AdminSettings(host: hp.0, port: hp.1, tokens: try secretList(&s, "tokens", required: true))
        admin.maxBodyBytes = try s.int("max_body_bytes", range: 1024...(64 << 20)) ?? admin.maxBodyBytes
        admin.maxConnections = try s.int("max_connections", range: 1...100_000) ?? admin.maxConnections

        try s.rejectUnknownKeys()
        return admin
    }

    static func readMetricsListen(_ s: inout TableReader) throws(ConfigError) -> (host: String, port: Int) {
        let listen = try s.requiredString("listen")
        guard let hp = parseHostPort(listen) else { throw s.error("listen", "expected HOST:PORT") }

        try s.rejectUnknownKeys()
        return hp
    }

    static func readExpiryWarningDays(_ s: inout TableReader) throws(ConfigError) -> Int? {
        let days = try s.int("expiry_warning_days", range: 0...3650)
        try s.rejectUnknownKeys()
        return days
    }

    static func readLog(_ s: inout TableReader, into c: inout GatewayConfig) throws(ConfigError) {
        c.logLevel = try s.string("level") ?? c.logLevel
        guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(c.logLevel) else {
            throw s.error("level", "must be one of trace, debug, info, notice, warning, error, critical")
        }
        c.logFormat = try s.string("format") ?? c.logFormat
        guard ["json", "text"].contains(c.logFormat) else { throw s.error("format", "must be json or text") }
        try s.rejectUnknownKeys()
    }

    static func readSink(_ s: inout TableReader) throws(ConfigError) -> SinkSettings {
        let listen = try s.requiredString("listen")
        guard let (h, p) = parseHostPort(listen) else { throw s.error("listen", "expected HOST:PORT") }
        let sink = SinkSettings(host: h, port: p, secrets: try secretList(&s, "secrets", required: true))
        try s.rejectUnknownKeys()
        return sink
    }

    static func readDestinations(_ s: inout TableReader) throws(ConfigError) -> [String: DestinationConfig] {
        var destinations: [String: DestinationConfig] = [:]
        for name in s.values.keys.sorted() {
            guard var d = try s.table(name) else { continue }
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
            destinations[name] = dc
        }
        return destinations
    }

    static func readStreams(_ s: inout TableReader) throws(ConfigError) -> [String: StreamConfig] {
        var streams: [String: StreamConfig] = [:]
        for name in s.values.keys.sorted() {
            guard var t = try s.table(name) else { continue }
            guard StreamConfig.isValidName(name) else {
                throw t.error(nil, "stream names are 1-64 letters, digits, '.', '-' or '_'")
            }
            var sc = StreamConfig(name: name, tokens: try secretList(&t, "tokens", required: true))
            sc.retentionHours = try t.int("retention_hours", range: 1...87_600) ?? sc.retentionHours
            sc.leaseSeconds = try t.int("lease_seconds", range: 1...3_600) ?? sc.leaseSeconds
            sc.maxBatch = try t.int("max_batch", range: 1...1_000) ?? sc.maxBatch
            sc.sseHeartbeatSeconds = try t.int("sse_heartbeat_seconds", range: 1...300) ?? sc.sseHeartbeatSeconds
            try t.rejectUnknownKeys()
            streams[name] = sc
        }
        return streams
    }

    /// Whether a route target names something that exists: a destination, or `stream:NAME` of a configured stream.
    static func targetError(_ target: String, destinations: [String: DestinationConfig], streams: [String: StreamConfig]) -> String? {
        if let stream = RouteTarget.streamName(target) {
            guard streams[stream] != nil else {
                let known = streams.keys.sorted()
                return "unknown stream '\(stream)' (\(known.isEmpty ? "no [streams.NAME] is configured" : "configured: " + known.joined(separator: ", ")))"
            }
            return nil
        }
        return destinations[target] == nil ? "unknown destination '\(target)'" : nil
    }

    static func readSources(_ sources: inout TableReader, destinations: [String: DestinationConfig], streams: [String: StreamConfig] = [:]) throws(ConfigError) -> [SourceConfig] {
        var out: [SourceConfig] = []
        var paths: [String: String] = [:]
        for name in sources.values.keys.sorted() {
            guard var s = try sources.table(name) else { continue }
            guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
                throw s.error(nil, "source names are letters, digits, '-' or '_'")
            }
            var sc = SourceConfig(name: name, provider: try s.requiredString("provider"), path: try s.string("path") ?? "/hooks/\(name)",
                                  secrets: try secretList(&s, "secrets", required: false), destinations: try s.strings("destinations") ?? [])
            guard sc.path.hasPrefix("/"), !sc.path.contains("?") else { throw s.error("path", "must start with '/' and have no query") }
            if let other = paths[sc.path] { throw s.error("path", "'\(sc.path)' is already used by source '\(other)'") }
            paths[sc.path] = name
            for d in sc.destinations {
                if let problem = targetError(d, destinations: destinations, streams: streams) { throw s.error("destinations", problem) }
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
                if let problem = targetError(dest, destinations: destinations, streams: streams) { throw rt.error("destination", problem) }
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
            sc.verifySignatures = try s.bool("verify_signatures") ?? true
            sc.acceptHandshakeSecret = try s.bool("accept_handshake_secret") ?? false
            sc.jwtAudience = try s.strings("jwt_audience") ?? []
            sc.jwksURL = try s.string("jwks_url")
            if var c = try s.table("jwt_claims") {
                for key in c.values.keys.sorted() {
                    guard let accepted = try c.strings(key), !accepted.isEmpty else { throw c.error(key, "is a list of accepted values") }
                    sc.jwtClaims[key] = accepted
                }
                try c.rejectUnknownKeys()
            }
            if let t = try s.string("verify_token") { sc.verifyToken = SecretReference(label: "verify_token", reference: t) }
            // Credentials for a provider's key API: they can act on the receiver's account (Circle's API key moves
            // money), so they are never written into the file.
            for key in ["key_fetch_client_id", "key_fetch_secret"] {
                guard let t = try s.string(key) else { continue }
                guard SecretReference.isIndirect(t) else { throw s.error(key, "must be an env:NAME or file:PATH reference, not the value") }
                if key == "key_fetch_client_id" { sc.keyFetchClientID = SecretReference(label: key, reference: t) } else { sc.keyFetchSecret = SecretReference(label: key, reference: t) }
            }
            sc.keyHost = try s.string("key_host")?.lowercased()
            try s.rejectUnknownKeys()
            out.append(sc)
        }
        return out
    }

    static func cidrs(_ r: inout TableReader, _ key: String) throws(ConfigError) -> [CIDR] {
        var out: [CIDR] = []
        for t in try r.strings(key) ?? [] {
            guard let c = CIDR(t) else { throw r.error(key, "'\(t)' is not an IP address or CIDR") }
            out.append(c)
        }
        return out
    }

    /// Secrets as strings (`"env:NAME"`) or tables (`{ label = "2026-q4", value = "env:NAME" }`).
    static func secretList(_ r: inout TableReader, _ key: String, required: Bool) throws(ConfigError) -> [SecretReference] {
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
}
