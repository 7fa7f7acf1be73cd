@testable import InletServer
import Foundation
import InletConfig
import InletCore
import InletStore
import NIOHTTP1
import NIOPosix
import Testing

/// The admin handler called directly with a request value, no socket: routing (404, 405 and its `Allow`, path
/// parameters), the token, and each resource's answer decoded into its type and encoded again to the same bytes.
@Suite("Admin router")
struct AdminRouterTests {
    static let token = "router-test-token"

    /// An admin API over a fresh SQLite store, with one source (`stripe`) and one destination (`svc`).
    static func api(clock: ManualClock = ManualClock(1_800_000_000_000)) throws -> (AdminAPI, SQLiteEventStore) {
        let toml = """
            providers_dir = "\(Repo.root)/providers"
            [admin]
            listen = "127.0.0.1:0"
            tokens = ["\(token)"]
            [destinations.svc]
            url = "http://127.0.0.1:1/x"
            secrets = ["\(destinationSecret)"]
            [sources.stripe]
            provider = "stripe"
            secrets = [{ label = "current", value = "\(stripeSecret)" }]
            destinations = ["svc"]
            """
        let resolved = try GatewayConfig.parse(toml, file: "/tmp/admin-router.toml").resolve(environment: [:])
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("inlet-admin-router-\(UUID().uuidString).sqlite").path
        let store = try SQLiteEventStore(path: path)
        return (AdminAPI(runtime: LiveConfig(resolved), store: store, storeThreads: NIOThreadPool.singleton, clock: clock), store)
    }

    static func request(_ method: String, _ uri: String, token: String? = AdminRouterTests.token, body: String = "") -> SimpleRequest {
        var headers = HTTPHeaders()
        if let token { headers.add(name: "Authorization", value: "Bearer \(token)") }
        return SimpleRequest(method: method, uri: uri, headers: headers, body: Array(body.utf8))
    }

    static func error(_ response: SimpleResponse) throws -> String {
        try AdminJSON.decode(AdminAPI.ErrorBody.self, from: response.body).error
    }

    @Test func anUnknownPathIs404AndEveryMethodOfAKnownOneIsInTheTable() async throws {
        let (api, _) = try Self.api()
        // `/` is the operator console's page (ConsoleTests); `/console` alone names no file.
        for uri in ["/console", "/console/a/b", "/v1", "/v1/nothing", "/v1/events/a/b/c", "/v1/sources/extra", "/healthz/more"] {
            let response = await api.handle(Self.request("GET", uri))
            #expect(try response.status == 404 && Self.error(response) == "not_found", "\(uri)")
        }
        // Each route's path, asked with a method it does not take: 405, and Allow lists exactly the table's methods
        // for that path.
        for route in AdminAPI.router.routes {
            let path = route.pattern.segments.map { segment -> String in
                switch segment {
                case .literal(let text): return text
                case .parameter: return "7"
                }
            }
            let uri = "/" + path.joined(separator: "/")
            let expected = AdminAPI.router.routes.filter { $0.pattern.match(path) != nil }.map(\.method.rawValue)
            let response = await api.handle(Self.request("PATCH", uri))
            #expect(try response.status == 405 && Self.error(response) == "method_not_allowed", "\(uri)")
            let allow = response.headers.first { $0.0 == "Allow" }?.1
            #expect(allow == expected.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }.joined(separator: ", "), "\(uri)")
        }
        let quarantine = await api.handle(Self.request("PUT", "/v1/quarantine/12"))
        #expect(quarantine.headers.first { $0.0 == "Allow" }?.1 == "GET, DELETE")
        let probe = await api.handle(Self.request("POST", "/healthz", token: nil))  // the probes need no token, even for a 405
        #expect(probe.status == 405 && probe.headers.first { $0.0 == "Allow" }?.1 == "GET")
    }

