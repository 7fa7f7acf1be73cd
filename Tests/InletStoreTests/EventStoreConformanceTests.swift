import Foundation
import InletCore
import InletStore
import Testing

func temporaryStorePath() -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("inlet-store-\(UUID().uuidString)")
    return dir.appendingPathComponent("inlet.sqlite").path
}

func record(_ key: String, source: String = "stripe", at: EpochMillis = 1_000, destinations: [String] = ["svc"], body: [UInt8]? = nil) -> IngestRecord {
    IngestRecord(id: InletEventID.make(millis: at), source: source, provider: "stripe", eventKey: key, keyOrigin: .provider, eventType: "invoice.paid",
                 receivedAt: at, providerTimestamp: at, peer: "127.0.0.1", clientAddress: "127.0.0.1", method: "POST", path: "/hooks/stripe",
                 query: "a=1", headers: HTTPHeaderList([("Stripe-Signature", "t=1,v1=ab"), ("X-Dup", "1"), ("x-dup", "2"), ("Content-Type", "application/json")]),
                 body: body ?? Array(#"{"id":"\#(key)","weird":"\u0000é"}"#.utf8) + [0xFF, 0x00], secretLabel: "primary", destinations: destinations)
}

@Suite("Store conformance (SQLite, PostgreSQL)")
struct SQLiteEventStoreTests {
    @Test(arguments: StoreBackend.available) func ingestKeepsExactBytesAndHeaders(_ backend: StoreBackend) throws {
        let store = try backend.makeStore()
        let r = record("evt_1")
        #expect(try store.ingest([r]) == [.accepted(id: r.id)])
        let stored = try #require(try store.event(id: r.id))
        #expect(stored.body == r.body)
        #expect(stored.headers == r.headers)
        #expect(stored.query == "a=1")
        #expect(stored.secretLabel == "primary")
        #expect(stored.contentType == "application/json")
        #expect(try store.deliveries(eventID: r.id).map(\.destination) == ["svc"])
    }

    /// What admission verified is stored with the event and read back with it (claims included: deliveries carry it on).
    @Test(arguments: StoreBackend.available) func authenticityIsStoredAndReadBack(_ backend: StoreBackend) throws {
        let store = try backend.makeStore()
        var records: [IngestRecord] = []
        for (n, a) in Authenticity.allCases.enumerated() {
            var r = record("evt_auth_\(n)", at: 1_000 + Int64(n))
            r.authenticity = a
            records.append(r)
        }
        _ = try store.ingest(records)
        for r in records { #expect(try store.event(id: r.id)?.authenticity == r.authenticity.rawValue) }
        let claimed = try store.claimDue(now: 10_000, limit: 10, leaseMillis: 60_000)
        #expect(Set(claimed.compactMap(\.event.authenticity)) == Set(Authenticity.allCases.map(\.rawValue)))
        let listed = try store.events(matching: EventFilter(), before: nil, limit: 10)
        #expect(listed.count == 3 && listed.allSatisfy { $0.authenticity != nil })
    }

    /// A handshake's secret is stored once per source, with an audit record that never holds the value.
    @Test(arguments: StoreBackend.available) func aHandshakeSecretIsStoredOnceWithAnAuditRecord(_ backend: StoreBackend) throws {
        let store = try backend.makeStore()
        let first = HandshakeSecretRecord(source: "asana", label: "handshake:asana-hook-secret", secret: "h00k-s3cret-1",
                                          handshake: "asana-hook-secret", establishedAt: 5_000, peer: "203.0.113.9")
        var second = first
        second.secret = "h00k-s3cret-2"
        second.establishedAt = 6_000
        #expect(try store.establishSecret(first))
        #expect(try store.establishSecret(second) == false)
        #expect(try store.handshakeSecrets() == [first])
        let other = HandshakeSecretRecord(source: "notion", label: "handshake:n", secret: "t", handshake: "n", establishedAt: 7_000, peer: nil)
        #expect(try store.establishSecret(other))
        #expect(try store.handshakeSecrets().map(\.source) == ["asana", "notion"])
        let audit = try store.auditRecords(source: "asana")
        #expect(audit.count == 1)
        #expect(audit.first?.action == "secret_established" && audit.first?.at == 5_000)
        #expect(audit.first?.detail == "label=handshake:asana-hook-secret handshake=asana-hook-secret peer=203.0.113.9")
        #expect(try store.auditRecords(source: nil).count == 2)
        #expect(!"\(first)".contains("h00k"))
    }

    /// A split batch: its request is stored once, with the first accepted item; each item is an event naming it; a retried
    /// batch stores only its new items (and its own request copy only if one is new); pruning the items prunes it.
    @Test(arguments: StoreBackend.available) func aSplitBatchStoresItsRequestOnceAndItsItemsAsEvents(_ backend: StoreBackend) throws {
        let store = try backend.makeStore()
        let raw = Array(#"{"events":[{"id":"I1"},{"id":"I2"}]}"#.utf8)
        func item(_ key: String, _ n: Int, batch: String, count: Int, at: EpochMillis = 1_000) -> IngestRecord {
            var r = record(key, at: at, body: Array(#"{"id":"\#(key)"}"#.utf8))
            r.batch = BatchReference(id: batch, index: n, count: count, body: raw)
            return r
        }
        let a = item("I1", 0, batch: "req_A", count: 2), b = item("I2", 1, batch: "req_A", count: 2)
        #expect(try store.ingest([a, b]) == [.accepted(id: a.id), .accepted(id: b.id)])
        #expect(try store.batch(id: "req_A") == StoredBatch(id: "req_A", source: "stripe", receivedAt: 1_000, items: 2, body: raw))
        let e = try #require(try store.event(id: b.id))
        #expect(e.batchID == "req_A" && e.batchIndex == 1 && e.body == Array(#"{"id":"I2"}"#.utf8))
        // Retried with one new item: only it is stored and queued, with the retry's request.
        let retry = [item("I1", 0, batch: "req_B", count: 3, at: 2_000), item("I2", 1, batch: "req_B", count: 3, at: 2_000), item("I3", 2, batch: "req_B", count: 3, at: 2_000)]
        #expect(try store.ingest(retry) == [.duplicate(id: a.id), .duplicate(id: b.id), .accepted(id: retry[2].id)])
        #expect(try store.batch(id: "req_B")?.items == 3)
        #expect(try store.counts() == StoreCounts(events: 3, pending: 3, delivered: 0, dead: 0))
        // Retried again, nothing new: no request copy.
        let again = [item("I1", 0, batch: "req_C", count: 1, at: 3_000)]
        #expect(try store.ingest(again) == [.duplicate(id: a.id)])
        #expect(try store.batch(id: "req_C") == nil)
        // Items delivered and pruned: their request goes with them.
        let claimed = try store.claimDue(now: 10_000, limit: 10, leaseMillis: 60_000)
        try store.complete(claimed.map { DeliveryCompletion(attempt: AttemptRecord(deliveryID: $0.deliveryID, attempt: 1, startedAt: 10_000, durationMillis: 1,
                                                                                      statusCode: 200, error: nil, responseSnippet: nil, nextAttemptAt: nil), next: .delivered) },
                           now: 10_000)
        #expect(try store.pruneEvents(receivedBefore: 1_500, limit: 10) == 2)
        #expect(try store.batch(id: "req_A") == nil)
        #expect(try store.batch(id: "req_B") != nil)
    }

    @Test(arguments: StoreBackend.available) func duplicatesAcrossAndWithinBatchesAreCountedNotQueued(_ backend: StoreBackend) throws {
        let store = try backend.makeStore()
        let a = record("evt_A"), a2 = record("evt_A"), a3 = record("evt_A"), b = record("evt_B")
        #expect(try store.ingest([a, a2, b]) == [.accepted(id: a.id), .duplicate(id: a.id), .accepted(id: b.id)])
        #expect(try store.ingest([a3]) == [.duplicate(id: a.id)])
        #expect(try store.event(id: a.id)?.duplicates == 2)
        #expect(try store.event(id: a2.id) == nil)
        #expect(try store.counts() == StoreCounts(events: 2, pending: 2, delivered: 0, dead: 0))
        // The same key under another source is a different event.
        let other = record("evt_A", source: "other")
        #expect(try store.ingest([other]) == [.accepted(id: other.id)])
    }

    /// The duplicate path (SQLite takes it only when its `ON CONFLICT DO NOTHING` insert changed no row): a repeated key
    /// is answered with the holder's ID, counted on the holder, queues nothing, and its sighting keeps the key from
    /// retention; the holder's deliveries are claimed once each.
    @Test(arguments: StoreBackend.available) func duplicateIsCountedKeepsItsKeyAndIsNeverQueuedAgain(_ backend: StoreBackend) throws {
        let store = try backend.makeStore()
        let first = record("evt_D", at: 1_000, destinations: ["a", "b"])
        #expect(try store.ingest([first]) == [.accepted(id: first.id)])
        let again = record("evt_D", at: 9_000, destinations: ["a", "b"]), other = record("evt_E", at: 9_000, destinations: ["a"])
        #expect(try store.ingest([again, other]) == [.duplicate(id: first.id), .accepted(id: other.id)])
        #expect(try store.event(id: first.id)?.duplicates == 1)
        #expect(try store.event(id: again.id) == nil)
        #expect(try store.deliveries(eventID: first.id).map(\.destination) == ["a", "b"])
        #expect(try store.deliveries(eventID: again.id).isEmpty)
        let claimed = try store.claimDue(now: 10_000, limit: 10, leaseMillis: 60_000)
        #expect(claimed.filter { $0.event.id == first.id }.map(\.destination).sorted() == ["a", "b"])
        #expect(claimed.count == 3)
        #expect(try store.claimDue(now: 10_000, limit: 10, leaseMillis: 60_000).isEmpty)
        // Last seen at 9 000: a prune of keys not seen since 5 000 keeps it, and it is still a duplicate.
        #expect(try store.pruneIdempotencyKeys(lastSeenBefore: 5_000, limit: 10) == 0)
        #expect(try store.ingest([record("evt_D", at: 10_000)]) == [.duplicate(id: first.id)])
        #expect(try store.event(id: first.id)?.duplicates == 2)
        #expect(try store.counts() == StoreCounts(events: 2, pending: 3, delivered: 0, dead: 0))
    }

    @Test(arguments: StoreBackend.available) func fanOutCreatesOneRowPerDestinationAndUnroutedNone(_ backend: StoreBackend) throws {
        let store = try backend.makeStore()
        let r = record("evt_F", destinations: ["a", "b", "c"])
        _ = try store.ingest([r, record("evt_U", destinations: [])])
        #expect(try store.deliveries(eventID: r.id).map(\.destination) == ["a", "b", "c"])
        #expect(try store.counts().events == 2)
    }

    @Test(arguments: StoreBackend.available) func claimLeasesRowsUntilCompletedOrExpired(_ backend: StoreBackend) throws {
        let store = try backend.makeStore()
        let r = record("evt_1", at: 1_000)
        _ = try store.ingest([r])
        #expect(try store.claimDue(now: 999, limit: 10, leaseMillis: 60_000).isEmpty)  // not yet due
        let claimed = try store.claimDue(now: 1_000, limit: 10, leaseMillis: 60_000)
        #expect(claimed.count == 1)
        #expect(claimed[0].event.body == r.body)
        // The claim's event is read by its own fast path: every field as the catalog reads it.
        #expect(try claimed[0].event == #require(try store.event(id: claimed[0].event.id)))
        #expect(try store.claimDue(now: 2_000, limit: 10, leaseMillis: 60_000).isEmpty)  // leased
        // The worker died: once the lease runs out the row is due again.
        let again = try store.claimDue(now: 61_000, limit: 10, leaseMillis: 60_000)
        #expect(again.map(\.deliveryID) == claimed.map(\.deliveryID))
        #expect(try store.nextDueAt() == 121_000)
    }

    @Test(arguments: StoreBackend.available) func completionsMoveRowsAndLogAttempts(_ backend: StoreBackend) throws {
        let store = try backend.makeStore()
        _ = try store.ingest([record("e1"), record("e2"), record("e3")])
        let c = try store.claimDue(now: 1_000, limit: 10, leaseMillis: 60_000)
        #expect(c.count == 3)
        func attempt(_ d: ClaimedDelivery, status: Int?, error: String?, next: EpochMillis?) -> AttemptRecord {
            AttemptRecord(deliveryID: d.deliveryID, attempt: 1, startedAt: 1_000, durationMillis: 5, statusCode: status, error: error,
                          responseSnippet: status.map { _ in Array("nope".utf8) }, nextAttemptAt: next)
        }
        try store.complete([
            DeliveryCompletion(attempt: attempt(c[0], status: 204, error: nil, next: nil), next: .delivered),
            DeliveryCompletion(attempt: attempt(c[1], status: 503, error: nil, next: 5_000), next: .retry(at: 5_000)),
            DeliveryCompletion(attempt: attempt(c[2], status: 400, error: nil, next: nil), next: .dead(reason: "status 400 is not retried")),
        ], now: 1_010)
        #expect(try store.counts() == StoreCounts(events: 3, pending: 1, delivered: 1, dead: 1))
        #expect(try store.nextDueAt() == 5_000)
        let retried = try #require(try store.deliveries(eventID: c[1].event.id).first)
        #expect(retried.attempts == 1 && retried.lastStatus == 503 && retried.nextAttemptAt == 5_000)
        #expect(try store.attempts(deliveryID: c[2].deliveryID).first?.responseSnippet == Array("nope".utf8))
        #expect(try store.claimDue(now: 4_999, limit: 10, leaseMillis: 1).isEmpty)
        #expect(try store.claimDue(now: 5_000, limit: 10, leaseMillis: 1).first?.attemptsMade == 1)
    }

    @Test func releaseAllClaimsMakesInFlightRowsDueAtStartup() throws {
        let path = temporaryStorePath()
        do {
            let store = try SQLiteEventStore(path: path)
            _ = try store.ingest([record("e1")])
            #expect(try store.claimDue(now: 1_000, limit: 10, leaseMillis: 600_000).count == 1)
        }
        let reopened = try SQLiteEventStore(path: path)
        #expect(try reopened.claimDue(now: 2_000, limit: 10, leaseMillis: 1).isEmpty)
        try reopened.releaseAllClaims(now: 2_000)
        #expect(try reopened.claimDue(now: 2_000, limit: 10, leaseMillis: 1).count == 1)
        #expect(try reopened.integrityCheck() == "ok")
    }

    @Test func oneProcessPerFile() throws {
        let path = temporaryStorePath()
        let first = try SQLiteEventStore(path: path)
        #expect(throws: StoreError.self) { try SQLiteEventStore(path: path) }
        _ = first
    }

    @Test(arguments: StoreBackend.available) func idempotencyKeysArePrunedByAgeInBatches(_ backend: StoreBackend) throws {
        let store = try backend.makeStore()
        _ = try store.ingest((0..<5).map { record("old\($0)", at: 1_000) } + [record("new", at: 9_000)])
        #expect(try store.pruneIdempotencyKeys(lastSeenBefore: 5_000, limit: 3) == 3)
        #expect(try store.pruneIdempotencyKeys(lastSeenBefore: 5_000, limit: 3) == 2)
        #expect(try store.pruneIdempotencyKeys(lastSeenBefore: 5_000, limit: 3) == 0)
        // A pruned key is admitted again as new; a kept one is still a duplicate.
        #expect(try store.ingest([record("old0", at: 10_000)]).first.map { if case .accepted = $0 { true } else { false } } == true)
        #expect(try store.ingest([record("new", at: 10_000)]).first.map { if case .duplicate = $0 { true } else { false } } == true)
    }

    @Test(arguments: StoreBackend.available) func retentionNeverDropsAnEventThatIsStillBeingDelivered(_ backend: StoreBackend) throws {
        let store = try backend.makeStore()
        let pending = record("old-pending", at: 1_000), delivered = record("old-delivered", at: 1_000)
        let unrouted = record("old-unrouted", at: 1_000, destinations: []), recent = record("recent", at: 50_000)
        _ = try store.ingest([pending, delivered, unrouted, recent])
        let claimed = try store.claimDue(now: 1_000, limit: 10, leaseMillis: 60_000)
        let d = try #require(claimed.first { $0.event.id == delivered.id })
        try store.complete([DeliveryCompletion(attempt: AttemptRecord(deliveryID: d.deliveryID, attempt: 1, startedAt: 1_000, durationMillis: 1,
                                                                      statusCode: 204, error: nil, responseSnippet: nil, nextAttemptAt: nil), next: .delivered)], now: 1_001)
        #expect(try store.prunable(eventsBefore: 10_000, idempotencyKeysBefore: 10_000) == (events: 2, idempotencyKeys: 3))
        #expect(try store.pruneEvents(receivedBefore: 10_000, limit: 1) == 1)
        #expect(try store.pruneEvents(receivedBefore: 10_000, limit: 10) == 1)
        #expect(try store.pruneEvents(receivedBefore: 10_000, limit: 10) == 0)
        #expect(try store.event(id: pending.id) != nil)  // its delivery is still pending
        #expect(try store.event(id: delivered.id) == nil && (try store.deliveries(eventID: delivered.id)).isEmpty)
        #expect(try store.attempts(deliveryID: d.deliveryID).isEmpty)  // attempts go with their event
        #expect(try store.event(id: unrouted.id) == nil)
        #expect(try store.event(id: recent.id) != nil)
        if let sqlite = store as? SQLiteEventStore { #expect(try sqlite.integrityCheck() == "ok") }
    }
}

@Suite("Store conformance: quarantine, bulk replay, pauses")
struct SQLiteOperationsTests {
    func entry(_ n: Int, reason: String = "signature_mismatch", source: String = "stripe", at: EpochMillis = 1_000) -> QuarantineEntry {
        QuarantineEntry(source: source, provider: "stripe", reason: reason, receivedAt: at, expiresAt: at + 10_000, peer: "192.0.2.1", method: "POST",
                        path: "/hooks/stripe", query: nil, headers: HTTPHeaderList([("Stripe-Signature", "t=1,v1=\(n)")]), body: [UInt8](repeating: UInt8(n), count: n + 1))
    }

    /// The quarantine keeps the newest entries up to its cap, lists without bodies, returns one with its exact bytes,
    /// and expires by time.
    @Test(arguments: StoreBackend.available) func quarantineIsCappedListedAndExpires(_ backend: StoreBackend) throws {
        let store = try backend.makeStore()
        try store.quarantine((0..<5).map { entry($0) }, keepAtMost: 3)
        try store.quarantine([entry(5, reason: "ip_not_allowed", at: 50_000)], keepAtMost: 3)
        #expect(try store.quarantineSize() == 3)
        let listed = try store.quarantined(matching: QuarantineFilter(), before: nil, limit: 10)
        #expect(listed.map(\.bodyBytes) == [6, 5, 4] && listed.allSatisfy { $0.body.isEmpty })  // newest first, the oldest made room
        #expect(try store.quarantined(matching: QuarantineFilter(reason: "ip_not_allowed"), before: nil, limit: 10).count == 1)
        #expect(try store.quarantined(matching: QuarantineFilter(), before: listed[0].id, limit: 1).map(\.id) == [listed[1].id])
        let full = try #require(try store.quarantined(id: listed[1].id))
        #expect(full.body == [UInt8](repeating: 4, count: 5) && full.headers.first("Stripe-Signature") == "t=1,v1=4")
        #expect(try store.pruneQuarantine(expiredBy: 20_000, limit: 100) == 2)
        #expect(try store.quarantineSize() == 1)
        #expect(try store.removeQuarantined(id: listed[0].id) && !(try store.removeQuarantined(id: listed[0].id)))
    }

    /// Quotas per (source, reason): a flood of one kind of rejection evicts only its own kind, on both backends. The
    /// genuine entries (another reason, or another source) stay however many junk entries arrive after them.
    @Test(arguments: StoreBackend.available) func quarantineQuotaIsPerSourceAndReason(_ backend: StoreBackend) throws {
        let store = try backend.makeStore()
        let quota = QuarantineQuota(total: 100, perSourceReason: 3)
        try store.quarantine([entry(0), entry(1), entry(2, source: "github")], quota: quota)
        for batch in 0..<4 {
            try store.quarantine((0..<5).map { entry(10 + batch * 5 + $0, reason: "timestamp_outside_tolerance") }, quota: quota)
        }
        #expect(try store.quarantineSize() == 6)
        let flood = try store.quarantined(matching: QuarantineFilter(reason: "timestamp_outside_tolerance"), before: nil, limit: 10)
        #expect(flood.map(\.bodyBytes) == [30, 29, 28])  // the newest three of the flood
        #expect(try store.quarantined(matching: QuarantineFilter(reason: "signature_mismatch"), before: nil, limit: 10).count == 3)
        #expect(try store.quarantined(matching: QuarantineFilter(source: "github"), before: nil, limit: 10).count == 1)
        // The total still bounds the whole quarantine.
        try store.quarantine([entry(40, reason: "malformed_signature")], quota: QuarantineQuota(total: 4, perSourceReason: 3))
        #expect(try store.quarantineSize() == 4)
    }

    /// The console's overview: events per source and per step of a window, the window's ends exclusive of `until`.
    @Test(arguments: StoreBackend.available) func eventCountsGroupBySourceAndStep(_ backend: StoreBackend) throws {
        let store = try backend.makeStore()
        let at: [(String, EpochMillis)] = [("stripe", 9_999), ("stripe", 10_000), ("stripe", 10_500), ("github", 10_999), ("stripe", 11_000),
                                          ("github", 12_999), ("stripe", 13_000)]
        _ = try store.ingest(at.enumerated().map { record("evt_count_\($0)", source: $1.0, at: $1.1) })
        let counts = try store.eventCounts(from: 10_000, until: 13_000, stepMillis: 1_000)
            .sorted { ($0.bucket, $0.source) < ($1.bucket, $1.source) }
        #expect(counts == [EventCount(source: "github", bucket: 0, count: 1), EventCount(source: "stripe", bucket: 0, count: 2),
                           EventCount(source: "stripe", bucket: 1, count: 1), EventCount(source: "github", bucket: 2, count: 1)])
        #expect(try store.eventCounts(from: 13_000, until: 13_000, stepMillis: 1_000).isEmpty)
        #expect(try store.eventCounts(from: 0, until: 20_000, stepMillis: 0).isEmpty)
    }

    /// Replays queued with due times are claimed only when due; a paused destination's rows are neither claimed nor
    /// counted as due, and come back on resume.
    @Test(arguments: StoreBackend.available) func replaysAreDueOnScheduleAndPausesHoldClaims(_ backend: StoreBackend) throws {
        let store = try backend.makeStore()
        let records = (0..<3).map { record("evt_s_\($0)", at: 1_000 + Int64($0), destinations: []) }
        _ = try store.ingest(records)
        #expect(try store.countEvents(matching: EventFilter(source: "stripe")) == 3)
        #expect(try store.events(matching: EventFilter(source: "stripe"), after: nil, limit: 2).map(\.eventKey) == ["evt_s_0", "evt_s_1"])
        #expect(try store.events(matching: EventFilter(status: .unrouted), after: records[1].id, limit: 5).map(\.eventKey) == ["evt_s_2"])
        // The IDs alone, as bulk replay to named destinations pages them: the same events in the same order.
        #expect(try store.eventIDs(matching: EventFilter(source: "stripe"), after: nil, limit: 2) == [records[0].id, records[1].id])
        #expect(try store.eventIDs(matching: EventFilter(source: "stripe"), after: records[1].id, limit: 5) == [records[2].id])
        #expect(try store.eventIDs(matching: EventFilter(source: "github"), after: nil, limit: 5).isEmpty)
        let items = records.enumerated().map { ReplayItem(eventID: $1.id, destinations: ["svc"], dueAt: 10_000 + Int64($0) * 1_000) }
        #expect(try store.queueReplays(items, now: 9_000) == 3)
        #expect(try store.claimDue(now: 10_500, limit: 10, leaseMillis: 60_000).count == 1)
        try store.setPaused(true, destination: "svc", now: 10_600)
        #expect(try store.pausedDestinations() == ["svc"])
        #expect(try store.claimDue(now: 20_000, limit: 10, leaseMillis: 60_000).isEmpty)
        #expect(try store.nextDueAt() == nil)
        #expect(try store.queueGauges(now: 20_000)["svc"] == QueueGauge(pending: 3, oldestDueAt: 11_000, dead: 0))
        try store.setPaused(false, destination: "svc", now: 20_000)
        #expect(try store.claimDue(now: 20_000, limit: 10, leaseMillis: 60_000).map(\.isReplay) == [true, true])
    }
}
