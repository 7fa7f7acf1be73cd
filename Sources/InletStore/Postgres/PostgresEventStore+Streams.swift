import InletCore
import PostgresNIO

// The same semantics as the SQLite store's (SQLiteEventStore+Streams.swift). Several instances serve one group: each
// lease and acknowledgement locks the group's row first (`PostgresSchema.lockGroup`), so two instances never lease the
// same entry while its lease lives.
extension PostgresEventStore {
    public func leaseBatch(_ request: StreamLeaseRequest, receipt: String, now: EpochMillis) throws -> StreamBatch {
        try pool.transaction { c in
            let cursor = try Self.lockGroup(c, stream: request.stream, group: request.group, startAtNow: request.startAtNow, now: now)
            let from = max(cursor, (request.after ?? 0) + 1)
            let rows = try c.run(PostgresSchema.leasableEntries, [.text(request.stream), .text(request.group), .int(from), .int(now), .int(Int64(request.max))])
                .rows.map { $0.makeRandomAccess() }
            guard !rows.isEmpty else { return StreamBatch(receipt: nil, leaseExpiresAt: nil, items: []) }
            let expires = now + request.leaseMillis
            var sequences: [Int64] = [], ids: [String] = [], times: [Int64] = [], expired = 0
            for row in rows {
                sequences.append(try row["sequence"].decode(Int64.self))
                ids.append(try row["event_id"].decode(String.self))
                times.append(try row["appended_at"].decode(Int64.self))
                if try row["expired"].decode(Bool.self) { expired += 1 }
            }
            try c.run(PostgresSchema.leaseEntries, [.text(request.stream), .text(request.group), .ints(sequences), .text(receipt), .int(expires)])
            var events: [String: StoredEvent] = [:]
            for row in try c.run(PostgresSchema.eventsByIDs, [.texts(Array(Set(ids)))]).rows {
                let e = try Self.decodeEvent(row.makeRandomAccess())
                events[e.id] = e
            }
            var items: [StreamItem] = []
            for n in sequences.indices {
                if let e = events[ids[n]] { items.append(StreamItem(sequence: sequences[n], appendedAt: times[n], event: e)) }
            }
            return StreamBatch(receipt: receipt, leaseExpiresAt: expires, items: items, expiredLeases: expired)
        }
    }

    public func acknowledge(stream: String, group: String, receipt: String, now: EpochMillis) throws -> StreamAck {
        try pool.transaction { c in
            guard let cursor = try Self.cursor(c, PostgresSchema.lockGroup, stream: stream, group: group) else { throw StreamStoreError.unknownGroup }
            let acknowledged = try c.run(PostgresSchema.acknowledgeReceipt, [.text(stream), .text(group), .text(receipt), .int(now)]).metadata.rows ?? 0
            guard acknowledged > 0 else { throw StreamStoreError.receiptExpired }
            return StreamAck(acknowledged: acknowledged, cursor: try Self.advance(c, stream: stream, group: group, current: cursor, from: cursor, now: now))
        }
    }

    public func acknowledge(stream: String, group: String, sequences: [Int64], now: EpochMillis) throws -> StreamAck {
        try pool.transaction { c in
            guard let cursor = try Self.cursor(c, PostgresSchema.lockGroup, stream: stream, group: group) else { throw StreamStoreError.unknownGroup }
            let wanted = Array(Set(sequences)).sorted()
            let acknowledged = try c.run(PostgresSchema.acknowledgeSequences, [.text(stream), .text(group), .ints(wanted), .int(cursor)]).metadata.rows ?? 0
            return StreamAck(acknowledged: acknowledged, cursor: try Self.advance(c, stream: stream, group: group, current: cursor, from: cursor, now: now))
        }
    }

    public func commitThrough(stream: String, group: String, sequence: Int64, startAtNow: Bool, now: EpochMillis) throws -> StreamAck {
        try pool.transaction { c in
            let cursor = try Self.lockGroup(c, stream: stream, group: group, startAtNow: startAtNow, now: now)
            guard sequence >= cursor else { return StreamAck(acknowledged: 0, cursor: cursor) }
            let acknowledged = try c.count(PostgresSchema.countUnacknowledgedThrough, [.text(stream), .text(group), .int(cursor), .int(sequence)])
            return StreamAck(acknowledged: acknowledged, cursor: try Self.advance(c, stream: stream, group: group, current: cursor, from: sequence + 1, now: now))
        }
    }

    public func releaseLeases(stream: String, group: String, receipts: [String], now: EpochMillis) throws {
        guard !receipts.isEmpty else { return }
        try pool.session { c in try c.run(PostgresSchema.releaseLeases, [.text(stream), .text(group), .texts(receipts), .int(now)]) }
    }

    public func streamSummaries() throws -> [StreamSummary] {
        try pool.session { c in
            try c.run(PostgresSchema.streamSummaries).rows.map { row in
                let r = row.makeRandomAccess()
                return StreamSummary(name: try r["name"].decode(String.self), length: try r["length"].decode(Int.self),
                                     lastSequence: try r["last_sequence"].decode(Int64.self), firstSequence: try r["first_sequence"].decode(Int64?.self),
                                     oldestAppendedAt: try r["oldest"].decode(Int64?.self))
            }
        }
    }

