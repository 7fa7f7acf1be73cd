import ArgumentParser
import AsyncHTTPClient
import Foundation
import InletConfig
import InletCore
import InletServer
import InletStore
import NIOCore
import NIOHTTP1
import NIOPosix

/// How an operator's command reaches the gateway: by default in-process, running the admin API's own handler on the
/// store next to the config (the machine the gateway runs on); with `--admin`, over HTTP to a remote admin API.
/// Either way the command sees the same JSON, so the CLI mirrors the API exactly.
struct AdminAccess: ParsableArguments {
    @OptionGroup var options: ConfigOption
    @Option(name: .customLong("admin"), help: "Admin API base URL, e.g. http://10.0.0.5:9190 (default: $INLET_ADMIN_URL; unset: open the local store).")
    var adminURL: String?
    @Option(help: "Bearer token for --admin: the token, env:NAME or file:PATH (default: $INLET_ADMIN_TOKEN).")
    var token: String?
    @Flag(help: "Print the API's JSON instead of a summary.")
    var json = false

    struct Reply {
        let status: Int
        let body: [UInt8]
        var object: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]) ?? [:] }
    }

    var remoteURL: String? { adminURL ?? ProcessInfo.processInfo.environment["INLET_ADMIN_URL"] }

    /// Performs one API call; a 4xx/5xx answer becomes an error carrying the API's reason.
    func call(_ method: HTTPMethod, _ path: String, body: [UInt8] = [], allow: Set<Int> = []) async throws -> Reply {
        let reply = try await perform(method, path, body: body)
        guard reply.status < 400 || allow.contains(reply.status) else {
            let o = reply.object
            let detail = ["error", "destination", "parameter", "hint", "reason"].compactMap { k in (o[k] as? String).map { "\(k == "error" ? "" : k + ": ")\($0)" } }
            throw CLIError("\(reply.status) \(detail.isEmpty ? String(decoding: reply.body.prefix(300), as: UTF8.self) : detail.joined(separator: ", "))")
        }
        return reply
    }

    private func perform(_ method: HTTPMethod, _ path: String, body: [UInt8]) async throws -> Reply {
        if let base = remoteURL {
            var request = HTTPClientRequest(url: base.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + path)
            request.method = method
            request.headers.add(name: "Authorization", value: "Bearer \(try resolvedToken())")
            if !body.isEmpty {
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(ByteBuffer(bytes: body))
            }
            do {
                let response = try await OutboundHTTP.shared.execute(request, timeout: .seconds(300))
                return Reply(status: Int(response.status.code), body: Array(buffer: try await response.body.collect(upTo: 256 << 20)))
            } catch {
                throw CLIError("cannot reach the admin API at \(base): \(error)")
            }
        }
        let resolved = try options.resolve()
        let store = try openStoreForReading(resolved.config)
        let api = AdminAPI(runtime: GatewayRuntime(resolved), store: store, storeThreads: NIOThreadPool.singleton, clock: SystemClock(),
                           certificates: SigningCertificateCache(fetcher: HTTPCertificateFetcher(client: OutboundHTTP.shared), clock: SystemClock()),
                           requiresToken: false)
        let response = await api.handle(SimpleRequest(method: method.rawValue, uri: path, body: body))
        return Reply(status: response.status, body: response.body)
    }

    /// The token, or the secret it references: the same `env:`/`file:` rules as the config's secrets (a relative
    /// `file:` path is taken from the current directory, as a path typed on the command line would be).
    private func resolvedToken() throws -> String {
        guard let reference = token ?? ProcessInfo.processInfo.environment["INLET_ADMIN_TOKEN"] else {
            throw CLIError("--admin needs a token: --token, or $INLET_ADMIN_TOKEN")
        }
        switch SecretReference(label: "admin token", reference: reference)
            .resolve(environment: ProcessInfo.processInfo.environment, baseDirectory: FileManager.default.currentDirectoryPath) {
        case .success(let value): return value
        case .failure(.envUnset(let name)): throw CLIError("the admin token's environment variable \(name) is not set")
        case .failure(.fileUnreadable(let path)): throw CLIError("cannot read the admin token file \(path)")
        case .failure(.empty): throw CLIError("the admin token (\(reference.hasPrefix("env:") || reference.hasPrefix("file:") ? reference : "given") is empty")
        }
    }

    /// Prints the JSON as is (`--json`), or runs the summary printer.
    func show(_ reply: Reply, _ summary: ([String: Any]) -> Void) {
        if json { print(String(decoding: reply.body, as: UTF8.self)) } else { summary(reply.object) }
    }
}

