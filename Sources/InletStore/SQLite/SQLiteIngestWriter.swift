import GRDB
import GRDBSQLite
import InletCore

/// Writes one ingest batch on the store's writer connection with SQLite's C API: the hot path of every acknowledged
/// event, so its statements are prepared once per connection (GRDB's statement cache) and bound straight from the
/// records' buffers, without GRDB's `StatementArguments` (an existential and a `DatabaseValue` per column per row) or
/// a copy of the body.
///
/// Idempotency: `INSERT … ON CONFLICT DO NOTHING` on the key, then `sqlite3_changes()`. A new key (one row changed)
/// stores the event and its queue rows; only a repeated key (no row changed) takes the duplicate path, which counts
/// the arrival on the key and on the holding event and reads the holder's ID for the answer. (`DO UPDATE … RETURNING`
/// for every record made SQLite open and free a statement journal per new key.)
struct SQLiteIngestWriter {
    private let db: Database
    private let claimKey: RawStatement
    private let countDuplicateKey: RawStatement
    private let countDuplicateEvent: RawStatement
    private let insertEvent: RawStatement
    private let insertDelivery: RawStatement
    private let insertBatch: RawStatement
    /// Prepared on the first record routed to a stream.
    private var streamStatements: (next: RawStatement, insert: RawStatement)?
    /// The headers' JSON is built here, in one buffer reused across the batch.
    private var headerJSON: [UInt8] = []

    /// Must be made inside a write transaction on `db`, and used only inside it.
    init(_ db: Database) throws {
        self.db = db
        claimKey = RawStatement(try db.cachedStatement(sql: SQLiteSchema.claimIdempotencyKey))
        countDuplicateKey = RawStatement(try db.cachedStatement(sql: SQLiteSchema.countDuplicateKey))
        countDuplicateEvent = RawStatement(try db.cachedStatement(sql: SQLiteSchema.countDuplicate))
        insertEvent = RawStatement(try db.cachedStatement(sql: SQLiteSchema.insertEvent))
        insertDelivery = RawStatement(try db.cachedStatement(sql: SQLiteSchema.insertDelivery))
        insertBatch = RawStatement(try db.cachedStatement(sql: SQLiteSchema.insertBatch))
        headerJSON.reserveCapacity(2048)
    }

    /// Applies one record: records in a batch are applied in arrival order, so two copies of an event in the same
    /// batch resolve exactly as two copies in two batches (the first is accepted, the second is a duplicate).
    mutating func apply(_ r: IngestRecord) throws -> IngestResult {
        try claimKey.reset()
        try claimKey.bind(1, r.source)
        try claimKey.bind(2, r.eventKey)
        try claimKey.bind(3, r.id)
        try claimKey.bind(4, r.receivedAt)
        try claimKey.bind(5, r.receivedAt)
        try claimKey.run(db)
        guard db.changesCount == 1 else { return .duplicate(id: try countDuplicate(r)) }

        SQLiteEventStore.encodeHeaders(r.headers, into: &headerJSON)
        let s = insertEvent
        try s.reset()
        try s.bind(1, r.id)
        try s.bind(2, r.source)
        try s.bind(3, r.provider)
        try s.bind(4, r.eventKey)
        try s.bind(5, r.keyOrigin.rawValue)
        try s.bind(6, r.eventType)
        try s.bind(7, r.receivedAt)
        try s.bind(8, r.providerTimestamp)
        try s.bind(9, r.peer)
        try s.bind(10, r.clientAddress)
        try s.bind(11, r.method)
        try s.bind(12, r.path)
        try s.bind(13, r.query)
        try s.bind(15, r.headers.first("Content-Type"))
        try s.bind(17, r.secretLabel)
        try s.bind(18, r.isUnrouted ? 1 : 0)
        try s.bind(19, r.authenticity.rawValue)
        try s.bind(20, r.batch?.id)
        try s.bind(21, r.batch.map { Int64($0.index) })
        // The headers' JSON and the body are bound without a copy: both outlive the step that reads them.
        try headerJSON.withUnsafeBytes { headers in
            try r.body.withUnsafeBytes { body in
                defer { s.clearBindings() }
                try s.bindTextNoCopy(14, headers)
                try s.bindBlobNoCopy(16, body)
                try s.run(db)
            }
        }
        if let batch = r.batch {
            // The first accepted item of a batch stores its request; the others find it there.
            let b = insertBatch
            try b.reset()
            try b.bind(1, batch.id)
            try b.bind(2, r.source)
            try b.bind(3, r.receivedAt)
            try b.bind(4, batch.count)
            try batch.body.withUnsafeBytes { body in
                defer { b.clearBindings() }
                try b.bindBlobNoCopy(5, body)
                try b.run(db)
            }
        }
        for d in r.destinations {
            let q = insertDelivery
            try q.reset()
            try q.bind(1, r.id)
            try q.bind(2, d)
            try q.bind(3, r.receivedAt)
            try q.bind(4, r.receivedAt)
            try q.bind(5, r.receivedAt)
            try q.bind(6, r.orderingKeys[d])
            try q.run(db)
        }
        if !r.streams.isEmpty { try append(r) }
        return .accepted(id: r.id)
    }

