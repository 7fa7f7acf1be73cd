import InletCore

// The store's roles. Each service depends on the one role it uses, so its tests can hand it a small in-memory double
// instead of an on-disk store; `EventStore`, the whole store the backends implement, is their composition.
//
//   IngestStore       ingest: the group-commit writer, and re-admission from the quarantine
//   DeliveryQueue     the delivery workers: claim due rows, record attempts (via the completions writer), next due time
//   EventCatalog      what operators read and do to stored events: events, deliveries, attempts, dead letters, secret
//                     usage; replay, redeliver, discard (the admin API, and the CLI through it)
//   QuarantineStore   rejected requests: kept by the quarantine writer, listed and re-admitted by the admin API
//   StreamStore       streams' consumer groups: lease batches, acknowledge, list, rewind, prune (StreamStore.swift);
//                     appending to a stream is part of `ingest`
//   StoreMaintenance  the store as a whole: retention (prune, what would go), readiness, and its aggregate state for
//                     the gauges and the destination list (queue depth, dead letters, pauses, quarantine size, counts)
//
// Schema migrations are not a role: SQLite migrates when it opens its file, PostgreSQL through `PostgresEventStore`.
// Calls are synchronous and may block on disk I/O: callers run them on a thread pool, never on an event loop.

/// Taking admitted requests into the store.
public protocol IngestStore: Sendable {
    /// Commits a batch in ONE transaction: for each record, the idempotency row, the raw request, one queue
    /// row per destination and one entry per stream; a repeated (source, event key) only counts the arrival. Returns one result per record,
    /// in order. Either the whole batch is durable when this returns, or it throws and nothing is.
    func ingest(_ batch: [IngestRecord]) throws -> [IngestResult]

    /// Upkeep the ingest writer runs between batches, after a batch's acks, never inside one: SQLite checkpoints its
    /// WAL here once it has grown past its size. Nothing for a store without such upkeep.
    func checkpointIfDue() throws
}

extension IngestStore {
    public func checkpointIfDue() throws {}
}

/// The delivery queue as the workers see it: claim due rows, record what each attempt did.
public protocol DeliveryQueue: Sendable {
    /// Claims up to `limit` due queue rows, reserving each for `leaseMillis`; a claimed row that is never
    /// completed (process crash) becomes due again when its lease runs out.
    func claimDue(now: EpochMillis, limit: Int, leaseMillis: Int64, destination: String?) throws -> [ClaimedDelivery]

    /// Records attempts and moves rows to their next state, in one transaction.
    func complete(_ completions: [DeliveryCompletion], now: EpochMillis) throws

    /// The earliest `next_attempt_at` of any pending row, or nil when the queue is empty.
    func nextDueAt() throws -> EpochMillis?

    /// Makes every claimed row due now. Only safe when no other process works the queue (start-up of the
    /// single SQLite process).
    func releaseAllClaims(now: EpochMillis) throws
}

extension DeliveryQueue {
    /// Claims due rows of any destination.
    public func claimDue(now: EpochMillis, limit: Int, leaseMillis: Int64) throws -> [ClaimedDelivery] {
        try claimDue(now: now, limit: limit, leaseMillis: leaseMillis, destination: nil)
    }
}

/// Stored events and their deliveries as operators read them and act on them (the admin API, the CLI through it).
public protocol EventCatalog: Sendable {
    func event(id: String) throws -> StoredEvent?
    /// The request a split batch came in (`StoredEvent.batchID`), as received.
    func batch(id: String) throws -> StoredBatch?
    func deliveries(eventID: String) throws -> [DeliveryRecord]
    func attempts(deliveryID: Int64) throws -> [AttemptRecord]

    /// Per source and secret label: when it last verified a stored event, and how many since `since`.
    func secretUsage(since: EpochMillis) throws -> [SecretUsage]

    /// Queues the stored event again for `destinations`, as replays; returns the new delivery IDs. Throws nothing for an
    /// unknown event: returns nil.
    func replay(eventID: String, destinations: [String], now: EpochMillis) throws -> [Int64]?

    /// Stored events, newest first, matching `filter`, before the cursor (an event ID; nil: from the newest).
    func events(matching filter: EventFilter, before cursor: String?, limit: Int) throws -> [StoredEvent]

    /// Dead letters, oldest first, after the cursor (a delivery ID).
    func deadLetters(destination: String?, after cursor: Int64, limit: Int) throws -> [DeadLetter]

    /// Puts a dead letter back in the queue with fresh attempts; false if it is not a dead letter.
    func redeliver(deliveryID: Int64, now: EpochMillis) throws -> Bool

    /// Removes a dead letter (its event stays stored and replayable); false if it is not a dead letter.
    func discard(deliveryID: Int64) throws -> Bool

    // MARK: Bulk replay and dead letters

    /// How many stored events match `filter`.
    func countEvents(matching filter: EventFilter) throws -> Int

    /// Stored events, oldest first, matching `filter`, after the cursor (an event ID; nil: from the oldest).
    func events(matching filter: EventFilter, after cursor: String?, limit: Int) throws -> [StoredEvent]

    /// The IDs of the same events: a bulk replay to named destinations needs nothing else, and reading the bodies and
    /// headers it would not use was most of its queueing cost.
    func eventIDs(matching filter: EventFilter, after cursor: String?, limit: Int) throws -> [String]