/// Builds a query string from the options that were given.
func queryString(_ pairs: [(String, String?)]) -> String {
    let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~:"))
    let parts = pairs.compactMap { k, v in v.map { "\(k)=\($0.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0)" } }
    return parts.isEmpty ? "" : "?" + parts.joined(separator: "&")
}

func text(_ v: Any?) -> String {
    switch v {
    case let s as String: return s
    case let n as NSNumber: return n.stringValue
    case nil: return "-"
    default: return "\(v!)"
    }
}

struct Events: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List and inspect stored events.", subcommands: [List.self, Show.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stored events, newest first.")
        @OptionGroup var access: AdminAccess
        @Option(help: "Only this source.") var source: String?
        @Option(help: "Only this event type.") var type: String?
        @Option(help: "pending, dead, delivered or unrouted.") var status: String?
        @Option(name: .customLong("event-key"), help: "The provider's event ID.") var eventKey: String?
        @Option(help: "Received at or after (RFC 3339).") var since: String?
        @Option(help: "Received before (RFC 3339).") var until: String?
        @Option(help: "At most this many (1-500).") var limit: Int = 50
        @Option(help: "Continue after this event ID (from the previous page).") var cursor: String?

        func run() async throws {
            let q = queryString([("source", source), ("type", type), ("status", status), ("event_key", eventKey), ("since", since),
                                 ("until", until), ("limit", String(limit)), ("cursor", cursor)])
            let reply = try await access.call(.GET, "/v1/events" + q)
            access.show(reply) { o in
                let events = o["events"] as? [[String: Any]] ?? []
                for e in events {
                    print("\(text(e["id"]))  \(text(e["received_at"]))  \(text(e["source"]))  \(text(e["type"]))  key \(text(e["event_key"]))  \(text(e["body_bytes"])) B\(e["unrouted"] as? Bool == true ? "  unrouted" : "")")
                }
                if events.isEmpty { print("no events") }
                if let next = o["next_cursor"] as? String { print("more: --cursor \(next)") }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One stored event: metadata, the secret that verified it, deliveries and attempts.")
        @OptionGroup var access: AdminAccess
        @Argument(help: "Inlet event ID (evt_…).") var id: String
        @Flag(help: "Also print the raw body exactly as received.") var body = false

        func run() async throws {
            let reply = try await access.call(.GET, "/v1/events/\(id)")
            access.show(reply) { e in
                print("id              \(text(e["id"]))")
                print("source          \(text(e["source"])) (\(text(e["provider"])))")
                print("event key       \(text(e["event_key"])) (\(text(e["key_origin"])))")
                print("type            \(text(e["type"]))")
                print("received        \(text(e["received_at"])) from \(text(e["client_address"] ?? e["peer"]))")
                if let t = e["provider_timestamp"] { print("provider time   \(text(t))") }
                print("verified by     \(text(e["verified_by"]))")
                print("duplicates      \(text(e["duplicates"]))")
                if e["unrouted"] as? Bool == true { print("routing         unrouted: no route matched (stored, replayable)") }
                print("request         \(text(e["method"])) \(text(e["path"]))\((e["query"] as? String).map { "?" + $0 } ?? "")  \(text(e["body_bytes"])) bytes")
                for h in e["headers"] as? [[String]] ?? [] where h.count == 2 { print("  \(h[0]): \(h[1])") }
                for d in e["deliveries"] as? [[String: Any]] ?? [] {
                    print("delivery \(text(d["id"])) → \(text(d["destination"])): \(text(d["state"])), \(text(d["attempts"])) attempt(s)\((d["last_error"] as? String).map { ", last error: " + $0 } ?? "")")
                    for a in d["attempt_log"] as? [[String: Any]] ?? [] {
                        print("  attempt \(text(a["attempt"])) at \(text(a["started_at"])) \(text(a["duration_ms"])) ms: \(text(a["status"] ?? a["error"]))\((a["next_attempt_at"] as? String).map { ", next at " + $0 } ?? "")")
                    }
                }
                if body, let b64 = e["body_base64"] as? String, let bytes = Base64.decode(b64) {
                    print("")
                    FileHandle.standardOutput.write(Data(bytes))
                    print("")
                }
            }
        }
    }
}