    /// Appends the event to each of its streams under the stream's next sequence, in this same transaction: the ack
    /// that follows the commit means the event is in its streams.
    private mutating func append(_ r: IngestRecord) throws {
        if streamStatements == nil {
            streamStatements = (RawStatement(try db.cachedStatement(sql: SQLiteSchema.nextStreamSequence)),
                                RawStatement(try db.cachedStatement(sql: SQLiteSchema.insertStreamEntry)))
        }
        let (next, insert) = streamStatements!
        for stream in r.streams {
            try next.reset()
            try next.bind(1, stream)
            guard let sequence = try next.fetchInt64(db) else { throw StoreError.unavailable("stream counter returned no row") }
            try insert.reset()
            try insert.bind(1, stream)
            try insert.bind(2, sequence)
            try insert.bind(3, r.id)
            try insert.bind(4, r.receivedAt)
            try insert.run(db)
        }
    }

    /// A repeated key: counts the arrival on the key (which keeps it from retention) and on the event holding it, and
    /// returns that event's ID.
    private func countDuplicate(_ r: IngestRecord) throws -> String {
        let k = countDuplicateKey
        try k.reset()
        try k.bind(1, r.receivedAt)
        try k.bind(2, r.source)
        try k.bind(3, r.eventKey)
        guard let holder = try k.fetchText(db) else {
            // The key was there a moment ago in this very transaction: only a corrupt file gets here.
            throw StoreError.unavailable("idempotency key vanished while counting a duplicate")
        }
        let e = countDuplicateEvent
        try e.reset()
        try e.bind(1, r.receivedAt)
        try e.bind(2, holder)
        try e.run(db)
        return holder
    }
}

/// A prepared statement driven through SQLite's C API. The GRDB `Statement` it comes from owns it (and finalizes it
/// with its connection); this only resets, binds and steps it, on the connection's queue.
struct RawStatement {
    let statement: Statement
    var handle: OpaquePointer { statement.sqliteStatement }

    init(_ statement: Statement) { self.statement = statement }

    /// Tells SQLite to copy a bound value: it must outlive the caller's buffer.
    private static let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

    func reset() throws {
        // A failed previous step is reported by reset again; it was already thrown then.
        _ = sqlite3_reset(handle)
    }

    func clearBindings() { _ = sqlite3_clear_bindings(handle) }

    func bind(_ index: Int32, _ value: String?) throws {
        guard var value else { return try check(sqlite3_bind_null(handle, index)) }
        // An explicit length keeps a NUL inside the text (an event key may hold one); an empty string is text, not NULL.
        let rc = value.withUTF8 { utf8 -> Int32 in
            guard let base = utf8.baseAddress, !utf8.isEmpty else { return sqlite3_bind_text(handle, index, "", 0, Self.transient) }
            return base.withMemoryRebound(to: CChar.self, capacity: utf8.count) {
                sqlite3_bind_text(handle, index, $0, Int32(utf8.count), Self.transient)
            }
        }
        try check(rc)
    }

    func bind(_ index: Int32, _ value: Int64?) throws {
        guard let value else { return try check(sqlite3_bind_null(handle, index)) }
        try check(sqlite3_bind_int64(handle, index, value))
    }

