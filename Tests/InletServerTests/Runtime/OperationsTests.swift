import AsyncHTTPClient
import Foundation
import InletCore
import InletServer
import InletStore
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import Testing

/// Talks to a gateway's admin API with a bearer token.
struct AdminClient {
    let base: String
    var token: String? = "t0k"

    /// An answer, read as the API's types.
    struct Answer {
        let status: Int
        let body: [UInt8]

        func decode<T: Decodable>(_ type: T.Type) throws -> T { try AdminJSON.decode(type, from: body) }
        /// The refusal's body, when it is one.
        var refusal: AdminAPI.ErrorBody? { try? decode(AdminAPI.ErrorBody.self) }
    }

    func call(_ method: HTTPMethod, _ path: String, json body: String? = nil) async throws -> Answer {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 8 << 20)
        return Answer(status: Int(response.status.code), body: Array(buffer: bytes))
    }
}

@Suite("Operations: quarantine, bulk replay, pause")
struct OperationsTests {
    /// A mis-set secret: genuine requests are refused and quarantined; once the secret is fixed, re-admitting admits
    /// exactly the entries that now verify (a forgery and a stale request stay out), and an event that meanwhile
    /// arrived again is a duplicate, not a second delivery.
    @Test func quarantineKeepsRejectionsAndReadmitsWhatNowVerifies() async throws {
        let destination = try await TestDestination()
        func config(secret: String) -> String {
            destinationTOML("svc", url: destination.url) + adminSection + """
                [sources.stripe]
                provider = "stripe"
                secrets = ["\(secret)"]
                destinations = ["svc"]
                """
        }
        let gw = try await RunningGateway.start(configBody: config(secret: "whsec_mis_set"))
        let admin = AdminClient(base: "http://127.0.0.1:\(try await gw.gateway.adminPort())")
        let hook = gw.baseURL + "/hooks/stripe"
        var genuine: [String] = []
        for n in 0..<3 {
            let body = stripeEvent("evt_q_\(n)")
            genuine.append(body)
            let reply = try await post(hook, body: body, headers: stripeHeaders(body: body))
            #expect(reply.status == 401 && reply.json["reason"] == "signature_mismatch")
        }
        let forged = stripeEvent("evt_q_forged")
        #expect(try await post(hook, body: forged, headers: stripeHeaders(body: forged, secret: "whsec_attacker")).status == 401)
        let stale = stripeEvent("evt_q_stale")
        let staleReply = try await post(hook, body: stale, headers: stripeHeaders(body: stale, timestamp: Int64(Date().timeIntervalSince1970) - 3600))
        #expect(staleReply.status == 401)
        // Not kept: no source to re-admit to.
        #expect(try await post(gw.baseURL + "/hooks/nowhere", body: forged, headers: []).status == 404)

        try await eventually("five entries kept") { try gw.gateway.store.quarantineSize() == 5 }
        #expect(try await AdminClient(base: admin.base, token: nil).call(.GET, "/v1/quarantine").status == 401)
        let listed = try await admin.call(.GET, "/v1/quarantine?limit=2")
        #expect(listed.status == 200)
        let list = try listed.decode(AdminAPI.QuarantineList.self)
        let page1 = list.quarantine
        // Newest first; with the wrong secret, even the stale request fails on its signature (checked before freshness).
        #expect(page1.count == 2 && page1[0].reason == "signature_mismatch")
        let rest = try await admin.call(.GET, "/v1/quarantine?cursor=\(try #require(list.nextCursor))").decode(AdminAPI.QuarantineList.self)
        #expect(rest.quarantine.count == 3)
        let mismatched = try await admin.call(.GET, "/v1/quarantine?reason=signature_mismatch").decode(AdminAPI.QuarantineList.self).quarantine
        #expect(mismatched.count == 5)
        #expect(try await admin.call(.GET, "/v1/quarantine?reason=ip_not_allowed").decode(AdminAPI.QuarantineList.self).quarantine.isEmpty == true)
        let oldest = try #require(mismatched.last?.id)
        let shown = try await admin.call(.GET, "/v1/quarantine/\(oldest)")
        let detail = try shown.decode(AdminAPI.QuarantineDetail.self)
        #expect(shown.status == 200 && detail.source == "stripe" && detail.method == "POST")
        #expect(Base64.decode(detail.bodyBase64) == Array(genuine[0].utf8))
        #expect(detail.headers.contains { $0[0].lowercased() == "stripe-signature" } == true)
        #expect(try await admin.call(.GET, "/v1/quarantine/999999").status == 404)
        #expect(try await admin.call(.GET, "/v1/quarantine/abc").status == 404)
        // Re-admitting before the fix changes nothing.
        let early = try await admin.call(.POST, "/v1/quarantine/\(oldest)/readmit")
        let earlyResult = try early.decode(AdminAPI.ReadmitResult.self)
        #expect(early.status == 200 && earlyResult.outcome.rawValue == "rejected" && earlyResult.reason == "signature_mismatch")

        // Fix the secret; one of the events is meanwhile retried by the provider and admitted normally.
        try gw.rewriteConfig(config(secret: stripeSecret))
        #expect(try await post(hook, body: genuine[0], headers: stripeHeaders(body: genuine[0])).json["status"] == "accepted")

        let readmitAnswer = try await admin.call(.POST, "/v1/quarantine/readmit?source=stripe")
        #expect(readmitAnswer.status == 200)
        let readmitted = try readmitAnswer.decode(AdminAPI.ReadmitSummary.self)
        #expect(readmitted.accepted == 2 && readmitted.duplicate == 1 && readmitted.rejected == 2)
        let results = readmitted.results
        #expect(results.map(\.outcome.rawValue) == ["duplicate", "accepted", "accepted", "rejected", "rejected"])  // oldest first
        #expect(Set(results.compactMap(\.reason)) == ["signature_mismatch", "timestamp_outside_tolerance"])

        try await destination.waitForRequests(3)
        try await Task.sleep(for: .milliseconds(300))
        let delivered = destination.requests.compactMap { JSONScanner.scalarText(at: JSONPointer("/inleteventkey")!, in: $0.body) }
        #expect(delivered.sorted() == ["evt_q_0", "evt_q_1", "evt_q_2"])
        // A re-admitted event is stored like a new arrival, with the secret that verified it.
        let readmittedID = try #require(results[1].eventID)
        #expect(try gw.gateway.store.event(id: readmittedID)?.secretLabel == "secret-1")

        // What still does not verify stays, until discarded.
        let left = try await admin.call(.GET, "/v1/quarantine").decode(AdminAPI.QuarantineList.self).quarantine
        #expect(left.count == 2)
        let leftID = try #require(left.first?.id)
        #expect(try await admin.call(.DELETE, "/v1/quarantine/\(leftID)").status == 200)
        #expect(try await admin.call(.DELETE, "/v1/quarantine/\(leftID)").status == 404)
        #expect(try gw.gateway.store.quarantineSize() == 1)
        try await gw.stop()
        await destination.stop()
    }

