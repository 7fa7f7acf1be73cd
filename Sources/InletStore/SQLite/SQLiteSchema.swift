/// The schema and every statement the SQLite store runs, in one place, so the PostgreSQL store can mirror them.
public enum SQLiteSchema {
    /// Migrations, applied in order by name; never edit a shipped one, add the next.
    static let migrations: [(name: String, sql: String)] = [
        ("v1-events-queue", """
        CREATE TABLE events (
            id TEXT PRIMARY KEY,
            source TEXT NOT NULL,
            provider TEXT NOT NULL,
            event_key TEXT NOT NULL,
            key_origin TEXT NOT NULL,
            event_type TEXT,
            received_at INTEGER NOT NULL,
            provider_timestamp INTEGER,
            peer TEXT,
            client_address TEXT,
            method TEXT NOT NULL,
            path TEXT NOT NULL,
            query TEXT,
            headers TEXT NOT NULL,
            content_type TEXT,
            body BLOB NOT NULL,
            secret_label TEXT,
            duplicates INTEGER NOT NULL DEFAULT 0,
            last_duplicate_at INTEGER
        );
        CREATE INDEX events_source_received ON events(source, received_at);
        CREATE INDEX events_received ON events(received_at);

        CREATE TABLE idempotency_keys (
            source TEXT NOT NULL,
            event_key TEXT NOT NULL,
            event_id TEXT NOT NULL,
            first_seen_at INTEGER NOT NULL,
            last_seen_at INTEGER NOT NULL,
            seen_count INTEGER NOT NULL DEFAULT 1,
            PRIMARY KEY (source, event_key)
        ) WITHOUT ROWID;
        CREATE INDEX idempotency_last_seen ON idempotency_keys(last_seen_at);

        CREATE TABLE deliveries (
            id INTEGER PRIMARY KEY,
            event_id TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
            destination TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at INTEGER NOT NULL,
            claimed_at INTEGER,
            last_status INTEGER,
            last_error TEXT,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            delivered_at INTEGER
        );
        CREATE INDEX deliveries_due ON deliveries(next_attempt_at) WHERE state = 'pending';
        CREATE INDEX deliveries_event ON deliveries(event_id);

        CREATE TABLE attempts (
            id INTEGER PRIMARY KEY,
            delivery_id INTEGER NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
            attempt INTEGER NOT NULL,
            started_at INTEGER NOT NULL,
            duration_ms INTEGER NOT NULL,
            status_code INTEGER,
            error TEXT,
            response_snippet BLOB,
            next_attempt_at INTEGER
        );
        CREATE INDEX attempts_delivery ON attempts(delivery_id);
        """),
        ("v2-routing-ordering", """
        ALTER TABLE events ADD COLUMN unrouted INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE deliveries ADD COLUMN ordering_key TEXT;
        CREATE INDEX deliveries_ordering ON deliveries(destination, ordering_key, id) WHERE state = 'pending' AND ordering_key IS NOT NULL;
        CREATE INDEX events_unrouted ON events(received_at) WHERE unrouted = 1;
        """),
        ("v3-replay", """
        ALTER TABLE deliveries ADD COLUMN replay INTEGER NOT NULL DEFAULT 0;
        CREATE INDEX deliveries_dead ON deliveries(destination, id) WHERE state = 'dead';
        """),
        ("v4-quarantine-pauses", """
        CREATE TABLE quarantine (
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL,
            provider TEXT NOT NULL,
            reason TEXT NOT NULL,
            received_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            peer TEXT,
            method TEXT NOT NULL,
            path TEXT NOT NULL,
            query TEXT,
            headers TEXT NOT NULL,
            body BLOB NOT NULL
        );
        CREATE INDEX quarantine_expires ON quarantine(expires_at);
        CREATE INDEX quarantine_source ON quarantine(source, id);

        CREATE TABLE destination_pauses (
            destination TEXT PRIMARY KEY,
            paused_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        """),
        ("v5-health", """
        CREATE TABLE health (id INTEGER PRIMARY KEY CHECK (id = 1), checked_at INTEGER NOT NULL);
        """),
        // NULL on events stored before: nothing recorded what verified them.
        ("v6-authenticity", """
        ALTER TABLE events ADD COLUMN authenticity TEXT;
        """),
        // One handshake secret per source: the primary key is what makes the hand-over happen only once.
        ("v7-handshake-secrets", """
        CREATE TABLE handshake_secrets (
            source TEXT PRIMARY KEY,
            label TEXT NOT NULL,
            secret TEXT NOT NULL,
            handshake TEXT NOT NULL,
            established_at INTEGER NOT NULL,
            peer TEXT
        ) WITHOUT ROWID;
        CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY,
            at INTEGER NOT NULL,
            source TEXT,
            action TEXT NOT NULL,
            detail TEXT NOT NULL
        );
        """),
        // A split batch's request, stored once; its items are events that name it.
        ("v8-split-batches", """
        CREATE TABLE batches (
            id TEXT PRIMARY KEY,
            source TEXT NOT NULL,
            received_at INTEGER NOT NULL,
            items INTEGER NOT NULL,
            body BLOB NOT NULL
        );
        CREATE INDEX batches_received ON batches(received_at);
        ALTER TABLE events ADD COLUMN batch_id TEXT;
        ALTER TABLE events ADD COLUMN batch_index INTEGER;
        CREATE INDEX events_batch ON events(batch_id) WHERE batch_id IS NOT NULL;
        """),
        // Streams (StreamStore.swift): the sequence counter survives retention, so sequences are never reused.
        ("v9-streams", """
        CREATE TABLE streams (
            name TEXT PRIMARY KEY,
            last_sequence INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE stream_entries (
            stream TEXT NOT NULL,
            sequence INTEGER NOT NULL,
            event_id TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
            appended_at INTEGER NOT NULL,
            PRIMARY KEY (stream, sequence)
        ) WITHOUT ROWID;
        CREATE INDEX stream_entries_event ON stream_entries(event_id);
        CREATE INDEX stream_entries_appended ON stream_entries(stream, appended_at);
        CREATE TABLE stream_groups (
            stream TEXT NOT NULL,
            name TEXT NOT NULL,
            cursor INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (stream, name)
        ) WITHOUT ROWID;
        CREATE TABLE stream_leases (
            stream TEXT NOT NULL,
            group_name TEXT NOT NULL,
            sequence INTEGER NOT NULL,
            receipt TEXT,
            expires_at INTEGER NOT NULL,
            acknowledged INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (stream, group_name, sequence)
        ) WITHOUT ROWID;
        CREATE INDEX stream_leases_receipt ON stream_leases(receipt) WHERE receipt IS NOT NULL;
        """),
    ]

