import ArgumentParser
import AsyncHTTPClient
import Foundation
import InletConfig
import InletCore
import InletServer
import InletStore
import Logging
import NIOCore
import NIOPosix
import UnixSignals

@main
struct Inlet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inlet",
        abstract: "A receiver-side webhook gateway: verify, store durably, acknowledge, forward.",
        version: InletVersion.current,
        subcommands: [Serve.self, CheckConfig.self, Migrate.self, Reload.self, SendTest.self, Sources.self, Events.self, Replay.self, DeadLetters.self,
                      Quarantine.self, Destinations.self, Prune.self, Secrets.self, Sink.self, Providers.self],
        defaultSubcommand: Serve.self)

    /// Files this process creates (the store, its WAL, shared memory and lock) are its owner's alone: the store holds
    /// every payload received, and a default umask of 022 would make it world-readable.
    static func main() async {
        umask(0o077)
        await main(nil)
    }
}

struct ConfigOption: ParsableArguments {
    @Option(name: .shortAndLong, help: "Gateway config file.")
    var config: String = "config/inlet.toml"

    func load() throws -> GatewayConfig {
        do { return try GatewayConfig.load(file: config) } catch { throw CLIError(error.description) }
    }

    func resolve() throws -> ResolvedGateway {
        do { return try load().resolve() } catch let e as ConfigError { throw CLIError(e.description) }
    }
}

struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

func bootstrapLogging(level: String, format: String) {
    let lvl = Logger.Level(rawValue: level) ?? .info
    LoggingSystem.bootstrap { label in
        var h: any LogHandler = format == "json" ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
        h.logLevel = lvl
        return h
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the gateway.")
    @OptionGroup var options: ConfigOption

    func run() async throws {
        let resolved = try options.resolve()
        bootstrapLogging(level: resolved.config.logLevel, format: resolved.config.logFormat)
        let logger = Logger(label: "inlet")
        logger.notice("starting", metadata: [
            "config": "\(options.config)",
            // The PostgreSQL URL may carry a password: only the backend is named.
            "store": "\(resolved.config.store.backend == .sqlite ? resolved.config.storePath : "postgres")",
            "durability": "\(resolved.config.store.backend == .sqlite ? resolved.config.store.durability.rawValue : "postgres commit")",
            "sources": "\(resolved.sources.map { "\($0.name)=\($0.path) (\($0.profile.name))" }.joined(separator: ", "))",
        ])
        let gateway: Gateway
        do {
            let path = options.config
            gateway = try Gateway(resolved: resolved, logger: logger, signals: [.sigterm, .sigint],
                                  reload: { try GatewayConfig.load(file: path).resolve() })
        } catch {
            throw CLIError("cannot start: \(error)")
        }
        try await gateway.run()
    }
}

struct CheckConfig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check-config", abstract: "Validate the config, its provider profiles and secrets.")
    @OptionGroup var options: ConfigOption

    func run() async throws {
        let resolved = try options.resolve()
        print("\(options.config): OK")
        print("  listen      \(resolved.config.server.host):\(resolved.config.server.port)")
        print("  store       \(resolved.config.storePath) (durability: \(resolved.config.store.durability.rawValue))")
        print("  profiles    \(resolved.profiles.count) loaded from \(resolved.config.providersPath)")
        for s in resolved.sources {
            print("  source      \(s.name): POST \(s.path) → \(s.profile.name), \(s.keys.count) secret(s) [\(s.keys.map(\.label).joined(separator: ", "))], destinations: \(s.destinations.joined(separator: ", "))")
        }
        for (name, d) in resolved.destinations.sorted(by: { $0.key < $1.key }) {
            print("  destination \(name): \(d.config.url) (timeout \(d.config.timeoutSeconds)s, \(d.config.retry.maxAttempts) attempts)")
        }
        for w in resolved.expiryWarnings(now: SystemClock().now()) {
            print("  warning     \(w)")
        }
        for use in resolved.developmentCredentials {
            print("  warning     development credential: \(use) (refused on a non-loopback listener)")
        }
    }
}

