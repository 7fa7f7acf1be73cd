@testable import InletServer
import InletConfig
import InletCore
import InletStore
import NIOConcurrencyHelpers
import NIOPosix
import Prometheus
import Testing

/// Each service depends on the one store role it uses, so it is tested here against a small in-memory double of that
/// role: no store file, no schema, and what the service asked the store is on record.
@Suite("Services against store-role doubles")
struct StoreRoleDoubleTests {
    static let source = IngressStateMachineTests.snapshot.resolved.sources[0]

    func request(peer: String, at: EpochMillis, _ n: Int) -> IncomingRequest {
        IncomingRequest(method: "POST", path: "/hooks/stripe", query: nil, headers: HTTPHeaderList([("Stripe-Signature", "t=1,v1=\(n)")]),
                        body: Array("{\"n\":\(n)}".utf8), peer: IPAddress(peer), receivedAt: at)
    }

    func metrics(_ registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) -> GatewayMetrics {
        GatewayMetrics(factory: GatewayMetrics.prometheusFactory(registry: registry))
    }

    // MARK: QuarantineWriter → QuarantineStore

    @Test func quarantineWriterHandsOneBatchWithItsQuotaToTheStore() async throws {
        let store = RecordingQuarantine()
        var settings = QuarantineSettings()
        settings.maxEntries = 300
        settings.maxEntriesPerSourceReason = 40
        settings.retentionHours = 2
        let writer = QuarantineWriter(store: store, settings: settings, storeThreads: NIOThreadPool.singleton, logger: quietLogger, metrics: metrics())
        await writer.flush()
        #expect(store.batches.withLockedValue { $0.isEmpty }, "an empty flush wrote to the store")

        writer.keep(request(peer: "198.51.100.7", at: 1_000, 1), source: Self.source, reason: .signatureMismatch)
        writer.keep(request(peer: "198.51.100.7", at: 1_001, 2), source: Self.source, reason: .missingSignature)  // skipped by default
        writer.keep(request(peer: "198.51.100.8", at: 1_002, 3), source: Self.source, reason: .timestampOutsideTolerance)
        await writer.flush()

        let batches = store.batches.withLockedValue { $0 }
        try #require(batches.count == 1)
        #expect(batches[0].quota == QuarantineQuota(total: 300, perSourceReason: 40))
        #expect(batches[0].entries.map(\.reason) == ["signature_mismatch", "timestamp_outside_tolerance"])
        #expect(batches[0].entries.map(\.body) == [Array("{\"n\":1}".utf8), Array("{\"n\":3}".utf8)])
        #expect(batches[0].entries.map(\.expiresAt) == [1_000 + 7_200_000, 1_002 + 7_200_000])
        #expect(batches[0].entries.allSatisfy { $0.source == "stripe" && $0.provider == "stripe" })
    }

    /// The quarantine is not durable by design: a failed write is logged and its batch let go, never retried forever.
    @Test func quarantineWriterLetsAFailedBatchGo() async throws {
        let store = RecordingQuarantine(failing: true)
        let writer = QuarantineWriter(store: store, settings: QuarantineSettings(), storeThreads: NIOThreadPool.singleton, logger: quietLogger,
                                      metrics: metrics())
        writer.keep(request(peer: "198.51.100.7", at: 1_000, 1), source: Self.source, reason: .signatureMismatch)
        await writer.flush()
        await writer.flush()
        #expect(store.attempts.withLockedValue { $0 } == 1)
    }

    // MARK: StoreGaugesService → StoreMaintenance