    @Test func everythingButTheProbesNeedsTheToken() async throws {
        let (api, _) = try Self.api()
        #expect(await api.handle(Self.request("GET", "/healthz", token: nil)).status == 200)
        #expect(await api.handle(Self.request("GET", "//healthz/?x=1", token: nil)).status == 200)
        for (method, uri) in [("GET", "/v1/sources"), ("GET", "/v1/nothing"), ("PUT", "/v1/sources"), ("POST", "/v1/replays"),
                              ("DELETE", "/v1/quarantine/1")] {
            for token in [nil, "router-test-toke", Self.token + "x"] {
                let response = await api.handle(Self.request(method, uri, token: token))
                #expect(try response.status == 401 && Self.error(response) == "unauthorized", "\(method) \(uri) with \(token ?? "no token")")
                #expect(response.headers.contains { $0 == ("WWW-Authenticate", "Bearer") })
                #expect(api.checkHead(Self.request(method, uri, token: token))?.status == 401)
            }
            #expect(api.checkHead(Self.request(method, uri)) == nil)
        }
        #expect(api.checkHead(Self.request("GET", "/readyz", token: nil)) == nil)
    }

    @Test func pathParametersArePercentDecodedOnceAndNoInputCrashes() async throws {
        let (api, _) = try Self.api()
        #expect(PathPattern("/v1/events/{id}/replay").match(["v1", "events", "evt_1", "replay"]) == ["id": "evt_1"])
        #expect(PathPattern("/v1/events/{id}/replay").match(["v1", "events", "evt_1"]) == nil)
        #expect(AdminRequest(SimpleRequest(method: "GET", uri: "/v1/destinations/a%2Fb%20c/pause?x=1")).path == ["v1", "destinations", "a/b c", "pause"])
        #expect(AdminRequest(SimpleRequest(method: "GET", uri: "/v1/x%FF/%")).path == ["v1", "x%FF", "%"])  // kept as sent

        let paused = await api.handle(Self.request("POST", "/v1/destinations/sv%63/pause"))
        #expect(paused.status == 200)
        #expect(try AdminJSON.decode(AdminAPI.PauseState.self, from: paused.body) == AdminAPI.PauseState(name: "svc", paused: true))
        let unknown = await api.handle(Self.request("POST", "/v1/destinations/%FF%FE/resume"))
        #expect(unknown.status == 404)
        #expect(try AdminJSON.decode(AdminAPI.ErrorBody.self, from: unknown.body) == AdminAPI.ErrorBody("unknown_destination", destination: "%FF%FE"))

        let hostile = ["", "?", "??", "/%", "/%%%", "/v1/events/%", "/v1/events/%00", "/v1/quarantine/99999999999999999999999",
                       "/v1/dead-letters/-0/redeliver", "/v1/dead-letters/+1", "/v1/events/\u{1F600}", "/v1/events?limit=-99999999999999999999",
                       "/v1/events?limit=&cursor=&=&&", "/v1/quarantine?cursor=9223372036854775808", "/v1/dead-letters?cursor=abc&limit=0",
                       "/v1/events?since=%ZZ", String(repeating: "/v1", count: 2000)]
        for uri in hostile {
            for method in ["GET", "POST", "DELETE"] {
                let status = await api.handle(Self.request(method, uri)).status
                #expect((200..<500).contains(status), "\(method) \(uri): \(status)")
            }
        }
    }