struct Providers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the provider profiles and their schemes.",
        subcommands: [List.self, UpdateIPs.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the provider profiles and their schemes.")
        @Option(help: "Directory of provider profiles.") var dir: String = "providers"

        func run() async throws {
            let profiles: [String: ProviderProfile]
            do { profiles = try ProfileLoader.loadDirectory(dir) } catch { throw CLIError(error.description) }
            for p in profiles.values.sorted(by: { $0.name < $1.name }) {
                let id = p.event.idSources.map(\.description).joined(separator: " | ")
                var line = "\(p.name.padding(toLength: 18, withPad: " ", startingAt: 0)) \(p.schemeSummary); id: \(id.isEmpty ? "body sha256" : id + " (else body sha256)")"
                if !p.handshakes.isEmpty { line += "; handshake: \(p.handshakes.map(\.rawValue).joined(separator: ", "))" }
                if let ips = p.sourceIPs { line += "; source IPs: \(ips.ranges.count) as of \(ips.asOf)" }
                print(line)
            }
            print("\(profiles.count) profiles")
        }
    }

    struct UpdateIPs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "update-ips", abstract: "Refresh a profile's published source IP ranges from the provider's machine-readable list.")
        @Argument(help: "Provider name, e.g. stripe or github.") var provider: String
        @Option(help: "Directory of provider profiles.") var dir: String = "providers"
        @Option(help: "Fetch from this URL instead of the profile's (e.g. a mirror).") var from: String?

        func run() async throws {
            let path = (dir as NSString).appendingPathComponent(provider + ".toml")
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw CLIError("no profile at \(path)") }
            let profile: ProviderProfile
            do { profile = try ProfileLoader.parse(text, file: path) } catch { throw CLIError(error.description) }
            guard let published = profile.sourceIPs, let format = published.format, let url = from ?? published.url else {
                throw CLIError("\(provider) publishes no machine-readable address list; edit [source_ips] in \(path) by hand")
            }
            let client = OutboundHTTP.makeClient()
            let body: ByteBuffer
            do {
                let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(20))
                guard response.status == .ok else { throw CLIError("\(url) answered \(response.status.code)") }
                body = try await response.body.collect(upTo: 4 << 20)
            } catch {
                try? await client.shutdown()
                throw CLIError("cannot fetch \(url): \(error)")
            }
            try? await client.shutdown()
            let ranges: [CIDR]
            do { ranges = try PublishedIPRanges.parse(Array(buffer: body), format: format) } catch { throw CLIError("\(url): \(error)") }
            let today = String(RFC3339.format(SystemClock().now()).prefix(10))
            let updated: String
            do { updated = try ProfileLoader.rewriteSourceIPs(text, ranges: ranges, asOf: today) } catch { throw CLIError(error.description) }
            do { _ = try ProfileLoader.parse(updated, file: path) } catch { throw CLIError("refusing to write an invalid profile: \(error)") }
            // The atomic write makes a new file (0600 under our umask): keep the profile's own mode, it is not a secret.
            let mode = (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions]
            try updated.write(toFile: path, atomically: true, encoding: .utf8)
            if let mode { try? FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path) }
            let before = Set(published.ranges.map(\.text)), after = Set(ranges.map(\.text))
            print("\(path): \(ranges.count) ranges as of \(today) (+\(after.subtracting(before).count) −\(before.subtracting(after).count))")
        }
    }
}

struct SendTest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "send-test", abstract: "Sign a sample event as the source's provider would and POST it to the gateway.")
    @OptionGroup var options: ConfigOption
    @Argument(help: "Source name.") var source: String
    @Option(help: "Gateway base URL (default: the config's listen address).") var url: String?
    @Option(help: "Event type to put in the sample.") var type: String = "inlet.test"

    func run() async throws {
        let resolved = try options.resolve()
        guard let policy = resolved.sources.first(where: { $0.name == source }) else {
            throw CLIError("no source named '\(source)' in \(options.config) (sources: \(resolved.sources.map(\.name).joined(separator: ", ")))")
        }
        guard let spec = policy.profile.signatures.first else { throw CLIError("\(policy.profile.name) has no signature scheme") }
        if spec.algorithm.usesPublicKey || spec.algorithm.usesSigningCertificate {
            throw CLIError("send-test cannot sign as \(policy.profile.name): only the provider holds its private key. Use the provider's own test tools.")
        }
        if case .header? = spec.sources.first {} else {
            throw CLIError("send-test cannot sign as \(policy.profile.name): its signature travels inside the body")
        }
        let now = SystemClock().now()
        let eventID = "evt_test_" + String(InletEventID.make(millis: now).suffix(16)).lowercased()
        var sample = SampleEvent.make(profile: policy.profile, id: eventID, type: type, now: now)
        var contentType = "application/json"
        if spec.algorithm == .twilio {
            // Twilio posts forms; the idempotency token header carries the event ID.
            sample = (Array("MessageSid=SM\(eventID.suffix(16))&Body=Hello+from+inlet+send-test&From=%2B15555550100".utf8), [("I-Twilio-Idempotency-Token", eventID)])
            contentType = "application/x-www-form-urlencoded"
        }
        let publicURL = policy.verification.publicURL
        var headers = policy.profile.sign(body: sample.body, key: policy.keys[0].keyBytes, timestampSeconds: now / 1000, id: eventID, publicURL: publicURL)
        // The signer already set the headers the scheme signs (e.g. webhook-id); do not send them twice.
        headers += sample.headers.filter { h in !headers.contains { $0.0.lowercased() == h.0.lowercased() } }
        let base = url ?? "http://\(resolved.config.server.host == "0.0.0.0" ? "127.0.0.1" : resolved.config.server.host):\(resolved.config.server.port)"
        var request = HTTPClientRequest(url: base + policy.path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: contentType)
        for (n, v) in headers { request.headers.add(name: n, value: v) }
        request.body = .bytes(sample.body)
        let client = OutboundHTTP.makeClient()
        print("POST \(base + policy.path)  (\(policy.profile.name), signed with secret '\(policy.keys[0].label)', event \(eventID))")
        let status: UInt
        do {
            let response = try await client.execute(request, timeout: .seconds(10))
            let body = try await response.body.collect(upTo: 1 << 20)
            status = response.status.code
            print("\(status) \(String(buffer: body))")
        } catch {
            try? await client.shutdown()
            throw CLIError("cannot reach the gateway at \(base): \(error). Is `inlet serve` running?")
        }
        try? await client.shutdown()
        if !(200..<300).contains(Int(status)) { throw ExitCode(1) }
    }
}