    public static var migrationNames: [String] { migrations.map(\.name) }

    static let insertHandshakeSecret = """
        INSERT INTO handshake_secrets (source, label, secret, handshake, established_at, peer) VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (source) DO NOTHING
        """
    static let insertAudit = "INSERT INTO audit_log (at, source, action, detail) VALUES (?, ?, ?, ?)"

    // The idempotency row decides: a record whose insert changed no row is a duplicate (`SQLiteIngestWriter`).
    static let claimIdempotencyKey = """
        INSERT INTO idempotency_keys (source, event_key, event_id, first_seen_at, last_seen_at)
        VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (source, event_key) DO NOTHING
        """
    // A duplicate only counts the arrival and hands back the holder's ID.
    static let countDuplicateKey = """
        UPDATE idempotency_keys SET last_seen_at = ?1, seen_count = seen_count + 1 WHERE source = ?2 AND event_key = ?3
        RETURNING event_id
        """
    static let insertEvent = """
        INSERT INTO events (id, source, provider, event_key, key_origin, event_type, received_at, provider_timestamp,
                            peer, client_address, method, path, query, headers, content_type, body, secret_label, unrouted, authenticity,
                            batch_id, batch_index)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """
    static let countDuplicate = "UPDATE events SET duplicates = duplicates + 1, last_duplicate_at = ? WHERE id = ?"
    static let insertDelivery = """
        INSERT INTO deliveries (event_id, destination, state, next_attempt_at, created_at, updated_at, ordering_key)
        VALUES (?, ?, 'pending', ?, ?, ?, ?)
        """
    // Claiming pushes next_attempt_at to the lease's end: a row whose worker died becomes due again by itself.
    // An ordered row waits while an earlier row with its key is still pending (queued, retrying or in flight).
    static let claimDue = """
        UPDATE deliveries SET next_attempt_at = ?1, claimed_at = ?2
        WHERE id IN (SELECT d.id FROM deliveries d
                     WHERE d.state = 'pending' AND d.next_attempt_at <= ?2 AND (?3 IS NULL OR d.destination = ?3)
                       AND NOT EXISTS (SELECT 1 FROM destination_pauses p WHERE p.destination = d.destination)
                       AND (d.ordering_key IS NULL OR NOT EXISTS (
                            SELECT 1 FROM deliveries e WHERE e.state = 'pending' AND e.destination = d.destination
                              AND e.ordering_key = d.ordering_key AND e.id < d.id))
                     ORDER BY d.next_attempt_at, d.id LIMIT ?4)
        RETURNING id, event_id, destination, attempts, created_at, replay
        """
    static let eventColumns = """
        id, source, provider, event_key, key_origin, event_type, received_at, provider_timestamp, peer, client_address,
        method, path, query, headers, content_type, body, secret_label, duplicates, unrouted, authenticity, batch_id, batch_index
        """
    static let eventByID = "SELECT \(eventColumns) FROM events WHERE id = ?"
    static let insertBatch = "INSERT INTO batches (id, source, received_at, items, body) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING"
    // Batches whose items have all been pruned.
    static let pruneBatches = """
        DELETE FROM batches WHERE received_at < ?1 AND NOT EXISTS (SELECT 1 FROM events e WHERE e.batch_id = batches.id)
        """
    static let insertAttempt = """
        INSERT INTO attempts (delivery_id, attempt, started_at, duration_ms, status_code, error, response_snippet, next_attempt_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        """
    static let markDelivered = """
        UPDATE deliveries SET state = 'delivered', attempts = ?, claimed_at = NULL, last_status = ?, last_error = NULL,
                              updated_at = ?, delivered_at = ? WHERE id = ?
        """
    static let markRetry = """
        UPDATE deliveries SET attempts = ?, next_attempt_at = ?, claimed_at = NULL, last_status = ?, last_error = ?,
                              updated_at = ? WHERE id = ?
        """
    static let markDead = """
        UPDATE deliveries SET state = 'dead', attempts = ?, claimed_at = NULL, last_status = ?, last_error = ?,
                              updated_at = ? WHERE id = ?
        """
    static let secretUsage = """
        SELECT source, secret_label, MAX(received_at) AS last_at, SUM(CASE WHEN received_at >= ? THEN 1 ELSE 0 END) AS recent
        FROM events WHERE secret_label IS NOT NULL GROUP BY source, secret_label ORDER BY source, secret_label
        """
    static let pendingByDestination = """
        SELECT destination, COUNT(*) AS n, MIN(created_at) AS oldest FROM deliveries WHERE state = 'pending' GROUP BY destination
        """
    // Claimed rows have next_attempt_at at their lease's end, so "due" here means waiting for a worker. Two queries,
    // each on its partial index, rather than one scan of every delivery ever made.
    static let pendingGauges = """
        SELECT destination, COUNT(*) AS pending, MIN(CASE WHEN next_attempt_at <= ?1 THEN next_attempt_at END) AS oldest_due
        FROM deliveries WHERE state = 'pending' GROUP BY destination
        """
    static let deadGauges = "SELECT destination, COUNT(*) AS dead FROM deliveries WHERE state = 'dead' GROUP BY destination"
    static let insertReplayAt = """
        INSERT INTO deliveries (event_id, destination, state, next_attempt_at, created_at, updated_at, replay)
        VALUES (?1, ?2, 'pending', ?3, ?4, ?4, 1)
        """
    static let redeliverMatching = """
        UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = ?1, claimed_at = NULL, updated_at = ?1
        WHERE state = 'dead' AND (?2 IS NULL OR destination = ?2)
          AND (?3 IS NULL OR event_id IN (SELECT id FROM events WHERE source = ?3))
        """
    static let quarantineColumns = "id, source, provider, reason, received_at, expires_at, peer, method, path, query, headers"
    static let insertQuarantine = """
        INSERT INTO quarantine (source, provider, reason, received_at, expires_at, peer, method, path, query, headers, body)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """
    // Keeps the newest `?1` entries: a flood of forgeries replaces old entries instead of growing the file.
    static let trimQuarantine = "DELETE FROM quarantine WHERE id IN (SELECT id FROM quarantine ORDER BY id DESC LIMIT -1 OFFSET ?1)"
    /// One (source, reason)'s entries past its quota, oldest first; walks the (source, id) index.
    static let trimQuarantineGroup = """
        DELETE FROM quarantine WHERE id IN
          (SELECT id FROM quarantine WHERE source = ?1 AND reason = ?2 ORDER BY id DESC LIMIT -1 OFFSET ?3)
        """
    static let listQuarantine = """
        SELECT \(quarantineColumns), length(body) AS body_bytes FROM quarantine
        WHERE (?1 IS NULL OR source = ?1) AND (?2 IS NULL OR reason = ?2) AND (?3 IS NULL OR id < ?3)
        ORDER BY id DESC LIMIT ?4
        """
    // Readiness writes one row: a full disk or a read-only file fails here, not only on the next ingest.
    static let touchHealth = "INSERT INTO health (id, checked_at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at"
    static let countExpiredQuarantine = "SELECT COUNT(*) FROM quarantine WHERE expires_at <= ?"
    static let pruneQuarantine = "DELETE FROM quarantine WHERE id IN (SELECT id FROM quarantine WHERE expires_at <= ? LIMIT ?)"
    static let insertReplay = """
        INSERT INTO deliveries (event_id, destination, state, next_attempt_at, created_at, updated_at, replay)
        VALUES (?, ?, 'pending', ?, ?, ?, 1)
        """
    // Event IDs are time-ordered ULIDs, so the ID is both the sort key and the cursor.
    // ?7 is the delivery status: pending (some delivery still to go), dead (some delivery gave up), delivered
    // (routed, and every delivery done), unrouted.
    static let eventFilter = """
        (?1 IS NULL OR source = ?1) AND (?2 IS NULL OR event_type = ?2) AND (?3 IS NULL OR event_key = ?3)
          AND (?4 IS NULL OR received_at >= ?4) AND (?5 IS NULL OR received_at < ?5) AND (?6 = 0 OR unrouted = 1)
          AND (?7 IS NULL
               OR (?7 = 'unrouted' AND unrouted = 1)
               OR (?7 IN ('pending', 'dead') AND EXISTS (SELECT 1 FROM deliveries s WHERE s.event_id = events.id AND s.state = ?7))
               OR (?7 = 'delivered' AND unrouted = 0
                   AND NOT EXISTS (SELECT 1 FROM deliveries s WHERE s.event_id = events.id AND s.state <> 'delivered')))
        """
    static let countEvents = "SELECT COUNT(*) FROM events WHERE \(eventFilter)"
    static let eventCounts = """
        SELECT source, (received_at - ?1) / ?3 AS bucket, COUNT(*) AS n FROM events
        WHERE received_at >= ?1 AND received_at < ?2 GROUP BY source, bucket
        """
    // Bulk replay walks history oldest first, so a replayed stream arrives in its original order.
    static let listEventsAscending = """
        SELECT \(eventColumns) FROM events WHERE \(eventFilter) AND (?8 IS NULL OR id > ?8) ORDER BY id LIMIT ?9
        """
    static let listEventIDsAscending = """
        SELECT id FROM events WHERE \(eventFilter) AND (?8 IS NULL OR id > ?8) ORDER BY id LIMIT ?9
        """
    static let listEvents = """
        SELECT \(eventColumns) FROM events WHERE \(eventFilter) AND (?8 IS NULL OR id < ?8) ORDER BY id DESC LIMIT ?9
        """
    static let deadLetters = """
        SELECT d.id, d.event_id, d.destination, d.attempts, d.last_status, d.last_error, d.updated_at, d.replay, e.source, e.event_type
        FROM deliveries d JOIN events e ON e.id = d.event_id
        WHERE d.state = 'dead' AND (?1 IS NULL OR d.destination = ?1) AND d.id > ?2 ORDER BY d.id LIMIT ?3
        """
    static let redeliver = """
        UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = ?1, claimed_at = NULL, updated_at = ?1
        WHERE id = ?2 AND state = 'dead'
        """
    static let discardDeadLetter = "DELETE FROM deliveries WHERE id = ? AND state = 'dead'"
    // Never an event with a delivery still pending, or one a stream still holds (stream retention removes its entry
    // first): retention must not drop what has not reached its destinations and consumers.
    static let prunableEvents = """
        SELECT id FROM events e WHERE received_at < ?1
          AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.state = 'pending')
          AND NOT EXISTS (SELECT 1 FROM stream_entries s WHERE s.event_id = e.id)
        ORDER BY received_at LIMIT ?2
        """
    static let countPrunableEvents = """
        SELECT COUNT(*) FROM events e WHERE received_at < ?1
          AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.state = 'pending')
          AND NOT EXISTS (SELECT 1 FROM stream_entries s WHERE s.event_id = e.id)
        """
    static let countPrunableIdempotency = "SELECT COUNT(*) FROM idempotency_keys WHERE last_seen_at < ?"
    // A paused destination's rows are not due: workers must not wake for them.
    static let nextDue = """
        SELECT MIN(next_attempt_at) FROM deliveries d WHERE state = 'pending'
          AND NOT EXISTS (SELECT 1 FROM destination_pauses p WHERE p.destination = d.destination)
        """
    static let releaseClaims = "UPDATE deliveries SET next_attempt_at = ?, claimed_at = NULL WHERE state = 'pending' AND claimed_at IS NOT NULL"
    static let pruneIdempotency = """
        DELETE FROM idempotency_keys WHERE (source, event_key) IN
            (SELECT source, event_key FROM idempotency_keys WHERE last_seen_at < ? LIMIT ?)
        """