    /// Queues replays in one transaction, each row due at its item's time (how bulk replays keep their rate
    /// without a job that could die halfway); returns the number of delivery rows created.
    func queueReplays(_ items: [ReplayItem], now: EpochMillis) throws -> Int

    /// Puts every dead letter matching the filters back in the queue with fresh attempts; returns how many.
    func redeliverDeadLetters(destination: String?, source: String?, now: EpochMillis) throws -> Int

    // MARK: The console's overview

    /// Events received in `[from, until)`, counted per source and per step: bucket `i` holds those received in
    /// `[from + i·step, from + (i+1)·step)`. One grouped scan of the receive-time index.
    func eventCounts(from: EpochMillis, until: EpochMillis, stepMillis: Int64) throws -> [EventCount]
}

/// One source's stored events in one step of a time window (`EventCatalog.eventCounts`).
public struct EventCount: Sendable, Equatable {
    public var source: String
    public var bucket: Int
    public var count: Int

    public init(source: String, bucket: Int, count: Int) {
        self.source = source
        self.bucket = bucket
        self.count = count
    }
}

/// Quarantine: rejected requests, kept briefly so an operator can re-admit them after fixing the config. Its size
/// and expiry are `StoreMaintenance`'s (the gauges and retention read them).
public protocol QuarantineStore: Sendable {
    /// Adds entries, then trims each (source, reason) they touched to its newest `quota.perSourceReason` entries and
    /// the whole quarantine to its newest `quota.total`.
    func quarantine(_ entries: [QuarantineEntry], quota: QuarantineQuota) throws
    /// Newest first, before the cursor (an entry ID); entries come without their bodies (`bodyBytes` says how large).
    func quarantined(matching filter: QuarantineFilter, before cursor: Int64?, limit: Int) throws -> [QuarantineEntry]
    /// One entry, with its body.
    func quarantined(id: Int64) throws -> QuarantineEntry?
    func removeQuarantined(id: Int64) throws -> Bool
}

extension QuarantineStore {
    /// Adds entries, then trims the quarantine to its newest `keepAtMost` entries (no per-source quota).
    public func quarantine(_ entries: [QuarantineEntry], keepAtMost: Int) throws {
        try quarantine(entries, quota: QuarantineQuota(total: keepAtMost, perSourceReason: keepAtMost))
    }
}

/// The store as a whole: retention, readiness, and the aggregate state the gauges and the destination list show.
/// Pauses live here because the gauges read them every few seconds; setting one is the admin API's.
public protocol StoreMaintenance: Sendable {
    // MARK: Retention

    /// Deletes idempotency rows last seen before `cutoff`, at most `limit` per call; returns how many went.
    func pruneIdempotencyKeys(lastSeenBefore cutoff: EpochMillis, limit: Int) throws -> Int

    /// Deletes stored events received before `cutoff` whose deliveries are all finished (with their deliveries and
    /// attempts), at most `limit` per call; returns how many went.
    func pruneEvents(receivedBefore cutoff: EpochMillis, limit: Int) throws -> Int

    /// What pruning would remove now: (events, idempotency keys).
    func prunable(eventsBefore: EpochMillis, idempotencyKeysBefore: EpochMillis) throws -> (events: Int, idempotencyKeys: Int)

    /// How many quarantine entries' time is up (what the next prune removes).
    func expiredQuarantine(now: EpochMillis) throws -> Int
    /// Deletes quarantine entries whose time is up, at most `limit` per call; returns how many went.
    func pruneQuarantine(expiredBy now: EpochMillis, limit: Int) throws -> Int

    // MARK: Readiness

    /// Proves the store takes a write now (readiness): throws when it does not (disk full, read-only, unreachable).
    func checkWritable(now: EpochMillis) throws

    // MARK: Gauges

    func counts() throws -> StoreCounts

    /// Queue depth per destination: pending rows, and the receive time of the oldest.
    func pendingByDestination() throws -> [String: (count: Int, oldestCreatedAt: EpochMillis)]

    /// Per destination with pending or dead rows: what the queue gauges show.
    func queueGauges(now: EpochMillis) throws -> [String: QueueGauge]

    /// How many entries the quarantine holds.
    func quarantineSize() throws -> Int

    // MARK: Pausing destinations (persisted, so a pause survives restarts and is seen by every process)

    func setPaused(_ paused: Bool, destination: String, now: EpochMillis) throws
    func pausedDestinations() throws -> Set<String>
}

/// Secrets a source took from a handshake (Asana's `X-Hook-Secret`, Notion's `verification_token`), each with an
/// audit record. Nobody can configure such a secret beforehand: it arrives once, and the store keeps it.
public protocol HandshakeSecretStore: Sendable {
    /// Stores the source's secret and an audit record in one transaction; false, storing nothing, when the source
    /// already has one (the handshake is accepted only once, even by instances racing on one database).
    func establishSecret(_ secret: HandshakeSecretRecord) throws -> Bool
    /// Every stored handshake secret, for the gateway to add to its sources at start-up and on reload.
    func handshakeSecrets() throws -> [HandshakeSecretRecord]
    /// Audit records, oldest first (nil: every source).
    func auditRecords(source: String?) throws -> [AuditRecord]
}

/// The gateway's durable state behind one interface: every role. Implementations: SQLite (embedded default) and
/// PostgreSQL (several instances sharing one database).
public protocol EventStore: IngestStore, DeliveryQueue, EventCatalog, QuarantineStore, StreamStore, StoreMaintenance, HandshakeSecretStore {}
