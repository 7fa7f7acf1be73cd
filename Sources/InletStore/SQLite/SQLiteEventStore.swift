import Foundation
import GRDB
import InletCore

/// The embedded store: one SQLite file in WAL mode, written through GRDB.
///
/// Durability: with `.fsync` every committed batch is fsynced before `ingest` returns (`synchronous=FULL`);
/// group commit amortizes that fsync over every request that arrived while the previous one ran.
public final class SQLiteEventStore: EventStore {
    private let pool: DatabasePool
    private let lockFD: Int32?
    private let durability: StoreDurability
    /// The writer connection's `synchronous` level (every write goes through the pool's one writer connection).
    private let writerSynchronous: WriterSynchronous
    /// The WAL's size after each commit, and when the writer checkpoints it (see `WALCheckpointSchedule`).
    let walWatch: WALCheckpointWatch
    public let path: String

    /// Opens (creating if needed) the database at `path` and applies migrations.
    /// With `exclusive`, an advisory lock on `<path>.lock` ensures one gateway process per file: the queue's
    /// crash recovery (`releaseAllClaims`) relies on it.
    /// - walCheckpointFrames: the WAL size (in pages) past which the writer checkpoints between batches.
    public init(path: String, durability: StoreDurability = .fsync, exclusive: Bool = true,
                walCheckpointFrames: Int = WALCheckpointSchedule.defaultThresholdFrames) throws {
        self.path = path
        self.durability = durability
        try Self.prepareOwnerOnlyFiles(path)
        if exclusive {
            let fd = open(path + ".lock", O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw StoreError.unavailable("cannot open \(path).lock: \(String(cString: strerror(errno)))") }
            _ = fchmod(fd, 0o600)
            guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
                close(fd)
                throw StoreError.locked(path)
            }
            // The lock file names the process holding it, so `inlet reload` knows whom to signal.
            let pid = Array("\(getpid())\n".utf8)
            _ = ftruncate(fd, 0)
            _ = pid.withUnsafeBufferPointer { pwrite(fd, $0.baseAddress, $0.count, 0) }
            lockFD = fd
        } else {
            lockFD = nil
        }
        var config = Configuration()
        config.busyMode = .timeout(10)
        let sync = durability == .fsync ? "FULL" : "NORMAL"
        writerSynchronous = WriterSynchronous(level: sync)
        let walWatch = WALCheckpointWatch(thresholdFrames: walCheckpointFrames)
        self.walWatch = walWatch
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(sync)")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
            // No checkpoint inside a commit: only readers' connections never commit, and the writer's checkpoints run
            // between batches, after their acks (`checkpointIfDue`).
            if let connection = db.sqliteConnection { walWatch.install(on: connection) }
        }
        do {
            pool = try DatabasePool(path: path, configuration: config)
            var migrator = DatabaseMigrator()
            for m in SQLiteSchema.migrations {
                migrator.registerMigration(m.name) { db in try db.execute(sql: m.sql) }
            }
            try migrator.migrate(pool)
        } catch {
            if let fd = lockFD { close(fd) }
            throw StoreError.unavailable("cannot open \(path): \(Self.describe(error))")
        }
    }

    /// The store holds every payload received, so only its owner may read it: a missing data directory is created 0700,
    /// and the database is created (or, if it exists with broader modes, tightened to) 0600 before SQLite opens it.
    /// SQLite gives the WAL and shared-memory files the database file's mode, and the lock file is opened 0600 too;
    /// existing ones are tightened as well. An existing directory is left as it is: it may be shared (`/var/lib`, a
    /// mounted volume) and is the operator's to set.
    static func prepareOwnerOnlyFiles(_ path: String) throws {
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty && !FileManager.default.fileExists(atPath: dir) {
            do {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw StoreError.unavailable("cannot create \(dir): \(error.localizedDescription)")
            }
            _ = chmod(dir, 0o700)
        }
        if !FileManager.default.fileExists(atPath: path) {
            // An empty file is a new database to SQLite; creating it here is what fixes its mode from the start.
            let fd = open(path, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0o600)
            guard fd >= 0 || errno == EEXIST else { throw StoreError.unavailable("cannot create \(path): \(String(cString: strerror(errno)))") }
            if fd >= 0 { close(fd) }
        }
        // Tightening fails only on a file someone else owns; SQLite then reports what it cannot do.
        for file in [path, path + "-wal", path + "-shm", path + ".lock"] where FileManager.default.fileExists(atPath: file) {
            _ = chmod(file, 0o600)
        }
    }

    deinit {
        try? pool.close()
        if let fd = lockFD { close(fd) }
    }

    static func describe(_ error: Error) -> String {
        if let e = error as? DatabaseError { return "SQLite error \(e.resultCode.rawValue): \(e.message ?? "")" }
        return "\(error)"
    }

    func write<T>(_ body: (Database) throws -> T) throws -> T {
        try transaction(synchronous: durability == .fsync ? "FULL" : "NORMAL", body)
    }

    /// A transaction committed without waiting for the disk, for bookkeeping whose loss at a power cut costs at most
    /// a repeated delivery (claims, attempt records), never an acknowledged event: WAL frames reach the disk in order,
    /// so the next durable commit's fsync covers it too. This keeps forwarding from paying an fsync per claim.
    func unsyncedWrite<T>(_ body: (Database) throws -> T) throws -> T {
        try transaction(synchronous: "NORMAL", body)
    }

    /// One IMMEDIATE transaction at the given `synchronous` level, checked before every transaction so that no earlier
    /// unsynced one can leave the connection lax for a durable one. The pragma runs only when the level changes: a
    /// PRAGMA is parsed anew each time, and ingest alone (the hot path) never changes it.
    private func transaction<T>(synchronous: String, _ body: (Database) throws -> T) throws -> T {
        do {
            return try pool.writeWithoutTransaction { db in
                if writerSynchronous.level != synchronous {
                    // Forgotten first: if the pragma fails, the next transaction sets it again.
                    writerSynchronous.level = nil
                    try db.execute(sql: "PRAGMA synchronous = \(synchronous)")
                    writerSynchronous.level = synchronous
                }
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(db)
                    return .commit
                }
                return result!
            }
        } catch let e as StoreError { throw e } catch let e as StreamStoreError { throw e } catch {
            throw StoreError.unavailable(Self.describe(error))
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try pool.read(body) } catch {
            throw StoreError.unavailable(Self.describe(error))
        }
    }

    public func ingest(_ batch: [IngestRecord]) throws -> [IngestResult] {
        guard !batch.isEmpty else { return [] }
        return try write { db in
            var writer = try SQLiteIngestWriter(db)
            var results: [IngestResult] = []
            results.reserveCapacity(batch.count)
            for r in batch { results.append(try writer.apply(r)) }
            return results
        }
    }

    /// Runs a PASSIVE checkpoint when the WAL has grown past its size; called by the ingest committer between batches,
    /// after the last batch's acks. PASSIVE never waits for readers or blocks them: what a reader still needs stays in
    /// the WAL for the next one.
    public func checkpointIfDue() throws {
        guard walWatch.isDue else { return }
        do {
            try pool.writeWithoutTransaction { db in
                let result = try db.checkpoint(.passive)
                walWatch.checkpointed(walFrames: result.walFrameCount, checkpointed: result.checkpointedFrameCount)
            }
        } catch {
            throw StoreError.unavailable(Self.describe(error))
        }
    }

    public func claimDue(now: EpochMillis, limit: Int, leaseMillis: Int64, destination: String?) throws -> [ClaimedDelivery] {
        try unsyncedWrite { db in
            // Both statements are prepared once per connection and their rows read by position: this runs for every
            // delivery, and parsing the SQL anew and finding columns by name were a fifth of its cost.
            let claim = try db.cachedStatement(sql: SQLiteSchema.claimDue)
            var claimed: [(id: Int64, eventID: String, destination: String, attempts: Int, createdAt: EpochMillis, replay: Bool)] = []
            let rows = try Row.fetchCursor(claim, arguments: [now + leaseMillis, now, destination, limit])
            while let row = try rows.next() { claimed.append((row[0], row[1], row[2], row[3], row[4], row[5])) }
            guard !claimed.isEmpty else { return [] }
            let events = try Self.events(db, ids: claimed.map(\.eventID))
            return claimed.compactMap { c -> ClaimedDelivery? in
                guard let e = events[c.eventID] else { return nil }
                return ClaimedDelivery(deliveryID: c.id, destination: c.destination, attemptsMade: c.attempts, createdAt: c.createdAt, event: e,
                                       isReplay: c.replay)
            }.sorted { $0.deliveryID < $1.deliveryID }
        }
    }

    public func complete(_ completions: [DeliveryCompletion], now: EpochMillis) throws {
        guard !completions.isEmpty else { return }
        try unsyncedWrite { db in
            let insertAttempt = try db.cachedStatement(sql: SQLiteSchema.insertAttempt)
            for c in completions {
                let a = c.attempt
                // One switch that yields both the row's next state and its retry time: Swift 6.3.1's release
                // optimizer crashed (CopyPropagation ownership error) on a second pattern match over `c.next` here.
                let nextAt: EpochMillis?, mark: Statement, markArguments: StatementArguments
                switch c.next {
                case .delivered:
                    nextAt = nil
                    mark = try db.cachedStatement(sql: SQLiteSchema.markDelivered)
                    markArguments = [a.attempt, a.statusCode, now, now, a.deliveryID]
                case .retry(let at):
                    nextAt = at
                    mark = try db.cachedStatement(sql: SQLiteSchema.markRetry)
                    markArguments = [a.attempt, at, a.statusCode, a.error, now, a.deliveryID]
                case .dead:
                    nextAt = nil
                    mark = try db.cachedStatement(sql: SQLiteSchema.markDead)
                    markArguments = [a.attempt, a.statusCode, a.error, now, a.deliveryID]
                }
                try insertAttempt.execute(arguments: [a.deliveryID, a.attempt, a.startedAt, a.durationMillis, a.statusCode, a.error,
                                                      a.responseSnippet.map { Data($0) }, nextAt])
                try mark.execute(arguments: markArguments)
            }
        }
    }

    public func nextDueAt() throws -> EpochMillis? {
        try read { db in try EpochMillis.fetchOne(db, sql: SQLiteSchema.nextDue) }
    }

    public func releaseAllClaims(now: EpochMillis) throws {
        try write { db in try db.execute(sql: SQLiteSchema.releaseClaims, arguments: [now]) }
    }

    public func pruneIdempotencyKeys(lastSeenBefore cutoff: EpochMillis, limit: Int) throws -> Int {
        try write { db in
            try db.execute(sql: SQLiteSchema.pruneIdempotency, arguments: [cutoff, limit])
            return db.changesCount
        }
    }

    public func pruneEvents(receivedBefore cutoff: EpochMillis, limit: Int) throws -> Int {
        try write { db in
            let ids = try String.fetchAll(db, sql: SQLiteSchema.prunableEvents, arguments: [cutoff, limit])
            guard !ids.isEmpty else { return 0 }
            let marks = Array(repeating: "?", count: ids.count).joined(separator: ",")
            try db.execute(sql: "DELETE FROM events WHERE id IN (\(marks))", arguments: StatementArguments(ids))
            let pruned = db.changesCount
            try db.execute(sql: SQLiteSchema.pruneBatches, arguments: [cutoff])
            return pruned
        }
    }

    public func batch(id: String) throws -> StoredBatch? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT id, source, received_at, items, body FROM batches WHERE id = ?", arguments: [id]).map { r in
                StoredBatch(id: r["id"], source: r["source"], receivedAt: r["received_at"], items: r["items"], body: Array((r["body"] as Data?) ?? Data()))
            }
        }
    }

    public func prunable(eventsBefore: EpochMillis, idempotencyKeysBefore: EpochMillis) throws -> (events: Int, idempotencyKeys: Int) {
        try read { db in
            (try Int.fetchOne(db, sql: SQLiteSchema.countPrunableEvents, arguments: [eventsBefore]) ?? 0,
             try Int.fetchOne(db, sql: SQLiteSchema.countPrunableIdempotency, arguments: [idempotencyKeysBefore]) ?? 0)
        }
    }

    public func event(id: String) throws -> StoredEvent? {
        try read { db in
            try Self.events(db, ids: [id])[id]
        }
    }

    public func deliveries(eventID: String) throws -> [DeliveryRecord] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT id, event_id, destination, state, attempts, next_attempt_at, last_status, last_error, delivered_at FROM deliveries WHERE event_id = ? ORDER BY id", arguments: [eventID]).map { row in
                DeliveryRecord(id: row["id"], eventID: row["event_id"], destination: row["destination"],
                               state: DeliveryState(rawValue: row["state"]) ?? .pending, attempts: row["attempts"],
                               nextAttemptAt: row["next_attempt_at"], lastStatus: row["last_status"], lastError: row["last_error"],
                               deliveredAt: row["delivered_at"])
            }
        }
    }

    public func attempts(deliveryID: Int64) throws -> [AttemptRecord] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM attempts WHERE delivery_id = ? ORDER BY attempt", arguments: [deliveryID]).map { row in
                AttemptRecord(deliveryID: row["delivery_id"], attempt: row["attempt"], startedAt: row["started_at"],
                              durationMillis: row["duration_ms"], statusCode: row["status_code"], error: row["error"],
                              responseSnippet: (row["response_snippet"] as Data?).map { Array($0) }, nextAttemptAt: row["next_attempt_at"])
            }
        }
    }

    public func counts() throws -> StoreCounts {
        try read { db in
            let events = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM events") ?? 0
            var byState: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM deliveries GROUP BY state") {
                byState[row["state"]] = row["n"]
            }
            let quarantined = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM quarantine") ?? 0
            return StoreCounts(events: events, pending: byState["pending"] ?? 0, delivered: byState["delivered"] ?? 0, dead: byState["dead"] ?? 0,
                               quarantined: quarantined)
        }
    }

    public func secretUsage(since: EpochMillis) throws -> [SecretUsage] {
        try read { db in
            try Row.fetchAll(db, sql: SQLiteSchema.secretUsage, arguments: [since]).map { row in
                SecretUsage(source: row["source"], secretLabel: row["secret_label"], lastVerifiedAt: row["last_at"], verifiedSince: row["recent"])
            }
        }
    }

    public func replay(eventID: String, destinations: [String], now: EpochMillis) throws -> [Int64]? {
        try write { db in
            guard try Int.fetchOne(db, sql: "SELECT 1 FROM events WHERE id = ?", arguments: [eventID]) != nil else { return nil }
            var ids: [Int64] = []
            for d in destinations {
                try db.execute(sql: SQLiteSchema.insertReplay, arguments: [eventID, d, now, now, now])
                ids.append(db.lastInsertedRowID)
            }
            return ids
        }
    }

    public func events(matching f: EventFilter, before cursor: String?, limit: Int) throws -> [StoredEvent] {
        try read { db in
            try Row.fetchAll(db, sql: SQLiteSchema.listEvents,
                             arguments: StatementArguments(Self.filterArguments(f) + [cursor, limit])).map(Self.decodeEvent)
        }
    }

    public func deadLetters(destination: String?, after cursor: Int64, limit: Int) throws -> [DeadLetter] {
        try read { db in
            try Row.fetchAll(db, sql: SQLiteSchema.deadLetters, arguments: [destination, cursor, limit]).map { row in
                DeadLetter(deliveryID: row["id"], eventID: row["event_id"], destination: row["destination"], source: row["source"],
                           eventType: row["event_type"], attempts: row["attempts"], lastStatus: row["last_status"], lastError: row["last_error"],
                           deadAt: row["updated_at"], isReplay: row["replay"])
            }
        }
    }

    public func redeliver(deliveryID: Int64, now: EpochMillis) throws -> Bool {
        try write { db in
            try db.execute(sql: SQLiteSchema.redeliver, arguments: [now, deliveryID])
            return db.changesCount == 1
        }
    }

    public func discard(deliveryID: Int64) throws -> Bool {
        try write { db in
            try db.execute(sql: SQLiteSchema.discardDeadLetter, arguments: [deliveryID])
            return db.changesCount == 1
        }
    }

    public func pendingByDestination() throws -> [String: (count: Int, oldestCreatedAt: EpochMillis)] {
        try read { db in
            var out: [String: (count: Int, oldestCreatedAt: EpochMillis)] = [:]
            for row in try Row.fetchAll(db, sql: SQLiteSchema.pendingByDestination) { out[row["destination"]] = (row["n"], row["oldest"]) }
            return out
        }
    }

    public func queueGauges(now: EpochMillis) throws -> [String: QueueGauge] {
        try read { db in
            var out: [String: QueueGauge] = [:]
            for row in try Row.fetchAll(db, sql: SQLiteSchema.pendingGauges, arguments: [now]) {
                out[row["destination"]] = QueueGauge(pending: row["pending"], oldestDueAt: row["oldest_due"], dead: 0)
            }
            for row in try Row.fetchAll(db, sql: SQLiteSchema.deadGauges) {
                out[row["destination"], default: QueueGauge(pending: 0, oldestDueAt: nil, dead: 0)].dead = row["dead"]
            }
            return out
        }
    }

    private static func filterArguments(_ f: EventFilter) -> [DatabaseValueConvertible?] {
        [f.source, f.eventType, f.eventKey, f.receivedFrom, f.receivedUntil, f.unroutedOnly ? 1 : 0, f.status?.rawValue]
    }

    public func eventCounts(from: EpochMillis, until: EpochMillis, stepMillis: Int64) throws -> [EventCount] {
        guard stepMillis > 0, until > from else { return [] }
        return try read { db in
            try Row.fetchAll(db, sql: SQLiteSchema.eventCounts, arguments: [from, until, stepMillis]).map {
                EventCount(source: $0["source"], bucket: $0["bucket"], count: $0["n"])
            }
        }
    }

    public func countEvents(matching filter: EventFilter) throws -> Int {
        try read { db in try Int.fetchOne(db, sql: SQLiteSchema.countEvents, arguments: StatementArguments(Self.filterArguments(filter))) ?? 0 }
    }

    public func events(matching filter: EventFilter, after cursor: String?, limit: Int) throws -> [StoredEvent] {
        try read { db in
            try Row.fetchAll(db, sql: SQLiteSchema.listEventsAscending,
                             arguments: StatementArguments(Self.filterArguments(filter) + [cursor, limit])).map(Self.decodeEvent)
        }
    }

    public func eventIDs(matching filter: EventFilter, after cursor: String?, limit: Int) throws -> [String] {
        try read { db in
            try String.fetchAll(db, sql: SQLiteSchema.listEventIDsAscending, arguments: StatementArguments(Self.filterArguments(filter) + [cursor, limit]))
        }
    }

    public func queueReplays(_ items: [ReplayItem], now: EpochMillis) throws -> Int {
        guard !items.isEmpty else { return 0 }
        return try write { db in
            let insert = try db.cachedStatement(sql: SQLiteSchema.insertReplayAt)
            var rows = 0
            for item in items {
                for d in item.destinations {
                    try insert.execute(arguments: [item.eventID, d, item.dueAt, now])
                    rows += 1
                }
            }
            return rows
        }
    }

    public func redeliverDeadLetters(destination: String?, source: String?, now: EpochMillis) throws -> Int {
        try write { db in
            try db.execute(sql: SQLiteSchema.redeliverMatching, arguments: [now, destination, source])
            return db.changesCount
        }
    }

    public func setPaused(_ paused: Bool, destination: String, now: EpochMillis) throws {
        try write { db in
            if paused {
                try db.execute(sql: "INSERT OR IGNORE INTO destination_pauses (destination, paused_at) VALUES (?, ?)", arguments: [destination, now])
            } else {
                try db.execute(sql: "DELETE FROM destination_pauses WHERE destination = ?", arguments: [destination])
            }
        }
    }

    public func pausedDestinations() throws -> Set<String> {
        try read { db in Set(try String.fetchAll(db, sql: "SELECT destination FROM destination_pauses")) }
    }

    // MARK: Handshake secrets

    public func establishSecret(_ s: HandshakeSecretRecord) throws -> Bool {
        try write { db in
            try db.execute(sql: SQLiteSchema.insertHandshakeSecret, arguments: [s.source, s.label, s.secret, s.handshake, s.establishedAt, s.peer])
            guard db.changesCount == 1 else { return false }
            try db.execute(sql: SQLiteSchema.insertAudit, arguments: [s.establishedAt, s.source, "secret_established", s.auditDetail])
            return true
        }
    }

    public func handshakeSecrets() throws -> [HandshakeSecretRecord] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT source, label, secret, handshake, established_at, peer FROM handshake_secrets ORDER BY source").map { r in
                HandshakeSecretRecord(source: r["source"], label: r["label"], secret: r["secret"], handshake: r["handshake"],
                                      establishedAt: r["established_at"], peer: r["peer"])
            }
        }
    }

    public func auditRecords(source: String?) throws -> [AuditRecord] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT id, at, source, action, detail FROM audit_log WHERE (?1 IS NULL OR source = ?1) ORDER BY id",
                             arguments: [source]).map { r in
                AuditRecord(id: r["id"], at: r["at"], source: r["source"], action: r["action"], detail: r["detail"])
            }
        }
    }

    public func quarantine(_ entries: [QuarantineEntry], quota: QuarantineQuota) throws {
        guard !entries.isEmpty else { return }
        try write { db in
            let insert = try db.cachedStatement(sql: SQLiteSchema.insertQuarantine)
            for e in entries {
                try insert.execute(arguments: [e.source, e.provider, e.reason, e.receivedAt, e.expiresAt, e.peer, e.method, e.path, e.query,
                                               Self.encodeHeaders(e.headers), Data(e.body)])
            }
            let trimGroup = try db.cachedStatement(sql: SQLiteSchema.trimQuarantineGroup)
            for group in Set(entries.map { QuarantineGroup(source: $0.source, reason: $0.reason) }) {
                try trimGroup.execute(arguments: [group.source, group.reason, quota.perSourceReason])
            }
            try db.execute(sql: SQLiteSchema.trimQuarantine, arguments: [quota.total])
        }
    }

    public func quarantined(matching filter: QuarantineFilter, before cursor: Int64?, limit: Int) throws -> [QuarantineEntry] {
        try read { db in
            try Row.fetchAll(db, sql: SQLiteSchema.listQuarantine, arguments: [filter.source, filter.reason, cursor, limit]).map { row in
                var e = Self.decodeQuarantine(row, body: [])
                e.bodyBytes = row["body_bytes"]
                return e
            }
        }
    }

    public func quarantined(id: Int64) throws -> QuarantineEntry? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT \(SQLiteSchema.quarantineColumns), body FROM quarantine WHERE id = ?", arguments: [id]).map {
                Self.decodeQuarantine($0, body: Array(($0["body"] as Data?) ?? Data()))
            }
        }
    }

    public func removeQuarantined(id: Int64) throws -> Bool {
        try write { db in
            try db.execute(sql: "DELETE FROM quarantine WHERE id = ?", arguments: [id])
            return db.changesCount == 1
        }
    }

    public func checkWritable(now: EpochMillis) throws {
        try write { db in try db.execute(sql: SQLiteSchema.touchHealth, arguments: [now]) }
    }

    public func expiredQuarantine(now: EpochMillis) throws -> Int {
        try read { db in try Int.fetchOne(db, sql: SQLiteSchema.countExpiredQuarantine, arguments: [now]) ?? 0 }
    }

    public func quarantineSize() throws -> Int {
        try read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM quarantine") ?? 0 }
    }

    public func pruneQuarantine(expiredBy now: EpochMillis, limit: Int) throws -> Int {
        try write { db in
            try db.execute(sql: SQLiteSchema.pruneQuarantine, arguments: [now, limit])
            return db.changesCount
        }
    }

    static func decodeQuarantine(_ row: Row, body: [UInt8]) -> QuarantineEntry {
        QuarantineEntry(id: row["id"], source: row["source"], provider: row["provider"], reason: row["reason"], receivedAt: row["received_at"],
                        expiresAt: row["expires_at"], peer: row["peer"], method: row["method"], path: row["path"], query: row["query"],
                        headers: decodeHeaders(row["headers"]), body: body)
    }

    /// Each table's columns (migration bookkeeping aside): what `StoreSchemaParityTests` compares with PostgreSQL.
    public func tableColumns() throws -> [String: [String]] {
        try read { db in
            var out: [String: [String]] = [:]
            for table in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'grdb_migrations'") {
                out[table] = try Row.fetchAll(db, sql: "PRAGMA table_info(\(table))").map { $0["name"] as String }.sorted()
            }
            return out
        }
    }

    /// Runs `PRAGMA integrity_check`; returns "ok" on a sound file.
    public func integrityCheck() throws -> String {
        try read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") ?? "" }
    }

    // Headers are kept as a JSON array of [name, value] pairs: order, duplicates and spelling preserved.
    static func encodeHeaders(_ headers: HTTPHeaderList) -> String {
        var out: [UInt8] = []
        encodeHeaders(headers, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// `encodeHeaders` into a caller's buffer (emptied first, its capacity kept): the ingest writer reuses one.
    static func encodeHeaders(_ headers: HTTPHeaderList, into out: inout [UInt8]) {
        out.removeAll(keepingCapacity: true)
        out.append(UInt8(ascii: "["))
        for (n, h) in headers.entries.enumerated() {
            if n > 0 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "["))
            JSONString.append(h.name, to: &out)
            out.append(UInt8(ascii: ","))
            JSONString.append(h.value, to: &out)
            out.append(UInt8(ascii: "]"))
        }
        out.append(UInt8(ascii: "]"))
    }

    /// Reads what `encodeHeaders` writes with the byte-level JSON scanner (this runs for every claimed delivery;
    /// Foundation's JSON parser cost more than the rest of the read); an unreadable value is an empty list.
    static func decodeHeaders(_ text: String) -> HTTPHeaderList { decodeHeaders(bytes: Array(text.utf8)) }

    static func decodeHeaders(bytes: [UInt8]) -> HTTPHeaderList {
        HTTPHeaderList(JSONScanner.stringPairs(bytes)?.map { (name: $0.0, value: $0.1) } ?? [])
    }

    /// An event row selected as `SQLiteSchema.eventColumns` (every caller selects those first, in that order), read by
    /// position: by name, GRDB lower-cases and compares every name, per column per row. One decoder for both readers:
    /// GRDB's rows (lists) and the C API's current step (claims, stream leases). A NULL where the schema forbids one
    /// reads as empty or zero: a damaged row is shown as it is rather than stopping the process.
    static func decodeEvent(_ row: some EventRowColumns) -> StoredEvent {
        StoredEvent(id: row.text(0) ?? "", source: row.text(1) ?? "", provider: row.text(2) ?? "", eventKey: row.text(3) ?? "",
                    keyOrigin: row.text(4) ?? "", eventType: row.text(5), receivedAt: row.int64(6) ?? 0, providerTimestamp: row.int64(7),
                    peer: row.text(8), clientAddress: row.text(9), method: row.text(10) ?? "", path: row.text(11) ?? "", query: row.text(12),
                    headers: decodeHeaders(bytes: row.bytes(13)), contentType: row.text(14), body: row.bytes(15),
                    secretLabel: row.text(16), duplicates: Int(truncatingIfNeeded: row.int64(17) ?? 0), unrouted: (row.int64(18) ?? 0) != 0,
                    authenticity: row.text(19), batchID: row.text(20), batchIndex: row.int64(21).map { Int(truncatingIfNeeded: $0) })
    }
}