    public func streamGroups(stream: String?, now: EpochMillis) throws -> [StreamGroupState] {
        try pool.session { c in
            try c.run(PostgresSchema.streamGroups, [.text(stream), .int(now)]).rows.map { row in
                let r = row.makeRandomAccess()
                let cursor = try r["cursor"].decode(Int64.self), firstRetained = try r["first_retained"].decode(Int64.self)
                return StreamGroupState(stream: try r["stream"].decode(String.self), group: try r["name"].decode(String.self), cursor: cursor,
                                        lagEvents: try r["lag"].decode(Int.self), oldestUnacknowledgedAt: try r["oldest"].decode(Int64?.self),
                                        leased: try r["leased"].decode(Int.self), missedByRetention: max(0, firstRetained - cursor),
                                        createdAt: try r["created_at"].decode(Int64.self), updatedAt: try r["updated_at"].decode(Int64.self))
            }
        }
    }

    public func rewindGroup(stream: String, group: String, to position: StreamPosition, now: EpochMillis) throws -> Int64? {
        try pool.transaction { c in
            guard try Self.cursor(c, PostgresSchema.lockGroup, stream: stream, group: group) != nil else { return nil }
            let cursor: Int64
            switch position {
            case .sequence(let s): cursor = max(1, s)
            case .time(let t):
                if let s = try c.run(PostgresSchema.firstAppendedSince, [.text(stream), .int(t)]).rows.first.flatMap({ try $0.makeRandomAccess()["s"].decode(Int64?.self) }) {
                    cursor = s
                } else {
                    cursor = try Self.nextSequence(c, stream: stream)
                }
            }
            try c.run(PostgresSchema.dropLeases, [.text(stream), .text(group)])
            try c.run(PostgresSchema.setCursor, [.text(stream), .text(group), .int(cursor), .int(now)])
            return cursor
        }
    }

    public func deleteGroup(stream: String, group: String) throws -> Bool {
        try pool.transaction { c in
            try c.run(PostgresSchema.dropLeases, [.text(stream), .text(group)])
            return (try c.run(PostgresSchema.deleteGroup, [.text(stream), .text(group)]).metadata.rows ?? 0) > 0
        }
    }

    public func pruneStreams(appendedBefore cutoffs: [String: EpochMillis], limit: Int) throws -> Int {
        try pool.session { c in
            var removed = 0
            for (stream, cutoff) in cutoffs.sorted(by: { $0.key < $1.key }) where removed < limit {
                removed += try c.run(PostgresSchema.pruneStreamEntries, [.text(stream), .int(cutoff), .int(Int64(limit - removed))]).metadata.rows ?? 0
            }
            return removed
        }
    }

    // MARK: Inside a transaction

    static func cursor(_ c: PostgresConnectionPool.Session, _ sql: String, stream: String, group: String) throws -> Int64? {
        try c.run(sql, [.text(stream), .text(group)]).rows.first.map { try $0.makeRandomAccess()["cursor"].decode(Int64.self) }
    }

    static func nextSequence(_ c: PostgresConnectionPool.Session, stream: String) throws -> Int64 {
        try c.run("SELECT \(PostgresSchema.nextSequence) AS s", [.text(stream)]).rows.first.map { try $0.makeRandomAccess()["s"].decode(Int64.self) } ?? 1
    }

    /// Locks the group's row (creating the group first when it does not exist) and returns its cursor.
    static func lockGroup(_ c: PostgresConnectionPool.Session, stream: String, group: String, startAtNow: Bool, now: EpochMillis) throws -> Int64 {
        if let cursor = try cursor(c, PostgresSchema.lockGroup, stream: stream, group: group) { return cursor }
        try c.run(PostgresSchema.createGroup, [.text(stream), .text(group), .bool(startAtNow), .int(now)])
        // Another instance may have created it in between (DO NOTHING): its row is the one locked now.
        return try cursor(c, PostgresSchema.lockGroup, stream: stream, group: group) ?? 1
    }

    static func advance(_ c: PostgresConnectionPool.Session, stream: String, group: String, current: Int64, from: Int64, now: EpochMillis) throws -> Int64 {
        let start = max(current, from)
        let lowest = try c.run(PostgresSchema.lowestUnacknowledged, [.text(stream), .text(group), .int(start)]).rows.first
            .flatMap { try $0.makeRandomAccess()["s"].decode(Int64?.self) }
        let cursor: Int64
        if let lowest { cursor = lowest } else { cursor = max(current, try nextSequence(c, stream: stream)) }
        if cursor != current {
            try c.run(PostgresSchema.setCursor, [.text(stream), .text(group), .int(cursor), .int(now)])
            try c.run(PostgresSchema.dropLeasesBelow, [.text(stream), .text(group), .int(cursor)])
        }
        return cursor
    }
}
