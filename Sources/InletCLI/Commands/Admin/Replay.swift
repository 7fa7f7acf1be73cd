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
    @OptionGroup var filter: EventFilterOptions
    @Option(help: "Bulk replay rate, events per second.") var rate: Double = 50
    @Option(help: "Replay at most this many events.") var limit: Int?
    @Flag(help: "Only count what the filter matches.") var dryRun = false
    @Option(help: "Send the stored raw request to this URL instead of queueing it (e.g. a developer's machine).") var to: String?
    @Flag(help: "With --to: sign the request again with the source's current secret (fresh timestamp).") var resign = false

    func validate() throws {
        let filtered = !filter.isEmpty
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
            try access.show(reply, as: AdminAPI.ReplayQueued.self) { queued in
                print("queued \(id) for \(queued.destinations.joined(separator: ", ")) (deliveries \(queued.deliveryIDs.map(String.init).joined(separator: ", ")))")
            }
            return
        }
        let request = AdminAPI.BulkReplayRequest(source: filter.source, type: filter.type, eventKey: filter.eventKey, since: filter.since,
                                                 until: filter.until, status: filter.status,
                                                 destinations: destinations.isEmpty ? nil : destinations, ratePerSecond: rate, dryRun: dryRun, limit: limit)
        let reply = try await access.call(.POST, "/v1/replays", body: AdminJSON.encode(request))
        if dryRun {
            try access.show(reply, as: AdminAPI.BulkReplayDryRun.self) { print("\($0.matched) event(s) match; run again without --dry-run to replay them at \(rate)/s") }
        } else {
            try access.show(reply, as: AdminAPI.BulkReplayQueued.self) { r in
                print("queued \(r.queued) delivery(ies) for \(r.matched) event(s) at \(r.ratePerSecond)/s, done by \(r.completesAt)\(r.skipped > 0 ? "; \(r.skipped) skipped (no route or destination)" : "")")
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
                let q = queryString(filter.queryPairs + [("limit", "500"), ("cursor", cursor)])
                let page = try await access.call(.GET, "/v1/events" + q).decode(AdminAPI.EventList.self)
                ids += page.events.map(\.id)
                cursor = page.nextCursor
            } while cursor != nil && ids.count < (limit ?? Int.max)
            ids = Array(ids.prefix(limit ?? Int.max).reversed())  // oldest first
        }
        let resolved = resign ? try access.options.resolve() : nil
        var failures = 0
        for id in ids {
            let e = try await access.call(.GET, "/v1/events/\(id)").decode(AdminAPI.EventDetail.self)
            guard let bytes = Base64.decode(e.bodyBase64) else { throw CLIError("\(id): no body in the API's answer") }
            let original = e.headers.filter { $0.count == 2 }.map { ($0[0], $0[1]) }
            var signing: RawResend.Signing?
            if let resolved {
                let now = SystemClock().now()
                guard let source = resolved.sources.first(where: { $0.name == e.source }), let key = source.keys.first(where: { $0.window.isActive(at: now) }) else {
                    throw CLIError("\(id): source '\(e.source)' has no active secret in \(access.options.config) to sign with")
                }
                signing = RawResend.Signing(profile: source.profile, key: key.keyBytes, eventID: e.eventKey, nowSeconds: now / 1000)
            }
            let headers = RawResend.headers(original: original, body: bytes, method: e.method, url: url, resign: signing)
            var request = HTTPClientRequest(url: url)
            request.method = HTTPMethod(rawValue: e.method)
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
