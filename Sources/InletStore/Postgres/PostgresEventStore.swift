import Foundation
import InletCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PostgresNIO

/// The shared store for several gateway instances: PostgreSQL through postgres-nio, with the same semantics as the
/// SQLite store. The unique key on (source, event key) decides which instance's copy of an event is accepted; queue
/// rows are claimed with `FOR UPDATE SKIP LOCKED` and leases, so each delivery is worked by one instance at a time and
/// a dead instance's claims come back when their leases end; `NOTIFY` wakes the other instances' workers.
///
/// The `EventStore` calls are synchronous, like SQLite's: they block their caller (a store thread, never an event
/// loop) until the database answered.
public final class PostgresEventStore: EventStore {
    public let settings: PostgresSettings
    /// Internal, not private: the tests open side sessions on it (to terminate this store's connections).
    let pool: PostgresConnectionPool
    private let logger: Logger
    /// The channel on which new queue rows are announced.
    public var notificationChannel: String { "inlet_queue" + (settings.schema.map { "_" + $0 } ?? "") }
    /// Announces entries appended to any stream (consumers' long-polls on every instance wake on it).
    public var streamNotificationChannel: String { "inlet_streams" + (settings.schema.map { "_" + $0 } ?? "") }

    /// Connects lazily; with `migrate`, applies pending migrations now (and fails if the database is unreachable).
    public init(settings: PostgresSettings, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger? = nil,
                migrate: Bool = true) throws {
        self.settings = settings
        self.logger = logger ?? Logger(label: "inlet.postgres")
        pool = PostgresConnectionPool(settings: settings, group: group, logger: self.logger)
        if migrate { _ = try self.migrate() }
    }

    /// Applies the migrations not yet applied, under an advisory lock; returns their names.
    @discardableResult
    public func migrate() throws -> [String] {
        try pool.transaction { c in
            if let schema = settings.schema { try c.run("CREATE SCHEMA IF NOT EXISTS \(PostgresSettings.quoted(schema))") }
            // Any constant shared by all instances: only one migrates at a time, the others then find nothing to do.
            try c.run("SELECT pg_advisory_xact_lock(7341522001)")
            try c.run("CREATE TABLE IF NOT EXISTS inlet_migrations (name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)")
            let done = Set(try c.run("SELECT name FROM inlet_migrations").rows.map { try $0.makeRandomAccess()["name"].decode(String.self) })
            var applied: [String] = []
            for m in PostgresSchema.migrations where !done.contains(m.name) {
                // One statement per query: the extended protocol takes no more.
                for statement in m.sql.components(separatedBy: ";\n").map({ $0.trimmingCharacters(in: .whitespacesAndNewlines) }) where !statement.isEmpty {
                    try c.run(statement.hasSuffix(";") ? String(statement.dropLast()) : statement)
                }
                try c.run("INSERT INTO inlet_migrations (name, applied_at) VALUES ($1, $2)", [.text(m.name), .int(Int64(Date().timeIntervalSince1970 * 1000))])
                applied.append(m.name)
            }
            return applied
        }
    }

    public func close() { pool.close() }

    deinit { pool.close() }

    // MARK: Ingest and the queue