    /// A bulk replay's body is refused field by field, as before the types: the error names what is wrong.
    @Test func aBulkReplayBodyIsRefusedFieldByField() async throws {
        let cases: [(String, AdminAPI.ErrorBody)] = [
            ("not json", AdminAPI.ErrorBody("invalid_body", hint: "a JSON object")),
            ("[]", AdminAPI.ErrorBody("invalid_body", hint: "a JSON object")),
            (#"{"source":"stripe","zz":1,"surprise":2}"#, AdminAPI.ErrorBody("invalid_body", parameter: "surprise")),
            (#"{"source":1}"#, AdminAPI.ErrorBody("invalid_body", parameter: "source")),
            (#"{"since":"last week"}"#, AdminAPI.ErrorBody("invalid_time", hint: "RFC 3339, e.g. 2026-11-23T00:00:00Z", parameter: "since")),
            (#"{"status":"lost"}"#, AdminAPI.ErrorBody("invalid_status")),
            (#"{"source":"stripe","unrouted":null}"#, AdminAPI.ErrorBody("invalid_body", parameter: "unrouted")),
            (#"{"source":"stripe","dry_run":"yes"}"#, AdminAPI.ErrorBody("invalid_body", parameter: "dry_run")),
            (#"{"source":"stripe","destinations":"svc"}"#, AdminAPI.ErrorBody("invalid_body", parameter: "destinations")),
            (#"{"source":"stripe","rate_per_second":true}"#, AdminAPI.ErrorBody("invalid_rate", hint: "0.01 <= rate_per_second <= 100000")),
            (#"{"source":"stripe","rate_per_second":100001}"#, AdminAPI.ErrorBody("invalid_rate", hint: "0.01 <= rate_per_second <= 100000")),
            (#"{"source":"stripe","limit":0}"#, AdminAPI.ErrorBody("invalid_body", parameter: "limit")),
            ("{}", AdminAPI.ErrorBody("filter_required", hint: "set source, type, event_key, since, until, status or unrouted")),
            (" \n", AdminAPI.ErrorBody("filter_required", hint: "set source, type, event_key, since, until, status or unrouted")),
            (#"{"source":null,"unrouted":false}"#, AdminAPI.ErrorBody("filter_required", hint: "set source, type, event_key, since, until, status or unrouted")),
        ]
        let (api, _) = try Self.api()
        for (body, expected) in cases {
            let response = await api.handle(Self.request("POST", "/v1/replays", body: body))
            #expect(response.status == 400, "\(body)")
            #expect(try AdminJSON.decode(AdminAPI.ErrorBody.self, from: response.body) == expected, "\(body)")
        }
        // What the CLI sends is what the API reads.
        let asked = AdminAPI.BulkReplayRequest(source: "stripe", since: "2026-11-20T00:00:00Z", destinations: ["svc"], ratePerSecond: 20, dryRun: true, limit: 5)
        #expect(try AdminAPI.bulkReplayRequest(AdminJSON.encode(asked)) == asked)
    }

    /// Every resource's answer decodes into its type and encodes back to the very same bytes: the types carry every
    /// field the API sends, under the same names.
    @Test func eachResourceRoundTripsThroughItsType() async throws {
        let clock = ManualClock(1_800_000_000_000)
        let (api, store) = try Self.api(clock: clock)
        let now = clock.now()
        var headers = HTTPHeaderList()
        headers.append("Content-Type", "application/json")
        headers.append("Stripe-Signature", "t=1,v1=00")
        let records = (0..<2).map { n in
            IngestRecord(id: InletEventID.make(millis: now - 10 + Int64(n)), source: "stripe", provider: "stripe", eventKey: "evt_rt_\(n)",
                         keyOrigin: .provider, eventType: "invoice.paid", receivedAt: now - 10 + Int64(n), providerTimestamp: now - 20,
                         peer: "203.0.113.7", clientAddress: "203.0.113.7", method: "POST", path: "/hooks/stripe", query: "a=1", headers: headers,
                         body: Array(#"{"id":"evt"}"#.utf8), secretLabel: "current", destinations: ["svc"])
        }
        _ = try store.ingest(records)
        let claimed = try store.claimDue(now: now, limit: 1, leaseMillis: 60_000)
        let attempt = AttemptRecord(deliveryID: try #require(claimed.first).deliveryID, attempt: 1, startedAt: now, durationMillis: 12, statusCode: 400,
                                    error: nil, responseSnippet: Array("no".utf8), nextAttemptAt: nil)
        try store.complete([DeliveryCompletion(attempt: attempt, next: .dead(reason: "status 400"))], now: now)
        try store.quarantine([QuarantineEntry(source: "stripe", provider: "stripe", reason: "signature_mismatch", receivedAt: now, expiresAt: now + 1000,
                                              peer: "198.51.100.1", method: "POST", path: "/hooks/stripe", query: "q=1", headers: headers,
                                              body: Array("{}".utf8))],
                             quota: QuarantineQuota(total: 100, perSourceReason: 100))
        let quarantineID = try #require(try store.quarantined(matching: QuarantineFilter(), before: nil, limit: 1).first).id

        func roundTrip<T: Codable & Equatable>(_ uri: String, _ type: T.Type, method: String = "GET", body: String = "",
                                               status: Int = 200) async throws -> T {
            let response = await api.handle(Self.request(method, uri, body: body))
            #expect(response.status == status, "\(uri): \(String(decoding: response.body, as: UTF8.self))")
            let value = try AdminJSON.decode(type, from: response.body)
            #expect(AdminJSON.encode(value) == response.body, "\(uri) does not round-trip through \(type)")
            return value
        }
        #expect(try await roundTrip("/healthz", AdminAPI.HealthStatus.self).status == "ok")
        #expect(try await roundTrip("/readyz", AdminAPI.HealthStatus.self).status == "ready")
        let sources = try await roundTrip("/v1/sources", AdminAPI.SourceList.self)
        #expect(sources.sources.first?.secrets.first?.state == .active)
        let destinations = try await roundTrip("/v1/destinations", AdminAPI.DestinationList.self)
        #expect(destinations.destinations.first?.circuit == "unknown" && destinations.destinations.first?.pending == 1)
        let events = try await roundTrip("/v1/events?limit=1", AdminAPI.EventList.self)
        #expect(events.events.first?.eventKey == "evt_rt_1" && events.nextCursor == events.events.first?.id)
        let detail = try await roundTrip("/v1/events/\(records[0].id)", AdminAPI.EventDetail.self)
        #expect(detail.eventKey == "evt_rt_0" && detail.query == "a=1" && detail.headers.count == 2)
        #expect(detail.deliveries.first?.attemptLog.first?.responseSnippet == "no")
        let dead = try await roundTrip("/v1/dead-letters", AdminAPI.DeadLetterList.self)
        #expect(dead.deadLetters.first?.lastStatus == 400)
        let quarantine = try await roundTrip("/v1/quarantine", AdminAPI.QuarantineList.self)
        #expect(quarantine.quarantine.first?.reason == "signature_mismatch")
        let entry = try await roundTrip("/v1/quarantine/\(quarantineID)", AdminAPI.QuarantineDetail.self)
        #expect(entry.peer == "198.51.100.1" && entry.query == "q=1")
        let dry = try await roundTrip("/v1/replays", AdminAPI.BulkReplayDryRun.self, method: "POST", body: #"{"source":"stripe","dry_run":true}"#)
        #expect(dry.dryRun && dry.matched == 2)
        let bulk = try await roundTrip("/v1/replays", AdminAPI.BulkReplayQueued.self, method: "POST", body: #"{"source":"stripe","rate_per_second":0.5}"#,
                                       status: 202)
        #expect(bulk.queued == 2 && bulk.ratePerSecond == 0.5 && bulk.completesAt == RFC3339.format(now + 2000))
        let readmitted = try await roundTrip("/v1/quarantine/\(quarantineID)/readmit", AdminAPI.ReadmitResult.self, method: "POST")
        #expect(readmitted.outcome == .rejected)
        let replay = try await roundTrip("/v1/events/\(records[1].id)/replay", AdminAPI.ReplayQueued.self, method: "POST", status: 202)
        #expect(replay.destinations == ["svc"] && replay.deliveryIDs.count == 1)
        let redelivered = try await roundTrip("/v1/dead-letters/redeliver", AdminAPI.RedeliveredCount.self, method: "POST")
        #expect(redelivered.redelivered == 1)
        let all = try await roundTrip("/v1/quarantine/readmit", AdminAPI.ReadmitSummary.self, method: "POST")
        #expect(all.rejected == 1 && all.results.count == 1)
        #expect(try await roundTrip("/v1/quarantine/\(quarantineID)", AdminAPI.ActionStatus.self, method: "DELETE").status == "discarded")
    }
}