struct Replay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replay stored events: one by ID, or in bulk by filter (dry run first, at a rate), to their routes, named destinations, or any URL.",
        discussion: """
            inlet replay evt_01J…                         queue one event again, to its routes as configured now
            inlet replay --source stripe --since 2026-11-20T00:00:00Z --dry-run
            inlet replay --source stripe --since 2026-11-20T00:00:00Z --rate 20
            inlet replay evt_01J… --to http://localhost:3000/webhooks --resign
            Replays through the queue are marked (`Inlet-Replay: true`, `inletreplay`). `--to` sends the stored request
            itself (original headers and bytes) from this machine; `--resign` signs it again with the source's secret.
            A token scheme's secret (GitLab, Okta, generic-token) is not stored: without `--resign` its header carries
            the marker `inlet-redacted`. Redirects are not followed.
            """)
    @OptionGroup var access: AdminAccess
    @Argument(help: "Inlet event ID (evt_…). Omit to replay by filter.") var id: String?
    @Option(name: .customLong("destination"), help: "Replay to this destination (repeatable). Default: what the source's routes choose now.")
    var destinations: [String] = []
    @Option(help: "Filter: source.") var source: String?
    @Option(help: "Filter: event type.") var type: String?
    @Option(help: "Filter: pending, dead, delivered or unrouted.") var status: String?
    @Option(name: .customLong("event-key"), help: "Filter: the provider's event ID.") var eventKey: String?
    @Option(help: "Filter: received at or after (RFC 3339).") var since: String?
    @Option(help: "Filter: received before (RFC 3339).") var until: String?
    @Option(help: "Bulk replay rate, events per second.") var rate: Double = 50
    @Option(help: "Replay at most this many events.") var limit: Int?
    @Flag(help: "Only count what the filter matches.") var dryRun = false
    @Option(help: "Send the stored raw request to this URL instead of queueing it (e.g. a developer's machine).") var to: String?
    @Flag(help: "With --to: sign the request again with the source's current secret (fresh timestamp).") var resign = false

    func validate() throws {
        let filtered = [source, type, status, eventKey, since, until].contains { $0 != nil }
        if id != nil && filtered { throw ValidationError("give an event ID or filters, not both") }
        if id == nil && !filtered { throw ValidationError("give an event ID, or at least one filter (--source, --type, --status, --event-key, --since, --until)") }
        if resign && to == nil { throw ValidationError("--resign only applies to --to") }
        if to != nil && !destinations.isEmpty { throw ValidationError("--to and --destination exclude each other") }
    }

    func run() async throws {
        if let to { return try await sendRaw(to: to) }
        if let id {
            let q = queryString(destinations.map { ("destination", $0) })
            let reply = try await access.call(.POST, "/v1/events/\(id)/replay" + q)
            access.show(reply) { o in
                print("queued \(id) for \((o["destinations"] as? [String] ?? []).joined(separator: ", ")) (deliveries \((o["delivery_ids"] as? [Any] ?? []).map(text).joined(separator: ", ")))")
            }
            return
        }
        var body: [String: Any] = ["rate_per_second": rate, "dry_run": dryRun]
        for (k, v) in [("source", source), ("type", type), ("status", status), ("event_key", eventKey), ("since", since), ("until", until)] { if let v { body[k] = v } }
        if !destinations.isEmpty { body["destinations"] = destinations }
        if let limit { body["limit"] = limit }
        let reply = try await access.call(.POST, "/v1/replays", body: Array(try JSONSerialization.data(withJSONObject: body)))
        access.show(reply) { o in
            if dryRun {
                print("\(text(o["matched"])) event(s) match; run again without --dry-run to replay them at \(rate)/s")
            } else {
                print("queued \(text(o["queued"])) delivery(ies) for \(text(o["matched"])) event(s) at \(text(o["rate_per_second"]))/s, done by \(text(o["completes_at"]))\((o["skipped"] as? Int ?? 0) > 0 ? "; \(text(o["skipped"])) skipped (no route or destination)" : "")")
            }
        }
    }

    /// Resends stored requests as they were received: the original method's body bytes and headers (minus the
    /// connection-level ones), optionally signed again, one at a time, to an arbitrary URL.
    private func sendRaw(to url: String) async throws {
        var ids: [String] = []
        if let id { ids = [id] } else {
            var cursor: String?
            repeat {
                let q = queryString([("source", source), ("type", type), ("status", status), ("event_key", eventKey), ("since", since), ("until", until),
                                     ("limit", "500"), ("cursor", cursor)])
                let page = try await access.call(.GET, "/v1/events" + q).object
                ids += (page["events"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
                cursor = page["next_cursor"] as? String
            } while cursor != nil && ids.count < (limit ?? Int.max)
            ids = Array(ids.prefix(limit ?? Int.max).reversed())  // oldest first
        }
        let resolved = resign ? try access.options.resolve() : nil
        var failures = 0
        for id in ids {
            let e = try await access.call(.GET, "/v1/events/\(id)").object
            guard let bytes = (e["body_base64"] as? String).flatMap(Base64.decode) else { throw CLIError("\(id): no body in the API's answer") }
            let original = (e["headers"] as? [[String]] ?? []).filter { $0.count == 2 }.map { ($0[0], $0[1]) }
            var signing: RawResend.Signing?
            if let resolved {
                let now = SystemClock().now()
                guard let source = resolved.sources.first(where: { $0.name == text(e["source"]) }), let key = source.keys.first(where: { $0.window.isActive(at: now) }) else {
                    throw CLIError("\(id): source '\(text(e["source"]))' has no active secret in \(access.options.config) to sign with")
                }
                signing = RawResend.Signing(profile: source.profile, key: key.keyBytes, eventID: text(e["event_key"]), nowSeconds: now / 1000)
            }
            let headers = RawResend.headers(original: original, body: bytes, method: text(e["method"]), url: url, resign: signing)
            var request = HTTPClientRequest(url: url)
            request.method = HTTPMethod(rawValue: text(e["method"]))
            for (n, v) in headers { request.headers.add(name: n, value: v) }
            request.body = .bytes(ByteBuffer(bytes: bytes))
            do {
                // Never follows a redirect: it would carry the stored request to wherever the answer points.
                let response = try await OutboundHTTP.shared.execute(request, timeout: .seconds(30))
                _ = try await response.body.collect(upTo: 1 << 20)
                print("\(id) → \(url): \(response.status.code)")
                if response.status.code >= 300 { failures += 1 }
            } catch {
                print("\(id) → \(url): \(error)")
                failures += 1
            }
        }
        if ids.isEmpty { print("no events match") }
        if failures > 0 { throw ExitCode(1) }
    }
}

struct DeadLetters: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "dead-letters", abstract: "List, redeliver or discard dead letters.",
                                                    subcommands: [List.self, Redeliver.self, Discard.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        @OptionGroup var access: AdminAccess
        @Option(help: "Only this destination.") var destination: String?
        @Option(help: "At most this many.") var limit: Int = 100
        @Option(help: "Continue after this delivery ID.") var cursor: String?

        func run() async throws {
            let reply = try await access.call(.GET, "/v1/dead-letters" + queryString([("destination", destination), ("limit", String(limit)), ("cursor", cursor)]))
            access.show(reply) { o in
                let rows = o["dead_letters"] as? [[String: Any]] ?? []
                for d in rows {
                    print("\(text(d["delivery_id"]))  \(text(d["event_id"]))  \(text(d["source"])) → \(text(d["destination"]))  \(text(d["type"]))  \(text(d["attempts"])) attempt(s)  last: \(text(d["last_status"] ?? d["last_error"]))  at \(text(d["dead_at"]))")
                }
                if rows.isEmpty { print("no dead letters") }
                if let next = o["next_cursor"] as? String { print("more: --cursor \(next)") }
            }
        }
    }

    struct Redeliver: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Queue a dead letter again with fresh attempts; or, with --all, every one matching the filters.")
        @OptionGroup var access: AdminAccess
        @Argument(help: "Delivery ID (from `inlet dead-letters`).") var deliveryID: Int64?
        @Flag(help: "Every dead letter (of --destination / --source if given).") var all = false
        @Option(help: "With --all: only this destination.") var destination: String?
        @Option(help: "With --all: only events of this source.") var source: String?

        func validate() throws {
            if (deliveryID == nil) == !all { throw ValidationError("give a delivery ID or --all") }
        }

        func run() async throws {
            if let deliveryID {
                let reply = try await access.call(.POST, "/v1/dead-letters/\(deliveryID)/redeliver")
                access.show(reply) { _ in print("delivery \(deliveryID) queued again with fresh attempts") }
            } else {
                let reply = try await access.call(.POST, "/v1/dead-letters/redeliver" + queryString([("destination", destination), ("source", source)]))
                access.show(reply) { o in print("\(text(o["redelivered"])) dead letter(s) queued again with fresh attempts") }
            }
        }
    }

    struct Discard: AsyncParsableCommand {
        @OptionGroup var access: AdminAccess
        @Argument(help: "Delivery ID (from `inlet dead-letters`).") var deliveryID: Int64

        func run() async throws {
            let reply = try await access.call(.DELETE, "/v1/dead-letters/\(deliveryID)")
            access.show(reply) { _ in print("dead letter \(deliveryID) discarded (the event stays stored and replayable)") }
        }
    }
}