/// A row's columns by position, as `SQLiteEventStore.decodeEvent` reads them.
protocol EventRowColumns {
    /// Text, or nil for NULL.
    func text(_ column: Int32) -> String?
    /// An integer, or nil for NULL.
    func int64(_ column: Int32) -> Int64?
    /// A blob's or a text's bytes; empty for NULL.
    func bytes(_ column: Int32) -> [UInt8]
}

extension RawStatement: EventRowColumns {}

extension Row: EventRowColumns {
    // Through `DatabaseValue`, which never traps: a typed subscript stops the process on a value of another type.
    func text(_ column: Int32) -> String? { String.fromDatabaseValue(self[Int(column)] as DatabaseValue) }
    func int64(_ column: Int32) -> Int64? { Int64.fromDatabaseValue(self[Int(column)] as DatabaseValue) }
    func bytes(_ column: Int32) -> [UInt8] {
        switch (self[Int(column)] as DatabaseValue).storage {
        case .blob(let data): return Array(data)
        case .string(let text): return Array(text.utf8)
        default: return []
        }
    }
}

/// The `synchronous` level the writer connection is at; read and set only inside the pool's serialized writer access,
/// which is what makes the unchecked `Sendable` sound.
final class WriterSynchronous: @unchecked Sendable {
    var level: String?
    init(level: String) { self.level = level }
}

/// Mirrors `Durability` from the config without making the store depend on it.
public enum StoreDurability: Sendable {
    case fsync, relaxed
}

extension SQLiteEventStore {
    /// The PID of the gateway holding the store at `path`, or nil when no process holds it.
    public static func holderPID(ofStoreAt path: String) -> Int32? {
        let fd = open(path + ".lock", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        // If we can take the lock, nobody holds it.
        if flock(fd, LOCK_SH | LOCK_NB) == 0 { flock(fd, LOCK_UN); return nil }
        var buf = [UInt8](repeating: 0, count: 32)
        let n = Glibc.read(fd, &buf, buf.count)
        guard n > 0 else { return nil }
        return Int32(String(decoding: buf[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