    public func ingest(_ batch: [IngestRecord]) throws -> [IngestResult] {
        guard !batch.isEmpty else { return [] }
        // The batch's distinct keys, locked in one global order, so two instances committing overlapping batches
        // cannot deadlock. The first copy of a key in the batch claims it; later copies are its duplicates, resolved
        // in arrival order exactly as copies in two batches would be.
        struct Key: Hashable { let source: String, eventKey: String }
        var firstCopy: [Key: Int] = [:]
        var repeats: [Key: (n: Int64, at: Int64)] = [:]
        for (i, r) in batch.enumerated() {
            let key = Key(source: r.source, eventKey: r.eventKey)
            if firstCopy[key] == nil { firstCopy[key] = i } else { repeats[key, default: (0, 0)].n += 1; repeats[key]!.at = max(repeats[key]!.at, r.receivedAt) }
        }
        let claimants = firstCopy.values.sorted { (batch[$0].source, batch[$0].eventKey) < (batch[$1].source, batch[$1].eventKey) }
        return try pool.transaction { c in
            var holders: [Key: String] = [:]
            let claimed = try c.run(PostgresSchema.upsertIdempotencyKeys, [
                .texts(claimants.map { batch[$0].source }), .texts(claimants.map { batch[$0].eventKey }),
                .texts(claimants.map { batch[$0].id }), .ints(claimants.map { batch[$0].receivedAt }),
            ])
            for row in claimed.rows {
                let (source, eventKey, holder) = try row.decode((String, String, String).self)
                holders[Key(source: source, eventKey: eventKey)] = holder
            }
            var results: [IngestResult] = []
            results.reserveCapacity(batch.count)
            var duplicates: [String: (n: Int64, at: Int64)] = [:]
            var events: [UInt8] = [UInt8(ascii: "[")], bodies: [[UInt8]] = []
            var deliveries: [UInt8] = [UInt8(ascii: "[")], deliveryCount = 0
            var batches: [BatchReference] = [], batchSources: [String] = [], batchTimes: [Int64] = []
            var appended: [String: [(id: String, at: Int64)]] = [:]
            for r in batch {
                let key = Key(source: r.source, eventKey: r.eventKey)
                guard let holder = holders[key] else { throw StoreError.unavailable("PostgreSQL returned no idempotency row for \(r.source)/\(r.eventKey)") }
                if holder != r.id {
                    duplicates[holder, default: (0, 0)].n += 1
                    duplicates[holder]!.at = max(duplicates[holder]!.at, r.receivedAt)
                    results.append(.duplicate(id: holder))
                    continue
                }
                if !bodies.isEmpty { events.append(UInt8(ascii: ",")) }
                Self.appendEventJSON(r, to: &events)
                bodies.append(r.body)
                if let b = r.batch, !batches.contains(where: { $0.id == b.id }) {
                    batches.append(b)
                    batchSources.append(r.source)
                    batchTimes.append(r.receivedAt)
                }
                for d in r.destinations {
                    if deliveryCount > 0 { deliveries.append(UInt8(ascii: ",")) }
                    deliveryCount += 1
                    deliveries += Array(#"{"event_id":"#.utf8); JSONString.append(r.id, to: &deliveries)
                    deliveries += Array(#","destination":"#.utf8); JSONString.append(d, to: &deliveries)
                    deliveries += Array(#","at":\#(r.receivedAt),"ordering_key":"#.utf8)
                    if let k = r.orderingKeys[d] { JSONString.append(k, to: &deliveries) } else { deliveries += Array("null".utf8) }
                    deliveries.append(UInt8(ascii: "}"))
                }
                for stream in r.streams { appended[stream, default: []].append((r.id, r.receivedAt)) }
                results.append(.accepted(id: r.id))
            }
            events.append(UInt8(ascii: "]")); deliveries.append(UInt8(ascii: "]"))
            if !repeats.isEmpty {
                let keys = repeats.keys.sorted { ($0.source, $0.eventKey) < ($1.source, $1.eventKey) }
                try c.run(PostgresSchema.countRepeatedKeys, [.texts(keys.map(\.source)), .texts(keys.map(\.eventKey)),
                                                             .ints(keys.map { repeats[$0]!.n }), .ints(keys.map { repeats[$0]!.at })])
            }
            if !batches.isEmpty {
                try c.run(PostgresSchema.insertBatches, [.texts(batches.map(\.id)), .texts(batchSources), .ints(batchTimes),
                                                         .ints(batches.map { Int64($0.count) }), .byteas(batches.map(\.body))])
            }
            if !bodies.isEmpty {
                try c.run(PostgresSchema.insertEvents, [.text(String(decoding: events, as: UTF8.self)), .byteas(bodies)])
            }
            // After the insert: a copy may be a duplicate of an event this very batch stores.
            if !duplicates.isEmpty {
                let ids = duplicates.keys.sorted()
                try c.run(PostgresSchema.countDuplicates, [.texts(ids), .ints(ids.map { duplicates[$0]!.n }), .ints(ids.map { duplicates[$0]!.at })])
            }
            if deliveryCount > 0 {
                try c.run(PostgresSchema.insertDeliveries, [.text(String(decoding: deliveries, as: UTF8.self))])
                try notify(c)
            }
            // Streams in name order, after every key: two instances' batches lock the counters in one order.
            for stream in appended.keys.sorted() {
                let entries = appended[stream]!
                let n = Int64(entries.count)
                guard let last = try c.run(PostgresSchema.reserveStreamSequences, [.text(stream), .int(n)]).rows.first
                    .map({ try $0.makeRandomAccess()["last_sequence"].decode(Int64.self) }) else {
                    throw StoreError.unavailable("stream counter returned no row")
                }
                try c.run(PostgresSchema.insertStreamEntries, [.text(stream), .ints(Array((last - n + 1)...last)), .texts(entries.map(\.id)),
                                                               .ints(entries.map(\.at))])
            }
            if !appended.isEmpty { try c.run("SELECT pg_notify($1, '')", [.text(streamNotificationChannel)]) }
            return results
        }
    }

    /// One event's columns (all but the body) as a JSON object, for `insertEvents`.
    static func appendEventJSON(_ r: IngestRecord, to out: inout [UInt8]) {
        func field(_ name: String, _ value: String?, first: Bool = false) {
            out += Array(((first ? "{\"" : ",\"") + name + "\":").utf8)
            if let value { JSONString.append(value, to: &out) } else { out += Array("null".utf8) }
        }
        field("id", r.id, first: true)
        field("source", r.source)
        field("provider", r.provider)
        field("event_key", r.eventKey)
        field("key_origin", r.keyOrigin.rawValue)
        field("event_type", r.eventType)
        out += Array(",\"received_at\":\(r.receivedAt),\"provider_timestamp\":\(r.providerTimestamp.map(String.init) ?? "null")".utf8)
        field("peer", r.peer)
        field("client_address", r.clientAddress)
        field("method", r.method)
        field("path", r.path)
        field("query", r.query)
        field("headers", SQLiteEventStore.encodeHeaders(r.headers))
        field("content_type", r.headers.first("Content-Type"))
        field("secret_label", r.secretLabel)
        field("authenticity", r.authenticity.rawValue)
        field("batch_id", r.batch?.id)
        out += Array(",\"batch_index\":\(r.batch.map { String($0.index) } ?? "null")".utf8)
        out += Array(",\"unrouted\":\(r.isUnrouted)}".utf8)
    }

    /// Announces new due rows to every instance (delivered when the transaction commits; repeats within one
    /// transaction are folded into one).
    private func notify(_ c: PostgresConnectionPool.Session) throws {
        try c.run("SELECT pg_notify($1, '')", [.text(notificationChannel)])
    }

    public func claimDue(now: EpochMillis, limit: Int, leaseMillis: Int64, destination: String?) throws -> [ClaimedDelivery] {
        try pool.transaction { c in
            let rows = try c.run(PostgresSchema.claimDue, [.int(now + leaseMillis), .int(now), .text(destination), .int(Int64(limit))]).rows
                .map { $0.makeRandomAccess() }
            guard !rows.isEmpty else { return [] }
            let ids = Array(Set(try rows.map { try $0["event_id"].decode(String.self) }))
            var events: [String: StoredEvent] = [:]
            for row in try c.run(PostgresSchema.eventsByIDs, [.texts(ids)]).rows {
                let e = try Self.decodeEvent(row.makeRandomAccess())
                events[e.id] = e
            }
            return try rows.compactMap { row -> ClaimedDelivery? in
                guard let e = events[try row["event_id"].decode(String.self)] else { return nil }
                return ClaimedDelivery(deliveryID: try row["id"].decode(Int64.self), destination: try row["destination"].decode(String.self),
                                       attemptsMade: try row["attempts"].decode(Int.self), createdAt: try row["created_at"].decode(Int64.self),
                                       event: e, isReplay: try row["replay"].decode(Bool.self))
            }.sorted { $0.deliveryID < $1.deliveryID }
        }
    }

    public func complete(_ completions: [DeliveryCompletion], now: EpochMillis) throws {
        guard !completions.isEmpty else { return }
        try pool.transaction { c in
            for done in completions {
                let a = done.attempt
                let nextAt: EpochMillis? = { if case .retry(let at) = done.next { return at }; return nil }()
                try c.run(PostgresSchema.insertAttempt, [.int(a.deliveryID), .int(Int64(a.attempt)), .int(a.startedAt), .int(a.durationMillis),
                                                         .int(a.statusCode.map(Int64.init)), .text(a.error), .optionalBytes(a.responseSnippet), .int(nextAt)])
                switch done.next {
                case .delivered:
                    try c.run(PostgresSchema.markDelivered, [.int(Int64(a.attempt)), .int(a.statusCode.map(Int64.init)), .int(now), .int(now), .int(a.deliveryID)])
                case .retry(let at):
                    try c.run(PostgresSchema.markRetry, [.int(Int64(a.attempt)), .int(at), .int(a.statusCode.map(Int64.init)), .text(a.error), .int(now), .int(a.deliveryID)])
                case .dead:
                    try c.run(PostgresSchema.markDead, [.int(Int64(a.attempt)), .int(a.statusCode.map(Int64.init)), .text(a.error), .int(now), .int(a.deliveryID)])
                }
            }
        }
    }

    public func nextDueAt() throws -> EpochMillis? {
        try pool.session { c in try c.run(PostgresSchema.nextDue).rows.first.flatMap { try $0.makeRandomAccess()["at"].decode(Int64?.self) } }
    }

    /// Nothing to do for a shared store: another instance may hold these claims right now. Claims of an instance that
    /// died become due again when their leases run out.
    public func releaseAllClaims(now: EpochMillis) throws {}

    public func pruneIdempotencyKeys(lastSeenBefore cutoff: EpochMillis, limit: Int) throws -> Int {
        try pool.session { c in try c.run(PostgresSchema.pruneIdempotency, [.int(cutoff), .int(Int64(limit))]).metadata.rows ?? 0 }
    }

    public func pruneEvents(receivedBefore cutoff: EpochMillis, limit: Int) throws -> Int {
        try pool.session { c in
            let pruned = try c.run(PostgresSchema.pruneEvents, [.int(cutoff), .int(Int64(limit))]).metadata.rows ?? 0
            try c.run(PostgresSchema.pruneBatches, [.int(cutoff)])
            return pruned
        }
    }

    public func batch(id: String) throws -> StoredBatch? {
        try pool.session { c in
            try c.run("SELECT id, source, received_at, items, body FROM batches WHERE id = $1", [.text(id)]).rows.first.map { row in
                let r = row.makeRandomAccess()
                return StoredBatch(id: try r["id"].decode(String.self), source: try r["source"].decode(String.self),
                                   receivedAt: try r["received_at"].decode(Int64.self), items: try r["items"].decode(Int.self),
                                   body: Array(buffer: try r["body"].decode(ByteBuffer.self)))
            }
        }
    }

    public func prunable(eventsBefore: EpochMillis, idempotencyKeysBefore: EpochMillis) throws -> (events: Int, idempotencyKeys: Int) {
        try pool.session { c in
            (try c.count(PostgresSchema.countPrunableEvents, [.int(eventsBefore)]), try c.count(PostgresSchema.countPrunableIdempotency, [.int(idempotencyKeysBefore)]))
        }
    }

    // MARK: Reading

    public func event(id: String) throws -> StoredEvent? {
        try pool.session { c in
            try c.run("SELECT \(PostgresSchema.eventColumns) FROM events WHERE id = $1", [.text(id)]).rows.first.map { try Self.decodeEvent($0.makeRandomAccess()) }
        }
    }

    public func deliveries(eventID: String) throws -> [DeliveryRecord] {
        try pool.session { c in
            try c.run("SELECT id, event_id, destination, state, attempts, next_attempt_at, last_status, last_error, delivered_at FROM deliveries WHERE event_id = $1 ORDER BY id",
                      [.text(eventID)]).rows.map { row in
                let r = row.makeRandomAccess()
                return DeliveryRecord(id: try r["id"].decode(Int64.self), eventID: try r["event_id"].decode(String.self),
                                      destination: try r["destination"].decode(String.self),
                                      state: DeliveryState(rawValue: try r["state"].decode(String.self)) ?? .pending, attempts: try r["attempts"].decode(Int.self),
                                      nextAttemptAt: try r["next_attempt_at"].decode(Int64.self), lastStatus: try r["last_status"].decode(Int?.self),
                                      lastError: try r["last_error"].decode(String?.self), deliveredAt: try r["delivered_at"].decode(Int64?.self))
            }
        }
    }

    public func attempts(deliveryID: Int64) throws -> [AttemptRecord] {
        try pool.session { c in
            try c.run("SELECT * FROM attempts WHERE delivery_id = $1 ORDER BY attempt", [.int(deliveryID)]).rows.map { row in
                let r = row.makeRandomAccess()
                return AttemptRecord(deliveryID: try r["delivery_id"].decode(Int64.self), attempt: try r["attempt"].decode(Int.self),
                                     startedAt: try r["started_at"].decode(Int64.self), durationMillis: try r["duration_ms"].decode(Int64.self),
                                     statusCode: try r["status_code"].decode(Int?.self), error: try r["error"].decode(String?.self),
                                     responseSnippet: try r["response_snippet"].decode(ByteBuffer?.self).map { Array(buffer: $0) },
                                     nextAttemptAt: try r["next_attempt_at"].decode(Int64?.self))
            }
        }
    }

    public func counts() throws -> StoreCounts {
        try pool.session { c in
            var byState: [String: Int] = [:]
            for row in try c.run("SELECT state, COUNT(*) AS n FROM deliveries GROUP BY state").rows {
                let r = row.makeRandomAccess()
                byState[try r["state"].decode(String.self)] = try r["n"].decode(Int.self)
            }
            return StoreCounts(events: try c.count("SELECT COUNT(*) AS n FROM events"), pending: byState["pending"] ?? 0,
                               delivered: byState["delivered"] ?? 0, dead: byState["dead"] ?? 0,
                               quarantined: try c.count("SELECT COUNT(*) AS n FROM quarantine"))
        }
    }

    public func checkWritable(now: EpochMillis) throws {
        _ = try pool.session { c in try c.run(PostgresSchema.touchHealth, [.int(now)]) }
    }

    public func secretUsage(since: EpochMillis) throws -> [SecretUsage] {
        try pool.session { c in
            try c.run(PostgresSchema.secretUsage, [.int(since)]).rows.map { row in
                let r = row.makeRandomAccess()
                return SecretUsage(source: try r["source"].decode(String.self), secretLabel: try r["secret_label"].decode(String.self),
                                   lastVerifiedAt: try r["last_at"].decode(Int64.self), verifiedSince: try r["recent"].decode(Int.self))
            }
        }
    }

    public func replay(eventID: String, destinations: [String], now: EpochMillis) throws -> [Int64]? {
        try pool.transaction { c in
            guard try c.run("SELECT 1 FROM events WHERE id = $1", [.text(eventID)]).rows.first != nil else { return nil }
            var ids: [Int64] = []
            for d in destinations {
                if let row = try c.run(PostgresSchema.insertReplay, [.text(eventID), .text(d), .int(now)]).rows.first {
                    ids.append(try row.makeRandomAccess()["id"].decode(Int64.self))
                }
            }
            if !ids.isEmpty { try notify(c) }
            return ids
        }
    }

    private static func filterBinds(_ f: EventFilter) -> [PostgresValue] {
        [.text(f.source), .text(f.eventType), .text(f.eventKey), .int(f.receivedFrom), .int(f.receivedUntil), .bool(f.unroutedOnly), .text(f.status?.rawValue)]
    }

    public func events(matching f: EventFilter, before cursor: String?, limit: Int) throws -> [StoredEvent] {
        try pool.session { c in
            try c.run(PostgresSchema.listEvents, Self.filterBinds(f) + [.text(cursor), .int(Int64(limit))]).rows.map { try Self.decodeEvent($0.makeRandomAccess()) }
        }
    }

    public func events(matching f: EventFilter, after cursor: String?, limit: Int) throws -> [StoredEvent] {
        try pool.session { c in
            try c.run(PostgresSchema.listEventsAscending, Self.filterBinds(f) + [.text(cursor), .int(Int64(limit))]).rows.map { try Self.decodeEvent($0.makeRandomAccess()) }
        }
    }

    public func eventIDs(matching f: EventFilter, after cursor: String?, limit: Int) throws -> [String] {
        try pool.session { c in
            try c.run(PostgresSchema.listEventIDsAscending, Self.filterBinds(f) + [.text(cursor), .int(Int64(limit))]).rows.map {
                try $0.makeRandomAccess()[0].decode(String.self)
            }
        }
    }

    public func eventCounts(from: EpochMillis, until: EpochMillis, stepMillis: Int64) throws -> [EventCount] {
        guard stepMillis > 0, until > from else { return [] }
        return try pool.session { c in
            try c.run(PostgresSchema.eventCounts, [.int(from), .int(until), .int(stepMillis)]).rows.map { row in
                let r = row.makeRandomAccess()
                return EventCount(source: try r["source"].decode(String.self), bucket: Int(try r["bucket"].decode(Int64.self)),
                                  count: Int(try r["n"].decode(Int64.self)))
            }
        }
    }

    public func countEvents(matching filter: EventFilter) throws -> Int {
        try pool.session { c in try c.count(PostgresSchema.countEvents, Self.filterBinds(filter)) }
    }

    public func deadLetters(destination: String?, after cursor: Int64, limit: Int) throws -> [DeadLetter] {
        try pool.session { c in
            try c.run(PostgresSchema.deadLetters, [.text(destination), .int(cursor), .int(Int64(limit))]).rows.map { row in
                let r = row.makeRandomAccess()
                return DeadLetter(deliveryID: try r["id"].decode(Int64.self), eventID: try r["event_id"].decode(String.self),
                                  destination: try r["destination"].decode(String.self), source: try r["source"].decode(String.self),
                                  eventType: try r["event_type"].decode(String?.self), attempts: try r["attempts"].decode(Int.self),
                                  lastStatus: try r["last_status"].decode(Int?.self), lastError: try r["last_error"].decode(String?.self),
                                  deadAt: try r["updated_at"].decode(Int64.self), isReplay: try r["replay"].decode(Bool.self))
            }
        }
    }

    public func redeliver(deliveryID: Int64, now: EpochMillis) throws -> Bool {
        try pool.transaction { c in
            let changed = try c.run(PostgresSchema.redeliver, [.int(now), .int(deliveryID)]).metadata.rows == 1
            if changed { try notify(c) }
            return changed
        }
    }

    public func discard(deliveryID: Int64) throws -> Bool {
        try pool.session { c in try c.run(PostgresSchema.discardDeadLetter, [.int(deliveryID)]).metadata.rows == 1 }
    }

    public func pendingByDestination() throws -> [String: (count: Int, oldestCreatedAt: EpochMillis)] {
        try pool.session { c in
            var out: [String: (count: Int, oldestCreatedAt: EpochMillis)] = [:]
            for row in try c.run(PostgresSchema.pendingByDestination).rows {
                let r = row.makeRandomAccess()
                out[try r["destination"].decode(String.self)] = (try r["n"].decode(Int.self), try r["oldest"].decode(Int64.self))
            }
            return out
        }
    }

    public func queueGauges(now: EpochMillis) throws -> [String: QueueGauge] {
        try pool.session { c in
            var out: [String: QueueGauge] = [:]
            for row in try c.run(PostgresSchema.pendingGauges, [.int(now)]).rows {
                let r = row.makeRandomAccess()
                out[try r["destination"].decode(String.self)] = QueueGauge(pending: try r["pending"].decode(Int.self), oldestDueAt: try r["oldest_due"].decode(Int64?.self), dead: 0)
            }
            for row in try c.run(PostgresSchema.deadGauges).rows {
                let r = row.makeRandomAccess()
                out[try r["destination"].decode(String.self), default: QueueGauge(pending: 0, oldestDueAt: nil, dead: 0)].dead = try r["dead"].decode(Int.self)
            }
            return out
        }
    }

    public func queueReplays(_ items: [ReplayItem], now: EpochMillis) throws -> Int {
        guard !items.isEmpty else { return 0 }
        return try pool.transaction { c in
            var rows = 0
            for item in items {
                for d in item.destinations {
                    try c.run(PostgresSchema.insertReplayAt, [.text(item.eventID), .text(d), .int(item.dueAt), .int(now)])
                    rows += 1
                }
            }
            if rows > 0 { try notify(c) }
            return rows
        }
    }

    public func redeliverDeadLetters(destination: String?, source: String?, now: EpochMillis) throws -> Int {
        try pool.transaction { c in
            let n = try c.run(PostgresSchema.redeliverMatching, [.int(now), .text(destination), .text(source)]).metadata.rows ?? 0
            if n > 0 { try notify(c) }
            return n
        }
    }

    public func setPaused(_ paused: Bool, destination: String, now: EpochMillis) throws {
        try pool.transaction { c in
            if paused {
                try c.run("INSERT INTO destination_pauses (destination, paused_at) VALUES ($1, $2) ON CONFLICT DO NOTHING", [.text(destination), .int(now)])
            } else {
                try c.run("DELETE FROM destination_pauses WHERE destination = $1", [.text(destination)])
                try notify(c)
            }
        }
    }

    public func pausedDestinations() throws -> Set<String> {
        try pool.session { c in Set(try c.run("SELECT destination FROM destination_pauses").rows.map { try $0.makeRandomAccess()["destination"].decode(String.self) }) }
    }

    // MARK: Handshake secrets

    public func establishSecret(_ s: HandshakeSecretRecord) throws -> Bool {
        try pool.transaction { c in
            let inserted = try c.run("""
                INSERT INTO handshake_secrets (source, label, secret, handshake, established_at, peer) VALUES ($1, $2, $3, $4, $5, $6)
                ON CONFLICT (source) DO NOTHING RETURNING source
                """, [.text(s.source), .text(s.label), .text(s.secret), .text(s.handshake), .int(s.establishedAt), .text(s.peer)]).rows
            guard inserted.first != nil else { return false }
            try c.run("INSERT INTO audit_log (at, source, action, detail) VALUES ($1, $2, $3, $4)",
                      [.int(s.establishedAt), .text(s.source), .text("secret_established"), .text(s.auditDetail)])
            return true
        }
    }

    public func handshakeSecrets() throws -> [HandshakeSecretRecord] {
        try pool.session { c in
            try c.run("SELECT source, label, secret, handshake, established_at, peer FROM handshake_secrets ORDER BY source").rows.map { row in
                let r = row.makeRandomAccess()
                return HandshakeSecretRecord(source: try r["source"].decode(String.self), label: try r["label"].decode(String.self),
                                             secret: try r["secret"].decode(String.self), handshake: try r["handshake"].decode(String.self),
                                             establishedAt: try r["established_at"].decode(Int64.self), peer: try r["peer"].decode(String?.self))
            }
        }
    }

    public func auditRecords(source: String?) throws -> [AuditRecord] {
        try pool.session { c in
            try c.run("SELECT id, at, source, action, detail FROM audit_log WHERE ($1::text IS NULL OR source = $1::text) ORDER BY id", [.text(source)]).rows.map { row in
                let r = row.makeRandomAccess()
                return AuditRecord(id: try r["id"].decode(Int64.self), at: try r["at"].decode(Int64.self), source: try r["source"].decode(String?.self),
                                   action: try r["action"].decode(String.self), detail: try r["detail"].decode(String.self))
            }
        }
    }

    // MARK: Quarantine

    public func quarantine(_ entries: [QuarantineEntry], quota: QuarantineQuota) throws {
        guard !entries.isEmpty else { return }
        try pool.transaction { c in
            for e in entries {
                try c.run(PostgresSchema.insertQuarantine, [.text(e.source), .text(e.provider), .text(e.reason), .int(e.receivedAt), .int(e.expiresAt),
                                                            .text(e.peer), .text(e.method), .text(e.path), .text(e.query),
                                                            .text(SQLiteEventStore.encodeHeaders(e.headers)), .bytes(e.body)])
            }
            for group in Set(entries.map { QuarantineGroup(source: $0.source, reason: $0.reason) }) {
                try c.run(PostgresSchema.trimQuarantineGroup, [.text(group.source), .text(group.reason), .int(Int64(quota.perSourceReason))])
            }
            try c.run(PostgresSchema.trimQuarantine, [.int(Int64(quota.total))])
        }
    }

    public func quarantined(matching filter: QuarantineFilter, before cursor: Int64?, limit: Int) throws -> [QuarantineEntry] {
        try pool.session { c in
            try c.run(PostgresSchema.listQuarantine, [.text(filter.source), .text(filter.reason), .int(cursor), .int(Int64(limit))]).rows.map { row in
                let r = row.makeRandomAccess()
                var e = try Self.decodeQuarantine(r, body: [])
                e.bodyBytes = try r["body_bytes"].decode(Int.self)
                return e
            }
        }
    }

    public func quarantined(id: Int64) throws -> QuarantineEntry? {
        try pool.session { c in
            try c.run("SELECT \(PostgresSchema.quarantineColumns), body FROM quarantine WHERE id = $1", [.int(id)]).rows.first.map { row in
                let r = row.makeRandomAccess()
                return try Self.decodeQuarantine(r, body: Array(buffer: try r["body"].decode(ByteBuffer.self)))
            }
        }
    }

    public func removeQuarantined(id: Int64) throws -> Bool {
        try pool.session { c in try c.run("DELETE FROM quarantine WHERE id = $1", [.int(id)]).metadata.rows == 1 }
    }

    public func quarantineSize() throws -> Int {
        try pool.session { c in try c.count("SELECT COUNT(*) AS n FROM quarantine") }
    }

    public func expiredQuarantine(now: EpochMillis) throws -> Int {
        try pool.session { c in try c.count(PostgresSchema.countExpiredQuarantine, [.int(now)]) }
    }

    public func pruneQuarantine(expiredBy now: EpochMillis, limit: Int) throws -> Int {
        try pool.session { c in try c.run(PostgresSchema.pruneQuarantine, [.int(now), .int(Int64(limit))]).metadata.rows ?? 0 }
    }

    /// Each table's columns (migration bookkeeping aside), in the store's schema.
    public func tableColumns() throws -> [String: [String]] {
        try pool.session { c in
            var out: [String: [String]] = [:]
            for row in try c.run("""
                SELECT table_name::text AS t, column_name::text AS c FROM information_schema.columns
                WHERE table_schema = current_schema() AND table_name <> 'inlet_migrations'
                """).rows {
                let r = row.makeRandomAccess()
                out[try r["t"].decode(String.self), default: []].append(try r["c"].decode(String.self))
            }
            return out.mapValues { $0.sorted() }
        }
    }

    // MARK: Wake-ups

    /// Listens for new queue rows (from any instance) and calls `wake` for each announcement, reconnecting after a
    /// lost connection, until the returned task is cancelled. Workers still poll as a safety net.
    public func listenForQueueChanges(wake: @escaping @Sendable () -> Void) -> Task<Void, Never> {
        listen(on: notificationChannel, wake: wake)
    }

    /// Listens for stream appends from any instance, like `listenForQueueChanges`.
    public func listenForStreamAppends(wake: @escaping @Sendable () -> Void) -> Task<Void, Never> {
        listen(on: streamNotificationChannel, wake: wake)
    }

    private func listen(on channel: String, wake: @escaping @Sendable () -> Void) -> Task<Void, Never> {
        let settings = self.settings, logger = self.logger
        return Task {
            var backoff: Duration = .milliseconds(200)
            while !Task.isCancelled {
                do {
                    let connection = try await PostgresConnection.connect(configuration: settings.connectionConfiguration, id: 0, logger: logger)
                    backoff = .milliseconds(200)
                    do {
                        try await withTaskCancellationHandler {
                            try await connection.listen(on: channel) { notifications in
                                // Listening now: whatever was queued before is found by the claim round this wake starts.
                                wake()
                                for try await _ in notifications { wake() }
                            }
                        } onCancel: {
                            connection.close().whenComplete { _ in }
                        }
                    } catch {
                        // Closed on every path: a connection released unclosed trips postgres-nio's assertion (a
                        // debug build stopped when the database reset its connections).
                        try? await connection.close()
                        throw error
                    }
                    try? await connection.close()
                } catch {
                    if Task.isCancelled { return }
                    logger.warning("queue notifications unavailable; polling meanwhile", metadata: ["error": "\(String(reflecting: error))"])
                    try? await Task.sleep(for: backoff)
                    backoff = min(backoff * 2, .seconds(10))
                }
            }
        }
    }

    // MARK: Decoding

    static func decodeEvent(_ r: PostgresRandomAccessRow) throws -> StoredEvent {
        StoredEvent(id: try r["id"].decode(String.self), source: try r["source"].decode(String.self), provider: try r["provider"].decode(String.self),
                    eventKey: try r["event_key"].decode(String.self), keyOrigin: try r["key_origin"].decode(String.self),
                    eventType: try r["event_type"].decode(String?.self), receivedAt: try r["received_at"].decode(Int64.self),
                    providerTimestamp: try r["provider_timestamp"].decode(Int64?.self), peer: try r["peer"].decode(String?.self),
                    clientAddress: try r["client_address"].decode(String?.self), method: try r["method"].decode(String.self),
                    path: try r["path"].decode(String.self), query: try r["query"].decode(String?.self),
                    headers: SQLiteEventStore.decodeHeaders(try r["headers"].decode(String.self)), contentType: try r["content_type"].decode(String?.self),
                    body: Array(buffer: try r["body"].decode(ByteBuffer.self)), secretLabel: try r["secret_label"].decode(String?.self),
                    duplicates: try r["duplicates"].decode(Int.self), unrouted: try r["unrouted"].decode(Bool.self),
                    authenticity: try r["authenticity"].decode(String?.self), batchID: try r["batch_id"].decode(String?.self),
                    batchIndex: try r["batch_index"].decode(Int?.self))
    }

    static func decodeQuarantine(_ r: PostgresRandomAccessRow, body: [UInt8]) throws -> QuarantineEntry {
        QuarantineEntry(id: try r["id"].decode(Int64.self), source: try r["source"].decode(String.self), provider: try r["provider"].decode(String.self),
                        reason: try r["reason"].decode(String.self), receivedAt: try r["received_at"].decode(Int64.self),
                        expiresAt: try r["expires_at"].decode(Int64.self), peer: try r["peer"].decode(String?.self), method: try r["method"].decode(String.self),
                        path: try r["path"].decode(String.self), query: try r["query"].decode(String?.self),
                        headers: SQLiteEventStore.decodeHeaders(try r["headers"].decode(String.self)), body: body)
    }
}

/// Where the PostgreSQL store lives, from a `postgres://user:password@host:port/database?schema=NAME&sslmode=disable`
/// URL. `schema` (optional) keeps Inlet's tables in their own schema; `connections` sizes the pool.
public struct PostgresSettings: Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var schema: String?
    public var connections: Int
    /// How long a statement (or the start-up of a connection) may go unanswered before its connection is given up:
    /// a partitioned network stops the bytes without closing anything. Generous, so slow statements are not cut.
    public var queryTimeout: TimeAmount = .seconds(30)

    public init(url: String, connections: Int = 8) throws(StoreError) {
        guard let u = URLComponents(string: url), ["postgres", "postgresql"].contains(u.scheme ?? ""), let host = u.host, !host.isEmpty else {
            throw StoreError.unavailable("not a postgres:// URL (postgres://user:password@host:5432/database)")
        }
        self.host = host
        port = u.port ?? 5432
        username = u.user?.removingPercentEncoding ?? "postgres"
        password = u.password?.removingPercentEncoding
        database = String(u.path.drop { $0 == "/" }).removingPercentEncoding ?? ""
        if database.isEmpty { database = username }
        schema = u.queryItems?.first { $0.name == "schema" }?.value
        if let s = schema, s.isEmpty || !s.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) {
            throw StoreError.unavailable("schema must be letters, digits and _")
        }
        if let mode = u.queryItems?.first(where: { $0.name == "sslmode" })?.value, mode != "disable" {
            throw StoreError.unavailable("sslmode=\(mode) is not supported yet: use sslmode=disable on a trusted network, or a local TLS proxy")
        }
        self.connections = max(1, connections)
    }

    /// The URL without its password, for logs and errors.
    public var description: String { "postgres://\(username)@\(host):\(port)/\(database)\(schema.map { "?schema=" + $0 } ?? "")" }

    var connectionConfiguration: PostgresConnection.Configuration {
        var c = PostgresConnection.Configuration(host: host, port: port, username: username, password: password, database: database, tls: .disable)
        c.options.connectTimeout = .seconds(3)
        if let schema { c.options.additionalStartupParameters = [("search_path", schema)] }
        return c
    }

    static func quoted(_ identifier: String) -> String { "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
}

/// A bound parameter.
enum PostgresValue: Sendable {
    case text(String?)
    case texts([String])
    case ints([Int64])
    case byteas([[UInt8]])
    case int(Int64?)
    case bool(Bool)
    case bytes([UInt8])
    case optionalBytes([UInt8]?)
}

/// A small blocking pool: callers are store threads that wait for their answer, so a fixed set of connections,
/// handed out one caller at a time, is all that is needed. A connection that broke is replaced on next use.
final class PostgresConnectionPool: Sendable {
    let settings: PostgresSettings
    let group: any EventLoopGroup
    let logger: Logger
    private let idle = NIOLockedValueBox<[PostgresConnection]>([])
    private let slots: DispatchSemaphore
    private let nextID = NIOLockedValueBox(1)

    init(settings: PostgresSettings, group: any EventLoopGroup, logger: Logger) {
        self.settings = settings
        self.group = group
        self.logger = logger
        slots = DispatchSemaphore(value: settings.connections)
    }

    /// One connection for the duration of `body`; statements run in autocommit mode.
    func session<T>(_ body: (Session) throws -> T) throws -> T {
        slots.wait()
        defer { slots.signal() }
        let connection = try checkOut()
        do {
            let result = try body(Session(connection: connection, logger: logger, timeout: settings.queryTimeout))
            idle.withLockedValue { $0.append(connection) }
            return result
        } catch {
            // A statement error leaves the connection usable; a broken connection is dropped.
            if error is ConnectionLost || connection.isClosed {
                let closing: EventLoopFuture<Void> = connection.close()
                _ = closing
            } else {
                idle.withLockedValue { $0.append(connection) }
            }
            if error is StreamStoreError { throw error }
            throw Self.storeError(error, settings)
        }
    }

    /// `body` in one transaction: committed when it returns, rolled back when it throws.
    func transaction<T>(_ body: (Session) throws -> T) throws -> T {
        try session { s in
            try s.run("BEGIN")
            do {
                let result = try body(s)
                try s.run("COMMIT")
                return result
            } catch {
                // A lost connection has nothing to roll back (the server does it), and a statement sent to it now
                // would never be answered. If the rollback cannot be sent, the connection is broken: session drops it.
                if error is ConnectionLost || s.connection.isClosed { throw error }
                do { try s.run("ROLLBACK") } catch { throw ConnectionLost(reason: "rollback failed: \(error)") }
                throw error
            }
        }
    }

    private func checkOut() throws -> PostgresConnection {
        while let c = idle.withLockedValue({ $0.popLast() }) {
            if !c.isClosed { return c }
        }
        let id = nextID.withLockedValue { n in defer { n += 1 }; return n }
        let connecting = PostgresConnection.connect(on: group.next(), configuration: settings.connectionConfiguration, id: id, logger: logger)
        do {
            // connectTimeout bounds the TCP connect only; the start-up exchange after it could wait forever on a
            // partitioned network. A connection that arrives after we gave up is closed.
            return try Self.wait(for: connecting, timeout: settings.queryTimeout, isClosed: nil) {
                connecting.whenSuccess { c in let closing: EventLoopFuture<Void> = c.close(); _ = closing }
            }
        } catch {
            throw Self.storeError(error, settings)
        }
    }

    /// The connection broke (or stopped answering) while a statement was outstanding: whether it took effect is
    /// unknown, and the connection is not used again.
    struct ConnectionLost: Error, CustomStringConvertible {
        let reason: String
        var description: String { "connection lost: \(reason)" }
    }

    /// Waits for `future` without trusting it to complete. postgres-nio writes a statement to its channel without a
    /// write promise, so a statement sent on a connection that has just closed is dropped and its future never
    /// completes. That happened here with a ROLLBACK after PostgreSQL became unreachable: the caller (the group
    /// committer) waited forever holding its pool slot, and ingress stopped answering. So the wait ends once the
    /// connection is closed (after a short grace, in which postgres-nio fails the statement itself with its own
    /// error), or after `timeout`, when bytes stopped flowing (a partition), and then `onTimeout` runs.
    static func wait<T: Sendable>(for future: EventLoopFuture<T>, timeout: TimeAmount, isClosed: (() -> Bool)?,
                        onTimeout: () -> Void) throws -> T {
        let done = DispatchSemaphore(value: 0)
        future.whenComplete { _ in done.signal() }
        let deadline = NIODeadline.now() + timeout
        var closedAt: NIODeadline?
        while done.wait(timeout: .now() + .milliseconds(100)) == .timedOut {
            let now = NIODeadline.now()
            if isClosed?() == true {
                if closedAt == nil { closedAt = now }
                if now - closedAt! >= .milliseconds(200) { throw ConnectionLost(reason: "closed before PostgreSQL answered") }
            } else if now >= deadline {
                onTimeout()
                throw ConnectionLost(reason: "no answer from PostgreSQL within \(timeout.nanoseconds / 1_000_000_000) s")
            }
        }
        return try future.wait()
    }

    /// Closes the idle connections (waiting for them unless called on an event loop, where waiting is not allowed).
    func close() {
        for c in idle.withLockedValue({ l in defer { l = [] }; return l }) {
            if MultiThreadedEventLoopGroup.currentEventLoop == nil { _ = try? c.close().wait() } else { let closing: EventLoopFuture<Void> = c.close(); _ = closing }
        }
    }

    static func storeError(_ error: Error, _ settings: PostgresSettings) -> StoreError {
        if let e = error as? StoreError { return e }
        if let p = error as? PSQLError {
            let message = p.serverInfo?[.message] ?? "\(p.code)"
            return .unavailable("PostgreSQL \(settings): \(message)")
        }
        return .unavailable("PostgreSQL \(settings): \(error)")
    }

    struct Session {
        let connection: PostgresConnection
        let logger: Logger
        let timeout: TimeAmount

        @discardableResult
        func run(_ sql: String, _ values: [PostgresValue] = []) throws -> PostgresQueryResult {
            var binds = PostgresBindings(capacity: values.count)
            for v in values {
                switch v {
                case .text(let s): binds.append(s)
                case .texts(let a): binds.append(a)
                case .ints(let a): binds.append(a)
                case .byteas(let a): binds.append(a.map { ByteBuffer(bytes: $0) })
                case .int(let i): binds.append(i)
                case .bool(let b): binds.append(b)
                case .bytes(let b): binds.append(ByteBuffer(bytes: b))
                case .optionalBytes(let b): binds.append(b.map { ByteBuffer(bytes: $0) })
                }
            }
            let connection = self.connection
            return try PostgresConnectionPool.wait(for: connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger),
                                                   timeout: timeout, isClosed: { connection.isClosed }) {
                let closing: EventLoopFuture<Void> = connection.close()
                _ = closing
            }
        }

        func count(_ sql: String, _ values: [PostgresValue] = []) throws -> Int {
            try run(sql, values).rows.first.map { try $0.makeRandomAccess()["n"].decode(Int.self) } ?? 0
        }
    }
}
