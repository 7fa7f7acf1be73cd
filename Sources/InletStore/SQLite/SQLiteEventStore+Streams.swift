import Foundation
import GRDB
import InletCore

// Leases and acknowledgements are committed without waiting for the disk (`unsyncedWrite`): losing the last ones at a
// power cut only serves those entries again (delivery to consumers is at least once), never loses an entry, whose
// append was part of a durable ingest commit.
extension SQLiteEventStore {
    public func leaseBatch(_ request: StreamLeaseRequest, receipt: String, now: EpochMillis) throws -> StreamBatch {
        try unsyncedWrite { db in
            let cursor = try Self.ensureGroup(db, stream: request.stream, group: request.group, startAtNow: request.startAtNow, now: now)
            let from = max(cursor, (request.after ?? 0) + 1)
            // Read by position from a statement prepared once per connection: this runs for every pulled batch.
            var entries: [(sequence: Int64, eventID: String, appendedAt: EpochMillis, expired: Bool)] = []
            let rows = try Row.fetchCursor(db.cachedStatement(sql: SQLiteSchema.leasableEntries),
                                           arguments: [request.stream, request.group, from, now, request.max])
            while let row = try rows.next() { entries.append((row[0], row[1], row[2], row[3])) }
            guard !entries.isEmpty else { return StreamBatch(receipt: nil, leaseExpiresAt: nil, items: []) }
            let expires = now + request.leaseMillis
            let lease = try db.cachedStatement(sql: SQLiteSchema.leaseEntry)
            var expired = 0
            for entry in entries {
                if entry.expired { expired += 1 }
                try lease.execute(arguments: [request.stream, request.group, entry.sequence, receipt, expires])
            }
            let events = try Self.events(db, ids: entries.map(\.eventID))
            let items = entries.compactMap { entry -> StreamItem? in
                guard let e = events[entry.eventID] else { return nil }
                return StreamItem(sequence: entry.sequence, appendedAt: entry.appendedAt, event: e)
            }
            return StreamBatch(receipt: receipt, leaseExpiresAt: expires, items: items, expiredLeases: expired)
        }
    }

    public func acknowledge(stream: String, group: String, receipt: String, now: EpochMillis) throws -> StreamAck {
        try unsyncedWrite { db in
            guard let cursor = try Int64.fetchOne(db, sql: SQLiteSchema.groupCursor, arguments: [stream, group]) else { throw StreamStoreError.unknownGroup }
            try db.execute(sql: SQLiteSchema.acknowledgeReceipt, arguments: [stream, group, receipt, now])
            let acknowledged = db.changesCount
            guard acknowledged > 0 else { throw StreamStoreError.receiptExpired }
            return StreamAck(acknowledged: acknowledged, cursor: try Self.advance(db, stream: stream, group: group, from: cursor, now: now))
        }
    }

    public func acknowledge(stream: String, group: String, sequences: [Int64], now: EpochMillis) throws -> StreamAck {
        try unsyncedWrite { db in
            guard let cursor = try Int64.fetchOne(db, sql: SQLiteSchema.groupCursor, arguments: [stream, group]) else { throw StreamStoreError.unknownGroup }
            let ack = try db.cachedStatement(sql: SQLiteSchema.acknowledgeSequence)
            var acknowledged = 0
            for sequence in Set(sequences) where sequence >= cursor {
                try ack.execute(arguments: [stream, group, sequence, cursor])
                acknowledged += db.changesCount
            }
            return StreamAck(acknowledged: acknowledged, cursor: try Self.advance(db, stream: stream, group: group, from: cursor, now: now))
        }
    }

    public func commitThrough(stream: String, group: String, sequence: Int64, startAtNow: Bool, now: EpochMillis) throws -> StreamAck {
        try unsyncedWrite { db in
            let cursor = try Self.ensureGroup(db, stream: stream, group: group, startAtNow: startAtNow, now: now)
            guard sequence >= cursor else { return StreamAck(acknowledged: 0, cursor: cursor) }
            let acknowledged = try Int.fetchOne(db, sql: SQLiteSchema.countUnacknowledgedThrough, arguments: [stream, group, cursor, sequence]) ?? 0
            return StreamAck(acknowledged: acknowledged, cursor: try Self.advance(db, stream: stream, group: group, from: sequence + 1, now: now))
        }
    }

    public func releaseLeases(stream: String, group: String, receipts: [String], now: EpochMillis) throws {
        guard !receipts.isEmpty else { return }
        try unsyncedWrite { db in
            let release = try db.cachedStatement(sql: SQLiteSchema.releaseLease)
            for receipt in receipts { try release.execute(arguments: [stream, group, receipt, now]) }
        }
    }

    public func streamSummaries() throws -> [StreamSummary] {
        try read { db in
            try Row.fetchAll(db, sql: SQLiteSchema.streamSummaries).map { row in
                StreamSummary(name: row["name"], length: row["length"], lastSequence: row["last_sequence"],
                              firstSequence: row["first_sequence"], oldestAppendedAt: row["oldest"])
            }
        }
    }