    func bind(_ index: Int32, _ value: Int) throws {
        try check(sqlite3_bind_int64(handle, index, Int64(value)))
    }

    /// UTF-8 text SQLite reads in place: `bytes` must stay valid until the statement is reset or rebound.
    func bindTextNoCopy(_ index: Int32, _ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return try check(sqlite3_bind_text(handle, index, "", 0, Self.transient)) }
        try check(sqlite3_bind_text(handle, index, base.assumingMemoryBound(to: CChar.self), Int32(bytes.count), nil))
    }

    /// A blob SQLite reads in place: `bytes` must stay valid until the statement is reset or rebound. Empty is a
    /// zero-length blob, never NULL (the column is NOT NULL).
    func bindBlobNoCopy(_ index: Int32, _ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return try check(sqlite3_bind_zeroblob(handle, index, 0)) }
        try check(sqlite3_bind_blob(handle, index, base, Int32(bytes.count), nil))
    }

    /// Steps the statement to its end (it returns no rows).
    func run(_ db: Database) throws {
        var rc = sqlite3_step(handle)
        while rc == SQLITE_ROW { rc = sqlite3_step(handle) }
        guard rc == SQLITE_DONE else { throw failure(rc, db) }
    }

    /// Steps the statement once and reads its first column as text; nil when it returns no row.
    func fetchText(_ db: Database) throws -> String? {
        let rc = sqlite3_step(handle)
        if rc == SQLITE_DONE { return nil }
        guard rc == SQLITE_ROW else { throw failure(rc, db) }
        let text = sqlite3_column_text(handle, 0).map { String(cString: $0) }
        // Runs the statement to its end, so its write is complete before the next one.
        var next = sqlite3_step(handle)
        while next == SQLITE_ROW { next = sqlite3_step(handle) }
        guard next == SQLITE_DONE else { throw failure(next, db) }
        return text
    }

    /// Steps the statement once and reads its first column as an integer; nil when it returns no row.
    func fetchInt64(_ db: Database) throws -> Int64? {
        let rc = sqlite3_step(handle)
        if rc == SQLITE_DONE { return nil }
        guard rc == SQLITE_ROW else { throw failure(rc, db) }
        let value = sqlite3_column_int64(handle, 0)
        var next = sqlite3_step(handle)
        while next == SQLITE_ROW { next = sqlite3_step(handle) }
        guard next == SQLITE_DONE else { throw failure(next, db) }
        return value
    }

    private func check(_ rc: Int32) throws {
        guard rc == SQLITE_OK else { throw failure(rc, nil) }
    }

    /// Steps once: true with a row to read (`handle`'s columns), false at the end.
    func step(_ db: Database) throws -> Bool {
        let rc = sqlite3_step(handle)
        if rc == SQLITE_ROW { return true }
        guard rc == SQLITE_DONE else { throw failure(rc, db) }
        return false
    }

    /// A column of the current row as text; nil for NULL. Any other type reads as SQLite converts it.
    func text(_ column: Int32) -> String? {
        guard sqlite3_column_type(handle, column) != SQLITE_NULL else { return nil }
        guard let p = sqlite3_column_text(handle, column) else { return "" }
        return String(decoding: UnsafeBufferPointer(start: p, count: Int(sqlite3_column_bytes(handle, column))), as: UTF8.self)
    }

    /// A column of the current row as bytes (a blob or text); empty for NULL.
    func bytes(_ column: Int32) -> [UInt8] {
        guard let p = sqlite3_column_blob(handle, column) else { return [] }
        return Array(UnsafeRawBufferPointer(start: p, count: Int(sqlite3_column_bytes(handle, column))))
    }

    /// A column of the current row as an integer; nil for NULL.
    func int64(_ column: Int32) -> Int64? {
        sqlite3_column_type(handle, column) == SQLITE_NULL ? nil : sqlite3_column_int64(handle, column)
    }

    /// SQLite's code and message; never a bound value (those are payload).
    private func failure(_ rc: Int32, _ db: Database?) -> DatabaseError {
        let message = db.flatMap(\.sqliteConnection).flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(rc))
        return DatabaseError(resultCode: ResultCode(rawValue: rc), message: message)
    }
}