struct Quarantine: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rejected requests, kept for a while: list, inspect, re-admit (after fixing a secret or allowlist) or discard.",
        subcommands: [List.self, Show.self, Readmit.self, Discard.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        @OptionGroup var access: AdminAccess
        @Option(help: "Only this source.") var source: String?
        @Option(help: "Only this rejection reason, e.g. signature_mismatch.") var reason: String?
        @Option(help: "At most this many.") var limit: Int = 100
        @Option(help: "Continue after this entry ID.") var cursor: String?

        func run() async throws {
            let reply = try await access.call(.GET, "/v1/quarantine" + queryString([("source", source), ("reason", reason), ("limit", String(limit)), ("cursor", cursor)]))
            access.show(reply) { o in
                let rows = o["quarantine"] as? [[String: Any]] ?? []
                for q in rows {
                    print("\(text(q["id"]))  \(text(q["received_at"]))  \(text(q["source"]))  \(text(q["reason"]))  from \(text(q["peer"]))  \(text(q["body_bytes"])) B  until \(text(q["expires_at"]))")
                }
                if rows.isEmpty { print("quarantine is empty") }
                if let next = o["next_cursor"] as? String { print("more: --cursor \(next)") }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        @OptionGroup var access: AdminAccess
        @Argument(help: "Quarantine entry ID.") var id: Int64
        @Flag(help: "Also print the raw body.") var body = false

        func run() async throws {
            let reply = try await access.call(.GET, "/v1/quarantine/\(id)")
            access.show(reply) { q in
                print("entry      \(text(q["id"]))  \(text(q["source"])) (\(text(q["provider"])))")
                print("rejected   \(text(q["reason"])) at \(text(q["received_at"])) from \(text(q["peer"])); kept until \(text(q["expires_at"]))")
                print("request    \(text(q["method"])) \(text(q["path"]))\((q["query"] as? String).map { "?" + $0 } ?? "")  \(text(q["body_bytes"])) bytes")
                for h in q["headers"] as? [[String]] ?? [] where h.count == 2 { print("  \(h[0]): \(h[1])") }
                if body, let bytes = (q["body_base64"] as? String).flatMap(Base64.decode) {
                    print("")
                    FileHandle.standardOutput.write(Data(bytes))
                    print("")
                }
            }
        }
    }

    struct Readmit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify entries again against the current config (at their original arrival time) and admit those that pass.")
        @OptionGroup var access: AdminAccess
        @Argument(help: "Quarantine entry ID.") var id: Int64?
        @Flag(help: "Every entry (of --source / --reason if given), oldest first.") var all = false
        @Option(help: "With --all: only this source.") var source: String?
        @Option(help: "With --all: only this reason.") var reason: String?

        func validate() throws {
            if (id == nil) == !all { throw ValidationError("give an entry ID or --all") }
        }

        func run() async throws {
            func line(_ r: [String: Any]) -> String {
                "\(text(r["id"])): \(text(r["outcome"]))\((r["event_id"] as? String).map { " as " + $0 } ?? "")\((r["reason"] as? String).map { " (" + $0 + ")" } ?? "")"
            }
            if let id {
                let reply = try await access.call(.POST, "/v1/quarantine/\(id)/readmit")
                access.show(reply) { print(line($0)) }
            } else {
                let reply = try await access.call(.POST, "/v1/quarantine/readmit" + queryString([("source", source), ("reason", reason)]))
                access.show(reply) { o in
                    for r in o["results"] as? [[String: Any]] ?? [] { print(line(r)) }
                    print("accepted \(text(o["accepted"])), duplicate \(text(o["duplicate"])), still rejected \(text(o["rejected"]))")
                }
            }
        }
    }

    struct Discard: AsyncParsableCommand {
        @OptionGroup var access: AdminAccess
        @Argument(help: "Quarantine entry ID.") var id: Int64

        func run() async throws {
            let reply = try await access.call(.DELETE, "/v1/quarantine/\(id)")
            access.show(reply) { _ in print("quarantine entry \(id) discarded") }
        }
    }
}