    // MARK: Streams

    // The stream's counter, taken per appended entry inside the ingest transaction (one writer: no gaps, no reuse).
    static let nextStreamSequence = """
        INSERT INTO streams (name, last_sequence) VALUES (?1, 1)
        ON CONFLICT (name) DO UPDATE SET last_sequence = last_sequence + 1
        RETURNING last_sequence
        """
    static let insertStreamEntry = "INSERT INTO stream_entries (stream, sequence, event_id, appended_at) VALUES (?, ?, ?, ?)"
    /// The sequence after the newest ever appended (1 for a stream nothing was appended to yet).
    static let nextSequence = "SELECT COALESCE((SELECT last_sequence FROM streams WHERE name = ?1), 0) + 1"
    // A new group starts at the oldest retained entry (?3 = 0), or after the newest (?3 = 1).
    static let createGroup = """
        INSERT INTO stream_groups (stream, name, cursor, created_at, updated_at)
        VALUES (?1, ?2, CASE WHEN ?3 = 1 THEN (\(nextSequence))
                             ELSE COALESCE((SELECT MIN(sequence) FROM stream_entries WHERE stream = ?1), (\(nextSequence))) END, ?4, ?4)
        ON CONFLICT (stream, name) DO NOTHING
        """
    static let groupCursor = "SELECT cursor FROM stream_groups WHERE stream = ?1 AND name = ?2"
    // The oldest entries from the cursor on that no live lease of the group holds and that are not acknowledged; `expired`
    // says the entry was leased before and its lease ran out.
    static let leasableEntries = """
        SELECT e.sequence, e.event_id, e.appended_at, l.sequence IS NOT NULL AS expired
        FROM stream_entries e
        LEFT JOIN stream_leases l ON l.stream = e.stream AND l.group_name = ?2 AND l.sequence = e.sequence
        WHERE e.stream = ?1 AND e.sequence >= ?3 AND (l.sequence IS NULL OR (l.acknowledged = 0 AND l.expires_at <= ?4))
        ORDER BY e.sequence LIMIT ?5
        """
    static let leaseEntry = """
        INSERT INTO stream_leases (stream, group_name, sequence, receipt, expires_at, acknowledged) VALUES (?1, ?2, ?3, ?4, ?5, 0)
        ON CONFLICT (stream, group_name, sequence) DO UPDATE SET receipt = excluded.receipt, expires_at = excluded.expires_at
        """
    static let acknowledgeReceipt = """
        UPDATE stream_leases SET acknowledged = 1, receipt = NULL
        WHERE receipt = ?3 AND stream = ?1 AND group_name = ?2 AND acknowledged = 0 AND expires_at > ?4
        """
    // A sequence counts when it is retained, at or above the cursor, and not acknowledged yet.
    static let acknowledgeSequence = """
        INSERT INTO stream_leases (stream, group_name, sequence, receipt, expires_at, acknowledged)
        SELECT ?1, ?2, e.sequence, NULL, 0, 1 FROM stream_entries e WHERE e.stream = ?1 AND e.sequence = ?3 AND e.sequence >= ?4
        ON CONFLICT (stream, group_name, sequence) DO UPDATE SET acknowledged = 1, receipt = NULL WHERE acknowledged = 0
        """
    // The lowest retained sequence from ?3 on that is not acknowledged; NULL: all are.
    static let lowestUnacknowledged = """
        SELECT MIN(e.sequence) FROM stream_entries e
        WHERE e.stream = ?1 AND e.sequence >= ?3
          AND NOT EXISTS (SELECT 1 FROM stream_leases l WHERE l.stream = ?1 AND l.group_name = ?2 AND l.sequence = e.sequence AND l.acknowledged = 1)
        """
    static let releaseLease = """
        UPDATE stream_leases SET expires_at = ?4 WHERE receipt = ?3 AND stream = ?1 AND group_name = ?2 AND acknowledged = 0 AND expires_at > ?4
        """
    static let setCursor = "UPDATE stream_groups SET cursor = ?3, updated_at = ?4 WHERE stream = ?1 AND name = ?2"
    static let dropLeasesBelow = "DELETE FROM stream_leases WHERE stream = ?1 AND group_name = ?2 AND sequence < ?3"
    static let dropLeases = "DELETE FROM stream_leases WHERE stream = ?1 AND group_name = ?2"
    static let countUnacknowledgedThrough = """
        SELECT COUNT(*) FROM stream_entries e WHERE e.stream = ?1 AND e.sequence >= ?3 AND e.sequence <= ?4
          AND NOT EXISTS (SELECT 1 FROM stream_leases l WHERE l.stream = ?1 AND l.group_name = ?2 AND l.sequence = e.sequence AND l.acknowledged = 1)
        """
    static let streamSummaries = """
        SELECT s.name, s.last_sequence,
               (SELECT COUNT(*) FROM stream_entries e WHERE e.stream = s.name) AS length,
               (SELECT MIN(sequence) FROM stream_entries e WHERE e.stream = s.name) AS first_sequence,
               (SELECT MIN(appended_at) FROM stream_entries e WHERE e.stream = s.name) AS oldest
        FROM streams s ORDER BY s.name
        """
    static let streamGroups = """
        SELECT g.stream, g.name, g.cursor, g.created_at, g.updated_at,
               (SELECT COUNT(*) FROM stream_entries e WHERE e.stream = g.stream AND e.sequence >= g.cursor
                  AND NOT EXISTS (SELECT 1 FROM stream_leases l WHERE l.stream = g.stream AND l.group_name = g.name
                                  AND l.sequence = e.sequence AND l.acknowledged = 1)) AS lag,
               (SELECT e.appended_at FROM stream_entries e WHERE e.stream = g.stream AND e.sequence >= g.cursor
                  ORDER BY e.sequence LIMIT 1) AS oldest,
               (SELECT COUNT(*) FROM stream_leases l WHERE l.stream = g.stream AND l.group_name = g.name
                  AND l.acknowledged = 0 AND l.expires_at > ?2) AS leased,
               COALESCE((SELECT MIN(sequence) FROM stream_entries e WHERE e.stream = g.stream),
                        COALESCE((SELECT last_sequence FROM streams s WHERE s.name = g.stream), 0) + 1) AS first_retained
        FROM stream_groups g WHERE (?1 IS NULL OR g.stream = ?1) ORDER BY g.stream, g.name
        """
    static let firstAppendedSince = "SELECT MIN(sequence) FROM stream_entries WHERE stream = ?1 AND appended_at >= ?2"
    static let deleteGroup = "DELETE FROM stream_groups WHERE stream = ?1 AND name = ?2"
    // Entries past the stream's retention, or below every group's cursor (no group: never by cursor).
    static let prunableStreamEntries = """
        SELECT sequence FROM stream_entries WHERE stream = ?1
          AND (appended_at < ?2 OR sequence < (SELECT MIN(cursor) FROM stream_groups WHERE stream = ?1))
        ORDER BY sequence LIMIT ?3
        """
}