    /// A bulk replay by filter: refused without a filter, counted by a dry run, then delivered oldest first at the rate
    /// asked for, each replay marked as such and carrying the original bytes.
    @Test func bulkReplayCountsThenKeepsItsRate() async throws {
        let arrivals = NIOLockedValueBox<[(key: String, at: ContinuousClock.Instant, replay: Bool)]>([])
        let destination = try await TestDestination { request, _ in
            let key = JSONScanner.scalarText(at: JSONPointer("/inleteventkey")!, in: request.body) ?? "?"
            arrivals.withLockedValue { $0.append((key, .now, request.headers.first(name: "Inlet-Replay") == "true")) }
            return 204
        }
        let gw = try await RunningGateway.start(configBody: destinationTOML("svc", url: destination.url) + adminSection + stripeSource)
        let admin = AdminClient(base: "http://127.0.0.1:\(try await gw.gateway.adminPort())")
        for n in 0..<10 {
            let body = stripeEvent("evt_r_\(n)", type: n < 8 ? "invoice.paid" : "customer.created")
            #expect(try await post(gw.baseURL + "/hooks/stripe", body: body, headers: stripeHeaders(body: body)).status == 200)
        }
        try await destination.waitForRequests(10)

        #expect(try await admin.call(.POST, "/v1/replays", json: "{}").refusal?.error == "filter_required")
        #expect(try await admin.call(.POST, "/v1/replays", json: "not json").refusal?.error == "invalid_body")
        #expect(try await admin.call(.POST, "/v1/replays", json: #"{"source":"stripe","surprise":1}"#).refusal?.error == "invalid_body")
        #expect(try await admin.call(.POST, "/v1/replays", json: #"{"source":"stripe","rate_per_second":0}"#).refusal?.error == "invalid_rate")
        #expect(try await admin.call(.POST, "/v1/replays", json: #"{"since":"last week"}"#).refusal?.error == "invalid_time")
        let unknown = try await admin.call(.POST, "/v1/replays", json: #"{"source":"stripe","destinations":["nope"]}"#)
        #expect(unknown.status == 422 && unknown.refusal?.destination == "nope")
        #expect(try await AdminClient(base: admin.base, token: "wrong").call(.POST, "/v1/replays", json: #"{"source":"stripe"}"#).status == 401)

        let dry = try await admin.call(.POST, "/v1/replays", json: #"{"source":"stripe","type":"invoice.paid","dry_run":true}"#)
        #expect(try dry.status == 200 && dry.decode(AdminAPI.BulkReplayDryRun.self).matched == 8)
        #expect(arrivals.withLockedValue { $0.count } == 10)  // a dry run queues nothing

        let requested = ContinuousClock.now
        let bulk = try await admin.call(.POST, "/v1/replays", json: #"{"source":"stripe","type":"invoice.paid","rate_per_second":10}"#)
        let queued = try bulk.decode(AdminAPI.BulkReplayQueued.self)
        #expect(bulk.status == 202 && queued.matched == 8 && queued.queued == 8 && queued.skipped == 0)
        try await eventually("eight replays arrived") { arrivals.withLockedValue { $0.count } == 18 }
        let replays = arrivals.withLockedValue { $0 }.filter(\.replay)
        // Queued oldest first; the workers deliver concurrently, so on a loaded machine a slowed delivery can arrive
        // after the next one: the order that holds is the due times, checked per event below.
        #expect(replays.map(\.key).sorted() == (0..<8).map { "evt_r_\($0)" })
        // Eight replays at 10/s: evt_r_i is due 100·i ms after the replay started, and none arrives earlier.
        for r in replays {
            let i = Int(r.key.dropFirst("evt_r_".count)) ?? 0
            #expect(r.at - requested >= .milliseconds(100 * i - 2), "replay \(r.key) arrived \(r.at - requested) after the request")
        }
        let original = try #require(destination.requests.first { JSONScanner.scalarText(at: JSONPointer("/inleteventkey")!, in: $0.body) == "evt_r_3" })
        let again = try #require(destination.requests.last { JSONScanner.scalarText(at: JSONPointer("/inleteventkey")!, in: $0.body) == "evt_r_3" })
        let data = { (b: [UInt8]) in try JSONScanner.find(JSONPointer("/data")!, in: b).map { Array(b[$0.range]) } }
        #expect(try data(again.body) == data(original.body))

        // Named destinations: the events matched by the filter go there whatever their routes say.
        let named = try await admin.call(.POST, "/v1/replays", json: #"{"source":"stripe","type":"customer.created","destinations":["svc"],"rate_per_second":100000}"#)
        let namedQueued = try named.decode(AdminAPI.BulkReplayQueued.self)
        #expect(named.status == 202 && namedQueued.matched == 2 && namedQueued.queued == 2 && namedQueued.ratePerSecond == 100_000)
        try await eventually("two more replays arrived") { arrivals.withLockedValue { $0 }.filter(\.replay).count == 10 }
        #expect(arrivals.withLockedValue { $0 }.filter(\.replay).map(\.key).suffix(2).sorted() == ["evt_r_8", "evt_r_9"])
        try await gw.stop()
        await destination.stop()
    }

    /// A paused destination gets nothing, keeps its queue (dead letters redelivered in bulk included) and picks up where
    /// it left off once resumed; the pause is visible in the API and the metrics.
    @Test func pauseHoldsDeliveriesAndBulkRedeliverRequeuesDeadLetters() async throws {
        let accept = NIOLockedValueBox(false)
        let destination = try await TestDestination { _, _ in accept.withLockedValue { $0 } ? 204 : 400 }
        let gw = try await RunningGateway.start(configBody: destinationTOML("svc", url: destination.url) + adminSection + stripeSource + """

            [metrics]
            listen = "127.0.0.1:0"
            """)
        let admin = AdminClient(base: "http://127.0.0.1:\(try await gw.gateway.adminPort())")
        for n in 0..<3 {
            let body = stripeEvent("evt_p_\(n)")
            #expect(try await post(gw.baseURL + "/hooks/stripe", body: body, headers: stripeHeaders(body: body)).status == 200)
        }
        try await eventually("three dead letters") { try gw.gateway.store.counts().dead == 3 }
        let dead = try await admin.call(.GET, "/v1/events?status=dead").decode(AdminAPI.EventList.self).events
        #expect(dead.count == 3)
        #expect(try await admin.call(.GET, "/v1/events?status=bogus").status == 400)

        let paused = try await admin.call(.POST, "/v1/destinations/svc/pause")
        #expect(try paused.status == 200 && paused.decode(AdminAPI.PauseState.self).paused == true)
        #expect(try await admin.call(.POST, "/v1/destinations/nope/pause").status == 404)
        #expect(try await admin.call(.POST, "/v1/dead-letters/redeliver?destination=other").decode(AdminAPI.RedeliveredCount.self).redelivered == 0)
        #expect(try await admin.call(.POST, "/v1/dead-letters/redeliver?destination=svc").decode(AdminAPI.RedeliveredCount.self).redelivered == 3)
        accept.withLockedValue { $0 = true }
        try await Task.sleep(for: .milliseconds(600))
        #expect(destination.requests.count == 3, "a paused destination received a delivery")
        let listed = try #require(try await admin.call(.GET, "/v1/destinations").decode(AdminAPI.DestinationList.self).destinations.first)
        #expect(listed.paused == true && listed.pending == 3 && listed.deadLetters == 0)
        #expect(try await admin.call(.GET, "/v1/events?status=pending").decode(AdminAPI.EventList.self).events.count == 3)
        try await eventually("gauges show the held queue") {
            let text = String(decoding: gw.gateway.metricsRegistry.emitToBuffer(), as: UTF8.self)
            return text.contains(#"inlet_queue_depth{destination="svc"} 3"#) && text.contains(#"inlet_destination_paused{destination="svc"} 1"#)
        }

        let resumed = try await admin.call(.POST, "/v1/destinations/svc/resume")
        #expect(try resumed.status == 200 && resumed.decode(AdminAPI.PauseState.self).paused == false)
        try await destination.waitForRequests(6)
        try await eventually("all delivered") { try gw.gateway.store.counts().delivered == 3 }
        #expect(try await admin.call(.GET, "/v1/events?status=delivered").decode(AdminAPI.EventList.self).events.count == 3)
        let text = String(decoding: gw.gateway.metricsRegistry.emitToBuffer(), as: UTF8.self)
        #expect(text.contains("inlet_commit_batch_size_count") && text.contains("inlet_commit_duration_seconds_bucket"))
        #expect(text.contains(#"inlet_ack_latency_seconds_count{source="stripe",outcome="accepted"} 3"#))
        try await gw.stop()
        await destination.stop()
    }
}

@Suite("Operations: retention under load")
struct RetentionUnderLoadTests {
    /// Retention deletes old events in small batches while requests keep arriving: every request in the burst is
    /// acknowledged and stored, and only the old events go. (How long acks take meanwhile is measured by
    /// `benchmarks/load/run-operations.sh`, not here.)
    @Test func pruningOldEventsNeverRefusesOrLosesNewOnes() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("inlet-prune-\(UUID().uuidString)/inlet.sqlite").path
        let old = SystemClock().now() - 40 * 86_400_000
        do {
            let store = try SQLiteEventStore(path: path)
            for batch in 0..<6 {
                let records = (0..<500).map { n -> IngestRecord in
                    let at = old + Int64(batch * 500 + n)
                    return IngestRecord(id: InletEventID.make(millis: at), source: "stripe", provider: "stripe", eventKey: "evt_old_\(batch)_\(n)",
                                        keyOrigin: .provider, eventType: "invoice.paid", receivedAt: at, providerTimestamp: nil, peer: nil,
                                        clientAddress: nil, method: "POST", path: "/hooks/stripe", query: nil, headers: HTTPHeaderList(),
                                        body: Array(repeating: 0x61, count: 1300), secretLabel: "secret-1", destinations: [])
                }
                _ = try store.ingest(records)
            }
        }
        let destination = try await TestDestination()
        let gw = try await RunningGateway.start(sourcesTOML: stripeSource, destinationURL: destination.url, storePath: path,
                                                storeExtra: "event_retention_days = 1\nidempotency_retention_days = 1")
        let replies = try await withThrowingTaskGroup(of: Reply.self) { group in
            for n in 0..<200 {
                group.addTask {
                    let body = stripeEvent("evt_new_\(n)")
                    return try await post(gw.baseURL + "/hooks/stripe", body: body, headers: stripeHeaders(body: body))
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(replies.allSatisfy { $0.status == 200 && $0.json["status"] == "accepted" })
        try await eventually("old events pruned") { try gw.gateway.store.countEvents(matching: EventFilter(receivedUntil: old + 1_000_000)) == 0 }
        #expect(try gw.gateway.store.countEvents(matching: EventFilter(source: "stripe")) == 200)
        try await destination.waitForRequests(200)
        try await gw.stop()
        await destination.stop()
    }
}