/// Builds a sample body (and header fields) carrying an event ID and type where the profile looks for them.
enum SampleEvent {
    static func make(profile: ProviderProfile, id: String, type: String, now: EpochMillis) -> (body: [UInt8], headers: [(String, String)]) {
        var object: [String: Any] = ["created": now / 1000, "data": ["message": "Hello from inlet send-test"]]
        var headers: [(String, String)] = []
        func place(_ sources: [ValueSource], _ value: String) {
            switch sources.first {
            case .json(let p)?: set(&object, p.tokens[...], value)
            case .header(let h)?: headers.append((h, value))
            default: break
            }
        }
        place(profile.event.idSources, id)
        place(profile.event.typeSources, type)
        if object["id"] == nil { object["id"] = id }
        if object["type"] == nil { object["type"] = type }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return (Array(data), headers)
    }

    private static func set(_ obj: inout [String: Any], _ path: ArraySlice<String>, _ value: String) {
        guard let first = path.first else { return }
        if path.count == 1 { obj[first] = value; return }
        var child = obj[first] as? [String: Any] ?? [:]
        set(&child, path.dropFirst(), value)
        obj[first] = child
    }
}

struct Sink: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run a development sink that verifies and logs forwarded events.")
    @Option(help: "Address to listen on.") var listen: String = "127.0.0.1:8091"
    @Option(help: "Standard Webhooks secret (whsec_…, or env:NAME).") var secret: String
    @Flag(help: "Log only signature failures (for load tests).") var quiet = false

    func run() async throws {
        bootstrapLogging(level: "info", format: "text")
        guard let (host, port) = GatewayConfig.parseHostPort(listen) else { throw CLIError("--listen must be HOST:PORT") }
        let value: String
        switch SecretReference(label: "sink", reference: secret).resolve(environment: ProcessInfo.processInfo.environment, baseDirectory: ".") {
        case .success(let v): value = v
        case .failure(let e): throw CLIError("--secret: \(e)")
        }
        guard let signer = try? StandardWebhooksSigner(secrets: [value]) else { throw CLIError("--secret must be whsec_<base64>") }
        let logger = Logger(label: "inlet.sink")
        // Events of any source's largest body reach the sink, wrapped (and base64-encoded) in a CloudEvent.
        let server = try await SimpleHTTPServer.start(host: host, port: port, limits: .init(maxBodyBytes: 64 << 20),
                                                      handler: DevelopmentSink.handler(signer: signer, logger: logger, quiet: quiet))
        logger.notice("development sink listening on \(host):\(server.port)")
        try await server.closeFuture.get()
    }
}