struct Destinations: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Destinations: queue, dead letters, circuit; pause and resume delivery.",
                                                    subcommands: [List.self, Pause.self, Resume.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        @OptionGroup var access: AdminAccess

        func run() async throws {
            let reply = try await access.call(.GET, "/v1/destinations")
            access.show(reply) { o in
                for d in o["destinations"] as? [[String: Any]] ?? [] {
                    let oldest = d["oldest_due_age_seconds"].map { ", oldest due \(text($0)) s ago" } ?? ""
                    print("\(text(d["name"]))  \(text(d["url"]))  \(d["paused"] as? Bool == true ? "PAUSED  " : "")circuit \(text(d["circuit"]))  pending \(text(d["pending"]))\(oldest)  dead \(text(d["dead_letters"]))")
                }
            }
        }
    }

    struct Pause: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop delivering to a destination; its queue keeps filling and waits. Survives restarts.")
        @OptionGroup var access: AdminAccess
        @Argument(help: "Destination name.") var name: String

        func run() async throws {
            let reply = try await access.call(.POST, "/v1/destinations/\(name)/pause")
            access.show(reply) { _ in print("\(name) paused: nothing is delivered to it until `inlet destinations resume \(name)`") }
        }
    }

    struct Resume: AsyncParsableCommand {
        @OptionGroup var access: AdminAccess
        @Argument(help: "Destination name.") var name: String

        func run() async throws {
            let reply = try await access.call(.POST, "/v1/destinations/\(name)/resume")
            access.show(reply) { _ in print("\(name) resumed") }
        }
    }
}