    @Test func storeGaugesPublishWhatTheStoreReports() async throws {
        let registry = PrometheusCollectorRegistry()
        let store = MaintenanceDouble()
        store.gauges.withLockedValue { $0 = ["svc": QueueGauge(pending: 7, oldestDueAt: 990_000, dead: 2)] }
        store.paused.withLockedValue { $0 = ["svc"] }
        store.quarantined.withLockedValue { $0 = 5 }
        let service = StoreGaugesService(store: store, runtime: LiveConfig(IngressStateMachineTests.snapshot.resolved), clock: ManualClock(1_000_000),
                                         storeThreads: NIOThreadPool.singleton, metrics: metrics(registry))
        await service.refresh()

        let text = registry.emitToString()
        #expect(text.contains(#"inlet_queue_depth{destination="svc"} 7"#))
        #expect(text.contains(#"inlet_queue_oldest_due_age_seconds{destination="svc"} 10.0"#))
        #expect(text.contains(#"inlet_dead_letters{destination="svc"} 2"#))
        #expect(text.contains(#"inlet_destination_paused{destination="svc"} 1"#))
        #expect(text.contains(#"inlet_quarantine_entries 5"#))
        #expect(store.calls.withLockedValue { $0 } == ["queueGauges(now: 1000000)", "pausedDestinations", "quarantineSize"])
    }

    /// A store that does not answer leaves the gauges as they were rather than zeroing them.
    @Test func storeGaugesKeepTheirValuesWhenTheStoreFails() async throws {
        let registry = PrometheusCollectorRegistry()
        let store = MaintenanceDouble()
        store.quarantined.withLockedValue { $0 = 5 }
        let service = StoreGaugesService(store: store, runtime: LiveConfig(IngressStateMachineTests.snapshot.resolved), clock: ManualClock(1_000_000),
                                         storeThreads: NIOThreadPool.singleton, metrics: metrics(registry))
        await service.refresh()
        store.failing.withLockedValue { $0 = true }
        await service.refresh()
        #expect(registry.emitToString().contains(#"inlet_quarantine_entries 5"#))
    }

    // MARK: RetentionPruner → StoreMaintenance