/// Opens the gateway's store alongside a running gateway: SQLite without its lock (WAL allows it), or PostgreSQL.
func openStoreForReading(_ config: GatewayConfig) throws -> any EventStore {
    do { return try StoreFactory.open(config, purpose: .tool) } catch { throw CLIError("\(error)") }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create or upgrade the store's schema (PostgreSQL: run once before starting instances, or let them with migrate_on_start).")
    @OptionGroup var options: ConfigOption

    func run() async throws {
        let config = try options.load()
        let store: any EventStore
        do { store = try StoreFactory.open(config, purpose: .migrate) } catch { throw CLIError("\(error)") }
        if let pg = store as? PostgresEventStore {
            let applied = try pg.migrate()
            print("\(pg.settings): schema is current (\(PostgresSchema.migrationNames.count) migrations\(applied.isEmpty ? "" : "; applied just now: " + applied.joined(separator: ", ")))")
            pg.close()
        } else {
            print("\(config.storePath): schema is current (SQLite migrates when it opens the file)")
        }
    }
}

func ago(_ ms: EpochMillis, now: EpochMillis) -> String {
    let s = max(0, (now - ms) / 1000)
    if s < 120 { return "\(s)s ago" }
    if s < 7200 { return "\(s / 60)m ago" }
    if s < 172_800 { return "\(s / 3600)h ago" }
    return "\(s / 86400)d ago"
}

struct Sources: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show sources and, per secret, when it last verified a request and how often in the last 24 h.")
    @OptionGroup var options: ConfigOption

    func run() async throws {
        let resolved = try options.resolve()
        let now = SystemClock().now()
        let usage = (try? openStoreForReading(resolved.config).secretUsage(since: now - 86_400_000)) ?? []
        for s in resolved.sources {
            print("\(s.name)  POST \(s.path)  provider \(s.profile.name)  destinations: \(s.destinations.isEmpty ? "none" : s.destinations.joined(separator: ", "))")
            for k in s.keys {
                var window = ""
                if let nb = k.window.notBefore { window += " from \(RFC3339.format(nb))" }
                if let ex = k.window.expiresAt { window += (k.window.hasExpired(at: now) ? " expired " : " until ") + RFC3339.format(ex) }
                let state = k.window.isActive(at: now) ? "active" : (k.window.hasExpired(at: now) ? "expired" : "not yet valid")
                let u = usage.first { $0.source == s.name && $0.secretLabel == k.label }
                let seen = u.map { "last verified \(ago($0.lastVerifiedAt, now: now)) (\(RFC3339.format($0.lastVerifiedAt))), \($0.verifiedSince) in 24 h" } ?? "never verified a stored event"
                print("  secret \(k.label)  \(state)\(window)  \(seen)")
            }
        }
    }
}

struct Secrets: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Generate secrets and the config entries for rotating them.", subcommands: [Generate.self, Rotate.self])

    /// A new random secret in the format `profile` expects (`whsec_` + base64 for Standard Webhooks style).
    static func generate(for profile: ProviderProfile?, bytes: Int) -> String {
        var g = SystemRandomNumberGenerator()
        let raw = (0..<bytes).map { _ in UInt8.random(in: 0...255, using: &g) }
        switch profile?.secretEncoding ?? .base64(stripPrefix: "whsec_") {
        case .base64(let prefix): return prefix + Base64.encode(raw)
        case .hex: return Hex.string(raw)
        case .utf8: return Base64.encode(raw).replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        }
    }

    struct Generate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a strong random secret (default: whsec_<base64>, for destinations and Standard Webhooks).")
        @Option(help: "Format the secret as this provider expects.") var provider: String?
        @Option(help: "Providers directory.") var dir: String = "providers"
        @Option(help: "Random bytes in the secret.") var bytes: Int = 32

        func run() async throws {
            guard (24...64).contains(bytes) else { throw CLIError("--bytes must be 24…64") }
            var profile: ProviderProfile?
            if let provider {
                do { profile = try ProfileLoader.loadDirectory(dir)[provider] } catch { throw CLIError(error.description) }
                guard let p = profile else { throw CLIError("no profile '\(provider)'") }
                if p.signatures.first.map({ $0.algorithm.usesPublicKey || $0.algorithm.usesSigningCertificate }) == true {
                    throw CLIError("\(provider) verifies with the provider's key: there is no shared secret to generate")
                }
            }
            print(Secrets.generate(for: profile, bytes: bytes))
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the secrets entry for a rotation with an overlap window.")
        @OptionGroup var options: ConfigOption
        @Option(help: "Rotate a source's secret (the provider issues the new one).") var source: String?
        @Option(help: "Rotate a destination's signing secret (generated here).") var destination: String?
        @Option(help: "Days both secrets stay valid.") var overlapDays: Int = 7

        func run() async throws {
            guard (1...3650).contains(overlapDays) else { throw CLIError("--overlap-days must be 1…3650") }
            let config = try options.load()
            let now = SystemClock().now() / 1000 * 1000  // whole seconds: the printed times are for people
            let retireAt = RFC3339.format(now + Int64(overlapDays) * 86_400_000).replacingOccurrences(of: ".000Z", with: "Z")
            let label = String(RFC3339.format(now).prefix(10))
            let refs: [SecretReference]
            let owner: String
            var newValue: String?
            if let source {
                guard let s = config.sources.first(where: { $0.name == source }) else { throw CLIError("no source '\(source)'") }
                refs = s.secrets; owner = "sources.\(source)"
            } else if let destination {
                guard let d = config.destinations[destination] else { throw CLIError("no destination '\(destination)'") }
                refs = d.secrets; owner = "destinations.\(destination)"
                newValue = Secrets.generate(for: nil, bytes: 32)
            } else {
                throw CLIError("name --source or --destination")
            }
            let env = "INLET_" + owner.uppercased().replacingOccurrences(of: ".", with: "_").replacingOccurrences(of: "-", with: "_") + "_" + label.replacingOccurrences(of: "-", with: "")
            print("# In [\(owner)]: the new secret verifies from now; the old ones keep working until \(retireAt).")
            print("secrets = [")
            print("  { label = \"\(label)\", value = \"env:\(env)\" },")
            for r in refs {
                let expiry = r.expiresAt.map { min($0, now + Int64(overlapDays) * 86_400_000) }.map { RFC3339.format($0).replacingOccurrences(of: ".000Z", with: "Z") } ?? retireAt
                print("  { label = \"\(r.label)\", value = \"\(r.reference.hasPrefix("env:") || r.reference.hasPrefix("file:") ? r.reference : "<the current secret>")\", expires_at = \(expiry) },")
            }
            print("]")
            if let newValue {
                print("# Set before reloading, and give the same secret to the service behind the destination:")
                print("export \(env)='\(newValue)'")
            } else {
                print("# Set \(env) to the new secret the provider shows you, then switch the provider to it.")
            }
        }
    }
}