    public func streamGroups(stream: String?, now: EpochMillis) throws -> [StreamGroupState] {
        try read { db in
            try Row.fetchAll(db, sql: SQLiteSchema.streamGroups, arguments: [stream, now]).map { row in
                let cursor: Int64 = row["cursor"], firstRetained: Int64 = row["first_retained"]
                return StreamGroupState(stream: row["stream"], group: row["name"], cursor: cursor, lagEvents: row["lag"],
                                        oldestUnacknowledgedAt: row["oldest"], leased: row["leased"],
                                        missedByRetention: max(0, firstRetained - cursor), createdAt: row["created_at"], updatedAt: row["updated_at"])
            }
        }
    }

    public func rewindGroup(stream: String, group: String, to position: StreamPosition, now: EpochMillis) throws -> Int64? {
        try write { db in
            guard try Int64.fetchOne(db, sql: SQLiteSchema.groupCursor, arguments: [stream, group]) != nil else { return nil }
            let cursor: Int64
            switch position {
            case .sequence(let s): cursor = max(1, s)
            case .time(let t):
                if let first = try Int64.fetchOne(db, sql: SQLiteSchema.firstAppendedSince, arguments: [stream, t]) {
                    cursor = first
                } else {
                    cursor = try Int64.fetchOne(db, sql: SQLiteSchema.nextSequence, arguments: [stream]) ?? 1
                }
            }
            try db.execute(sql: SQLiteSchema.dropLeases, arguments: [stream, group])
            try db.execute(sql: SQLiteSchema.setCursor, arguments: [stream, group, cursor, now])
            return cursor
        }
    }

    public func deleteGroup(stream: String, group: String) throws -> Bool {
        try write { db in
            try db.execute(sql: SQLiteSchema.dropLeases, arguments: [stream, group])
            try db.execute(sql: SQLiteSchema.deleteGroup, arguments: [stream, group])
            return db.changesCount > 0
        }
    }

    public func pruneStreams(appendedBefore cutoffs: [String: EpochMillis], limit: Int) throws -> Int {
        try write { db in
            var removed = 0
            for (stream, cutoff) in cutoffs.sorted(by: { $0.key < $1.key }) where removed < limit {
                let sequences = try Int64.fetchAll(db, sql: SQLiteSchema.prunableStreamEntries, arguments: [stream, cutoff, limit - removed])
                guard let last = sequences.last else { continue }
                // The oldest first, so one range delete covers them.
                try db.execute(sql: "DELETE FROM stream_entries WHERE stream = ? AND sequence <= ? AND (appended_at < ? OR sequence < (SELECT MIN(cursor) FROM stream_groups WHERE stream = ?))",
                               arguments: [stream, last, cutoff, stream])
                removed += db.changesCount
            }
            return removed
        }
    }

    // MARK: Inside a transaction

    /// The group's cursor, creating the group first when it does not exist.
    static func ensureGroup(_ db: Database, stream: String, group: String, startAtNow: Bool, now: EpochMillis) throws -> Int64 {
        if let cursor = try Int64.fetchOne(db, sql: SQLiteSchema.groupCursor, arguments: [stream, group]) { return cursor }
        try db.execute(sql: SQLiteSchema.createGroup, arguments: [stream, group, startAtNow ? 1 : 0, now])
        return try Int64.fetchOne(db, sql: SQLiteSchema.groupCursor, arguments: [stream, group]) ?? 1
    }

    /// Moves the cursor from `from` (at least the current one) past every acknowledged sequence, drops the lease rows
    /// below it, and returns it.
    static func advance(_ db: Database, stream: String, group: String, from: Int64, now: EpochMillis) throws -> Int64 {
        let current = try Int64.fetchOne(db, sql: SQLiteSchema.groupCursor, arguments: [stream, group]) ?? from
        let start = max(current, from)
        let cursor: Int64
        if let lowest = try Int64.fetchOne(db, sql: SQLiteSchema.lowestUnacknowledged, arguments: [stream, group, start]) {
            cursor = lowest
        } else {
            // Everything retained is acknowledged: the cursor waits at the next sequence to be appended.
            cursor = max(current, try Int64.fetchOne(db, sql: SQLiteSchema.nextSequence, arguments: [stream]) ?? current)
        }
        if cursor != current {
            try db.execute(sql: SQLiteSchema.setCursor, arguments: [stream, group, cursor, now])
            try db.execute(sql: SQLiteSchema.dropLeasesBelow, arguments: [stream, group, cursor])
        }
        return cursor
    }

    /// Stored events by ID (in chunks, under SQLite's bound-parameter limit).
    /// The events with `ids`, each read once by a statement prepared once per connection and its columns read with
    /// SQLite's C API: claims and stream leases read hundreds per batch, and an `IN (…)` list parsed anew per batch,
    /// then a GRDB cursor per event (each building a dictionary of its column names), were most of their cost.
    static func events(_ db: Database, ids: [String]) throws -> [String: StoredEvent] {
        var out: [String: StoredEvent] = [:]
        out.reserveCapacity(ids.count)
        let select = RawStatement(try db.cachedStatement(sql: SQLiteSchema.eventByID))
        defer { try? select.reset() }
        for id in ids where out[id] == nil {
            try select.reset()
            try select.bind(1, id)
            if try select.step(db) { out[id] = decodeEvent(select) }
        }
        return out
    }
}