    @Test func retentionDrainsEachKindUntilABatchComesBackShort() async throws {
        let store = MaintenanceDouble()
        store.pruneAnswers.withLockedValue { $0 = ["keys": [RetentionPruner.batch, RetentionPruner.batch, 12], "events": [3], "quarantine": [0]] }
        let now: EpochMillis = 100 * 86_400_000
        let pruner = RetentionPruner(store: store, clock: ManualClock(now), idempotencyDays: 30, eventDays: 7, storeThreads: NIOThreadPool.singleton,
                                     logger: quietLogger)
        let removed = await pruner.pruneOnce()
        #expect(removed.idempotencyKeys == 2 * RetentionPruner.batch + 12)
        #expect(removed.events == 3)
        #expect(removed.quarantined == 0)
        let keyCutoff = now - 30 * 86_400_000, eventCutoff = now - 7 * 86_400_000, limit = RetentionPruner.batch
        #expect(store.calls.withLockedValue { $0 } == [
            "pruneIdempotencyKeys(\(keyCutoff), \(limit))", "pruneIdempotencyKeys(\(keyCutoff), \(limit))", "pruneIdempotencyKeys(\(keyCutoff), \(limit))",
            "pruneEvents(\(eventCutoff), \(limit))", "pruneQuarantine(\(now), \(limit))",
        ])
    }

    // MARK: Readmitter → IngestStore & QuarantineStore

    func quarantined(_ body: String, signedWith secret: String, at seconds: Int64) -> QuarantineEntry {
        QuarantineEntry(id: 42, source: "stripe", provider: "stripe", reason: "signature_mismatch", receivedAt: seconds * 1000,
                        expiresAt: seconds * 1000 + 3_600_000, peer: "198.51.100.7", method: "POST", path: "/hooks/stripe", query: nil,
                        headers: HTTPHeaderList(stripeHeaders(body: body, secret: secret, timestamp: seconds)), body: Array(body.utf8))
    }

    func readmitter(_ store: RecordingReadmissions, now: EpochMillis) -> Readmitter {
        Readmitter(runtime: LiveConfig(IngressStateMachineTests.snapshot.resolved), store: store, storeThreads: NIOThreadPool.singleton,
                   clock: ManualClock(now), certificates: nil)
    }

    /// Verified at its arrival time, an entry is ingested as if just received, then leaves the quarantine. (Short bodies:
    /// this source takes at most 100 bytes.)
    @Test func readmittedEntryIsIngestedThenRemoved() async throws {
        let store = RecordingReadmissions()
        let arrival: Int64 = 1_700_000_000
        let entry = quarantined(#"{"id":"evt_readmit_1","type":"invoice.paid"}"#, signedWith: stripeSecret, at: arrival)
        let outcome = try await readmitter(store, now: (arrival + 86_400) * 1000).readmit(entry)

        let batches = store.ingested.withLockedValue { $0 }
        try #require(batches.count == 1 && batches[0].count == 1)
        let record = batches[0][0]
        #expect(outcome == .accepted(eventID: record.id))
        #expect(record.source == "stripe" && record.eventKey == "evt_readmit_1" && record.destinations == ["svc"])
        #expect(record.receivedAt == (arrival + 86_400) * 1000)
        #expect(record.body == entry.body)
        #expect(store.calls.withLockedValue { $0 } == ["ingest", "removeQuarantined(42)"])
    }

    /// A split batch re-admitted from the quarantine: its items are ingested together, in one call (one transaction).
    @Test func readmittedBatchIsIngestedAsItsItemsInOneCall() async throws {
        let config = try GatewayConfig.parse("""
            [destinations.svc]
            url = "http://127.0.0.1:9/hook"
            secrets = ["\(destinationSecret)"]
            [sources.gocardless]
            provider = "gocardless"
            secrets = ["gc-secret"]
            destinations = ["svc"]
            """, file: "t.toml").resolve(environment: [:], profiles: Repo.profiles)
        let body = #"{"events":[{"id":"EV1","resource_type":"payments"},{"id":"EV2","resource_type":"mandates"}],"meta":{"webhook_id":"WB1"}}"#
        let headers = Repo.profiles["gocardless"]!.sign(body: Array(body.utf8), key: Array("gc-secret".utf8), timestampSeconds: 0, id: "")
        let entry = QuarantineEntry(id: 7, source: "gocardless", provider: "gocardless", reason: "signature_mismatch", receivedAt: 1_000,
                                    expiresAt: 3_601_000, peer: nil, method: "POST", path: "/hooks/gocardless", query: nil,
                                    headers: HTTPHeaderList(headers), body: Array(body.utf8))
        let store = RecordingReadmissions()
        let readmitter = Readmitter(runtime: LiveConfig(config), store: store, storeThreads: NIOThreadPool.singleton, clock: ManualClock(2_000), certificates: nil)
        let outcome = try await readmitter.readmit(entry)
        let batches = store.ingested.withLockedValue { $0 }
        try #require(batches.count == 1)
        #expect(batches[0].map(\.eventKey) == ["EV1", "EV2"])
        #expect(batches[0].map { $0.batch?.index } == [0, 1] && Set(batches[0].compactMap { $0.batch?.id }).count == 1)
        #expect(batches[0][1].body == Array(#"{"id":"EV2","resource_type":"mandates"}"#.utf8))
        #expect(outcome == .accepted(eventID: batches[0][0].id))
    }

    @Test func entryThatStillFailsIsNeitherIngestedNorRemoved() async throws {
        let store = RecordingReadmissions()
        let arrival: Int64 = 1_700_000_000
        let entry = quarantined(#"{"id":"evt_readmit_2","type":"invoice.paid"}"#, signedWith: "whsec_wrong", at: arrival)
        let outcome = try await readmitter(store, now: arrival * 1000).readmit(entry)
        #expect(outcome == .rejected(reason: "signature_mismatch"))
        #expect(store.calls.withLockedValue { $0 }.isEmpty)
    }
}

/// What a double answers for a requirement the service under test has no business calling.
struct NotUsedByThisService: Error {}

/// A `QuarantineStore` that records each batch it is asked to keep.
final class RecordingQuarantine: QuarantineStore {
    let batches = NIOLockedValueBox<[(entries: [QuarantineEntry], quota: QuarantineQuota)]>([])
    let attempts = NIOLockedValueBox(0)
    let failing: Bool

    init(failing: Bool = false) { self.failing = failing }

    func quarantine(_ entries: [QuarantineEntry], quota: QuarantineQuota) throws {
        attempts.withLockedValue { $0 += 1 }
        if failing { throw StoreError.unavailable("test double") }
        batches.withLockedValue { $0.append((entries, quota)) }
    }
    func quarantined(matching filter: QuarantineFilter, before cursor: Int64?, limit: Int) throws -> [QuarantineEntry] { throw NotUsedByThisService() }
    func quarantined(id: Int64) throws -> QuarantineEntry? { throw NotUsedByThisService() }
    func removeQuarantined(id: Int64) throws -> Bool { throw NotUsedByThisService() }
}

/// A `StoreMaintenance` with set answers for the gauges and for each prune call, recording what it was asked.
final class MaintenanceDouble: StoreMaintenance {
    let calls = NIOLockedValueBox<[String]>([])
    let gauges = NIOLockedValueBox<[String: QueueGauge]>([:])
    let paused = NIOLockedValueBox<Set<String>>([])
    let quarantined = NIOLockedValueBox(0)
    let failing = NIOLockedValueBox(false)
    /// Per kind ("keys", "events", "quarantine"): what successive prune calls return; 0 once used up.
    let pruneAnswers = NIOLockedValueBox<[String: [Int]]>([:])

    private func record(_ call: String) throws {
        if failing.withLockedValue({ $0 }) { throw StoreError.unavailable("test double") }
        calls.withLockedValue { $0.append(call) }
    }
    private func nextPrune(_ kind: String) -> Int {
        pruneAnswers.withLockedValue { $0[kind]?.isEmpty == false ? $0[kind]!.removeFirst() : 0 }
    }

    func pruneIdempotencyKeys(lastSeenBefore cutoff: EpochMillis, limit: Int) throws -> Int {
        try record("pruneIdempotencyKeys(\(cutoff), \(limit))")
        return nextPrune("keys")
    }
    func pruneEvents(receivedBefore cutoff: EpochMillis, limit: Int) throws -> Int {
        try record("pruneEvents(\(cutoff), \(limit))")
        return nextPrune("events")
    }
    func pruneQuarantine(expiredBy now: EpochMillis, limit: Int) throws -> Int {
        try record("pruneQuarantine(\(now), \(limit))")
        return nextPrune("quarantine")
    }
    func queueGauges(now: EpochMillis) throws -> [String: QueueGauge] {
        try record("queueGauges(now: \(now))")
        return gauges.withLockedValue { $0 }
    }
    func pausedDestinations() throws -> Set<String> {
        try record("pausedDestinations")
        return paused.withLockedValue { $0 }
    }
    func quarantineSize() throws -> Int {
        try record("quarantineSize")
        return quarantined.withLockedValue { $0 }
    }

    func prunable(eventsBefore: EpochMillis, idempotencyKeysBefore: EpochMillis) throws -> (events: Int, idempotencyKeys: Int) { throw NotUsedByThisService() }
    func expiredQuarantine(now: EpochMillis) throws -> Int { throw NotUsedByThisService() }
    func checkWritable(now: EpochMillis) throws { throw NotUsedByThisService() }
    func counts() throws -> StoreCounts { throw NotUsedByThisService() }
    func pendingByDestination() throws -> [String: (count: Int, oldestCreatedAt: EpochMillis)] { throw NotUsedByThisService() }
    func setPaused(_ paused: Bool, destination: String, now: EpochMillis) throws { throw NotUsedByThisService() }
}

/// What re-admission needs: ingest (answering each record as accepted) and removal from the quarantine, on record.
final class RecordingReadmissions: IngestStore, QuarantineStore {
    let calls = NIOLockedValueBox<[String]>([])
    let ingested = NIOLockedValueBox<[[IngestRecord]]>([])

    func ingest(_ batch: [IngestRecord]) throws -> [IngestResult] {
        calls.withLockedValue { $0.append("ingest") }
        ingested.withLockedValue { $0.append(batch) }
        return batch.map { .accepted(id: $0.id) }
    }
    func removeQuarantined(id: Int64) throws -> Bool {
        calls.withLockedValue { $0.append("removeQuarantined(\(id))") }
        return true
    }
    func quarantine(_ entries: [QuarantineEntry], quota: QuarantineQuota) throws { throw NotUsedByThisService() }
    func quarantined(matching filter: QuarantineFilter, before cursor: Int64?, limit: Int) throws -> [QuarantineEntry] { throw NotUsedByThisService() }
    func quarantined(id: Int64) throws -> QuarantineEntry? { throw NotUsedByThisService() }
}