struct Reload: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Make the running gateway re-read its config, profiles and secrets (SIGHUP).")
    @OptionGroup var options: ConfigOption

    func run() async throws {
        let config = try options.load()
        // Validate first: the gateway would refuse an invalid config anyway, but here the error is in front of you.
        do { _ = try config.resolve() } catch { throw CLIError("not reloading: \(error)") }
        if config.store.backend == .postgres {
            throw CLIError("config is valid. With a shared PostgreSQL store, send SIGHUP to each instance (kill -HUP <pid>) on its machine")
        }
        guard let pid = SQLiteEventStore.holderPID(ofStoreAt: config.storePath) else {
            throw CLIError("no gateway is running on \(config.storePath)")
        }
        guard kill(pid, SIGHUP) == 0 else { throw CLIError("cannot signal process \(pid): \(String(cString: strerror(errno)))") }
        print("sent SIGHUP to inlet (pid \(pid)); its log says whether the new config was taken")
    }
}

struct Prune: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply retention now: delete idempotency keys and delivered events older than their windows.")
    @OptionGroup var options: ConfigOption
    @Flag(help: "Only show what would go.") var dryRun = false

    func run() async throws {
        let config = try options.load()
        let store: any StoreMaintenance = try openStoreForReading(config)
        let now = SystemClock().now()
        let eventCutoff = now - Int64(config.store.eventRetentionDays) * 86_400_000
        let keyCutoff = now - Int64(config.store.idempotencyRetentionDays) * 86_400_000
        let (events, keys) = try store.prunable(eventsBefore: eventCutoff, idempotencyKeysBefore: keyCutoff)
        let quarantined = try store.expiredQuarantine(now: now)
        if dryRun {
            print("would delete \(events) event(s) received before \(RFC3339.format(eventCutoff)) (all deliveries finished), \(keys) idempotency key(s) last seen before \(RFC3339.format(keyCutoff)) and \(quarantined) expired quarantine entr(ies)")
            return
        }
        var deleted = 0, forgotten = 0, expired = 0
        while case let n = try store.pruneEvents(receivedBefore: eventCutoff, limit: 500), n > 0 { deleted += n }
        while case let n = try store.pruneIdempotencyKeys(lastSeenBefore: keyCutoff, limit: 500), n > 0 { forgotten += n }
        while case let n = try store.pruneQuarantine(expiredBy: now, limit: 500), n > 0 { expired += n }
        print("deleted \(deleted) event(s), \(forgotten) idempotency key(s) and \(expired) quarantine entr(ies)")
    }
}
