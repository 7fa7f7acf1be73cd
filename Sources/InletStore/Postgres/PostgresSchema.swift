/// The PostgreSQL store's schema and statements: the same tables, columns and statements as `SQLiteSchema`, in the
/// same order and under the same names, so a change to one is seen next to the other (and `StoreSchemaParityTests`
/// compares the two live schemas column by column).
///
/// Differences that are dialect, not design: `$n` parameters with explicit casts where a parameter may be NULL,
/// `BIGINT`/`BOOLEAN`/`BYTEA` types, identity columns, `COLLATE "C"` on event IDs (ULIDs sort by byte, as in SQLite),
/// and `FOR UPDATE SKIP LOCKED` in the claim, so that several gateway instances share one queue.
public enum PostgresSchema {
    /// Applied in order under an advisory lock, so instances starting together migrate once.
    static let migrations: [(name: String, sql: String)] = [
        ("v1-events-queue", """
        CREATE TABLE events (
            id TEXT COLLATE "C" PRIMARY KEY,
            source TEXT NOT NULL,
            provider TEXT NOT NULL,
            event_key TEXT NOT NULL,
            key_origin TEXT NOT NULL,
            event_type TEXT,
            received_at BIGINT NOT NULL,
            provider_timestamp BIGINT,
            peer TEXT,
            client_address TEXT,
            method TEXT NOT NULL,
            path TEXT NOT NULL,
            query TEXT,
            headers TEXT NOT NULL,
            content_type TEXT,
            body BYTEA NOT NULL,
            secret_label TEXT,
            duplicates INTEGER NOT NULL DEFAULT 0,
            last_duplicate_at BIGINT
        );
        CREATE INDEX events_source_received ON events(source, received_at);
        CREATE INDEX events_received ON events(received_at);

        CREATE TABLE idempotency_keys (
            source TEXT NOT NULL,
            event_key TEXT NOT NULL,
            event_id TEXT COLLATE "C" NOT NULL,
            first_seen_at BIGINT NOT NULL,
            last_seen_at BIGINT NOT NULL,
            seen_count INTEGER NOT NULL DEFAULT 1,
            PRIMARY KEY (source, event_key)
        );
        CREATE INDEX idempotency_last_seen ON idempotency_keys(last_seen_at);

        CREATE TABLE deliveries (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            event_id TEXT COLLATE "C" NOT NULL REFERENCES events(id) ON DELETE CASCADE,
            destination TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at BIGINT NOT NULL,
            claimed_at BIGINT,
            last_status INTEGER,
            last_error TEXT,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL,
            delivered_at BIGINT
        );
        CREATE INDEX deliveries_due ON deliveries(next_attempt_at) WHERE state = 'pending';
        CREATE INDEX deliveries_event ON deliveries(event_id);

        CREATE TABLE attempts (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            delivery_id BIGINT NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
            attempt INTEGER NOT NULL,
            started_at BIGINT NOT NULL,
            duration_ms BIGINT NOT NULL,
            status_code INTEGER,
            error TEXT,
            response_snippet BYTEA,
            next_attempt_at BIGINT
        );
        CREATE INDEX attempts_delivery ON attempts(delivery_id);
        """),
        ("v2-routing-ordering", """
        ALTER TABLE events ADD COLUMN unrouted BOOLEAN NOT NULL DEFAULT FALSE;
        ALTER TABLE deliveries ADD COLUMN ordering_key TEXT;
        CREATE INDEX deliveries_ordering ON deliveries(destination, ordering_key, id) WHERE state = 'pending' AND ordering_key IS NOT NULL;
        CREATE INDEX events_unrouted ON events(received_at) WHERE unrouted;
        """),
        ("v3-replay", """
        ALTER TABLE deliveries ADD COLUMN replay BOOLEAN NOT NULL DEFAULT FALSE;
        CREATE INDEX deliveries_dead ON deliveries(destination, id) WHERE state = 'dead';
        """),
        ("v4-quarantine-pauses", """
        CREATE TABLE quarantine (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            source TEXT NOT NULL,
            provider TEXT NOT NULL,
            reason TEXT NOT NULL,
            received_at BIGINT NOT NULL,
            expires_at BIGINT NOT NULL,
            peer TEXT,
            method TEXT NOT NULL,
            path TEXT NOT NULL,
            query TEXT,
            headers TEXT NOT NULL,
            body BYTEA NOT NULL
        );
        CREATE INDEX quarantine_expires ON quarantine(expires_at);
        CREATE INDEX quarantine_source ON quarantine(source, id);

        CREATE TABLE destination_pauses (
            destination TEXT PRIMARY KEY,
            paused_at BIGINT NOT NULL
        );
        """),
        ("v5-health", """
        CREATE TABLE health (id INTEGER PRIMARY KEY CHECK (id = 1), checked_at BIGINT NOT NULL);
        """),
        ("v6-authenticity", """
        ALTER TABLE events ADD COLUMN authenticity TEXT;
        """),
        ("v7-handshake-secrets", """
        CREATE TABLE handshake_secrets (
            source TEXT PRIMARY KEY,
            label TEXT NOT NULL,
            secret TEXT NOT NULL,
            handshake TEXT NOT NULL,
            established_at BIGINT NOT NULL,
            peer TEXT
        );
        CREATE TABLE audit_log (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            at BIGINT NOT NULL,
            source TEXT,
            action TEXT NOT NULL,
            detail TEXT NOT NULL
        );
        """),
        ("v8-split-batches", """
        CREATE TABLE batches (
            id TEXT COLLATE "C" PRIMARY KEY,
            source TEXT NOT NULL,
            received_at BIGINT NOT NULL,
            items INTEGER NOT NULL,
            body BYTEA NOT NULL
        );
        CREATE INDEX batches_received ON batches(received_at);
        ALTER TABLE events ADD COLUMN batch_id TEXT COLLATE "C";
        ALTER TABLE events ADD COLUMN batch_index INTEGER;
        CREATE INDEX events_batch ON events(batch_id) WHERE batch_id IS NOT NULL;
        """),
        ("v9-streams", """
        CREATE TABLE streams (
            name TEXT PRIMARY KEY,
            last_sequence BIGINT NOT NULL
        );
        CREATE TABLE stream_entries (
            stream TEXT NOT NULL,
            sequence BIGINT NOT NULL,
            event_id TEXT COLLATE "C" NOT NULL REFERENCES events(id) ON DELETE CASCADE,
            appended_at BIGINT NOT NULL,
            PRIMARY KEY (stream, sequence)
        );
        CREATE INDEX stream_entries_event ON stream_entries(event_id);
        CREATE INDEX stream_entries_appended ON stream_entries(stream, appended_at);
        CREATE TABLE stream_groups (
            stream TEXT NOT NULL,
            name TEXT NOT NULL,
            cursor BIGINT NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL,
            PRIMARY KEY (stream, name)
        );
        CREATE TABLE stream_leases (
            stream TEXT NOT NULL,
            group_name TEXT NOT NULL,
            sequence BIGINT NOT NULL,
            receipt TEXT,
            expires_at BIGINT NOT NULL,
            acknowledged BOOLEAN NOT NULL DEFAULT FALSE,
            PRIMARY KEY (stream, group_name, sequence)
        );
        CREATE INDEX stream_leases_receipt ON stream_leases(receipt) WHERE receipt IS NOT NULL;
        """),
    ]

    public static var migrationNames: [String] { migrations.map(\.name) }

    static let upsertIdempotencyKey = """
        INSERT INTO idempotency_keys (source, event_key, event_id, first_seen_at, last_seen_at)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (source, event_key) DO UPDATE SET last_seen_at = EXCLUDED.last_seen_at, seen_count = idempotency_keys.seen_count + 1
        RETURNING event_id
        """
    static let insertEvent = """
        INSERT INTO events (id, source, provider, event_key, key_origin, event_type, received_at, provider_timestamp,
                            peer, client_address, method, path, query, headers, content_type, body, secret_label, unrouted, authenticity,
                            batch_id, batch_index)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)
        """
    static let countDuplicate = "UPDATE events SET duplicates = duplicates + 1, last_duplicate_at = $1 WHERE id = $2"
    // A whole group-commit batch in a few statements (the per-row statements above, one round trip each, made
    // PostgreSQL ingest several times slower than SQLite). Rows keep the batch's order (WITH ORDINALITY), so delivery
    // IDs rise in arrival order, as ordered destinations need; keys come sorted, so batches cannot deadlock.
    static let upsertIdempotencyKeys = """
        INSERT INTO idempotency_keys (source, event_key, event_id, first_seen_at, last_seen_at)
        SELECT u.source, u.event_key, u.event_id, u.at, u.at
        FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) WITH ORDINALITY AS u(source, event_key, event_id, at, n)
        ORDER BY u.n
        ON CONFLICT (source, event_key) DO UPDATE SET last_seen_at = EXCLUDED.last_seen_at, seen_count = idempotency_keys.seen_count + 1
        RETURNING source, event_key, event_id
        """
    static let countRepeatedKeys = """
        UPDATE idempotency_keys k SET seen_count = k.seen_count + u.n, last_seen_at = GREATEST(k.last_seen_at, u.at)
        FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[]) AS u(source, event_key, n, at)
        WHERE k.source = u.source AND k.event_key = u.event_key
        """
    static let countDuplicates = """
        UPDATE events e SET duplicates = e.duplicates + u.n, last_duplicate_at = GREATEST(COALESCE(e.last_duplicate_at, 0), u.at)
        FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS u(id, n, at)
        WHERE e.id = u.id
        """
    static let insertEvents = """
        INSERT INTO events (id, source, provider, event_key, key_origin, event_type, received_at, provider_timestamp,
                            peer, client_address, method, path, query, headers, content_type, body, secret_label, unrouted, authenticity,
                            batch_id, batch_index)
        SELECT r.v->>'id', r.v->>'source', r.v->>'provider', r.v->>'event_key', r.v->>'key_origin', r.v->>'event_type',
               (r.v->>'received_at')::bigint, (r.v->>'provider_timestamp')::bigint, r.v->>'peer', r.v->>'client_address',
               r.v->>'method', r.v->>'path', r.v->>'query', r.v->>'headers', r.v->>'content_type', r.body, r.v->>'secret_label',
               (r.v->>'unrouted')::boolean, r.v->>'authenticity', r.v->>'batch_id', (r.v->>'batch_index')::integer
        FROM ROWS FROM (jsonb_array_elements($1::jsonb), unnest($2::bytea[])) WITH ORDINALITY AS r(v, body, n)
        ORDER BY r.n
        """
    // A split batch's request, once per batch of the commit (its first accepted item brings it).
    static let insertBatches = """
        INSERT INTO batches (id, source, received_at, items, body)
        SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bytea[])
        ON CONFLICT (id) DO NOTHING
        """
    static let pruneBatches = """
        DELETE FROM batches WHERE received_at < $1 AND NOT EXISTS (SELECT 1 FROM events e WHERE e.batch_id = batches.id)
        """
    static let insertDeliveries = """
        INSERT INTO deliveries (event_id, destination, state, next_attempt_at, created_at, updated_at, ordering_key)
        SELECT r.v->>'event_id', r.v->>'destination', 'pending', (r.v->>'at')::bigint, (r.v->>'at')::bigint, (r.v->>'at')::bigint,
               r.v->>'ordering_key'
        FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS r(v, n)
        ORDER BY r.n
        """
    static let insertDelivery = """
        INSERT INTO deliveries (event_id, destination, state, next_attempt_at, created_at, updated_at, ordering_key)
        VALUES ($1, $2, 'pending', $3, $4, $5, $6)
        """
    // As in SQLite, plus SKIP LOCKED: rows another instance is claiming right now are passed over, not waited for.
    // The ordering check reads pending rows without locking them, so a key's later row waits while an earlier one is
    // claimed elsewhere.
    static let claimDue = """
        WITH due AS (
            SELECT d.id FROM deliveries d
            WHERE d.state = 'pending' AND d.next_attempt_at <= $2 AND ($3::text IS NULL OR d.destination = $3::text)
              AND NOT EXISTS (SELECT 1 FROM destination_pauses p WHERE p.destination = d.destination)
              AND (d.ordering_key IS NULL OR NOT EXISTS (
                   SELECT 1 FROM deliveries e WHERE e.state = 'pending' AND e.destination = d.destination
                     AND e.ordering_key = d.ordering_key AND e.id < d.id))
            ORDER BY d.next_attempt_at, d.id LIMIT $4
            FOR UPDATE OF d SKIP LOCKED)
        UPDATE deliveries SET next_attempt_at = $1, claimed_at = $2 FROM due WHERE deliveries.id = due.id
        RETURNING deliveries.id, deliveries.event_id, deliveries.destination, deliveries.attempts, deliveries.created_at, deliveries.replay
        """
    static let eventColumns = SQLiteSchema.eventColumns
    static let eventsByIDs = "SELECT \(eventColumns) FROM events WHERE id = ANY($1)"
    static let insertAttempt = """
        INSERT INTO attempts (delivery_id, attempt, started_at, duration_ms, status_code, error, response_snippet, next_attempt_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        """
    static let markDelivered = """
        UPDATE deliveries SET state = 'delivered', attempts = $1, claimed_at = NULL, last_status = $2, last_error = NULL,
                              updated_at = $3, delivered_at = $4 WHERE id = $5
        """
    static let markRetry = """
        UPDATE deliveries SET attempts = $1, next_attempt_at = $2, claimed_at = NULL, last_status = $3, last_error = $4,
                              updated_at = $5 WHERE id = $6
        """
    static let markDead = """
        UPDATE deliveries SET state = 'dead', attempts = $1, claimed_at = NULL, last_status = $2, last_error = $3,
                              updated_at = $4 WHERE id = $5
        """
    static let secretUsage = """
        SELECT source, secret_label, MAX(received_at) AS last_at, SUM(CASE WHEN received_at >= $1 THEN 1 ELSE 0 END)::bigint AS recent
        FROM events WHERE secret_label IS NOT NULL GROUP BY source, secret_label ORDER BY source, secret_label
        """
    static let pendingByDestination = """
        SELECT destination, COUNT(*) AS n, MIN(created_at) AS oldest FROM deliveries WHERE state = 'pending' GROUP BY destination
        """
    static let pendingGauges = """
        SELECT destination, COUNT(*) AS pending, MIN(CASE WHEN next_attempt_at <= $1 THEN next_attempt_at END) AS oldest_due
        FROM deliveries WHERE state = 'pending' GROUP BY destination
        """
    static let deadGauges = "SELECT destination, COUNT(*) AS dead FROM deliveries WHERE state = 'dead' GROUP BY destination"
    static let insertReplay = """
        INSERT INTO deliveries (event_id, destination, state, next_attempt_at, created_at, updated_at, replay)
        VALUES ($1, $2, 'pending', $3, $3, $3, TRUE) RETURNING id
        """
    static let insertReplayAt = """
        INSERT INTO deliveries (event_id, destination, state, next_attempt_at, created_at, updated_at, replay)
        VALUES ($1, $2, 'pending', $3, $4, $4, TRUE)
        """
    static let redeliverMatching = """
        UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = $1, claimed_at = NULL, updated_at = $1
        WHERE state = 'dead' AND ($2::text IS NULL OR destination = $2::text)
          AND ($3::text IS NULL OR event_id IN (SELECT id FROM events WHERE source = $3::text))
        """
    static let eventFilter = """
        ($1::text IS NULL OR source = $1::text) AND ($2::text IS NULL OR event_type = $2::text) AND ($3::text IS NULL OR event_key = $3::text)
          AND ($4::bigint IS NULL OR received_at >= $4::bigint) AND ($5::bigint IS NULL OR received_at < $5::bigint) AND (NOT $6::boolean OR unrouted)
          AND ($7::text IS NULL
               OR ($7::text = 'unrouted' AND unrouted)
               OR ($7::text IN ('pending', 'dead') AND EXISTS (SELECT 1 FROM deliveries s WHERE s.event_id = events.id AND s.state = $7::text))
               OR ($7::text = 'delivered' AND NOT unrouted
                   AND NOT EXISTS (SELECT 1 FROM deliveries s WHERE s.event_id = events.id AND s.state <> 'delivered')))
        """
    static let countEvents = "SELECT COUNT(*) AS n FROM events WHERE \(eventFilter)"
    static let eventCounts = """
        SELECT source, (received_at - $1::bigint) / $3::bigint AS bucket, COUNT(*) AS n FROM events
        WHERE received_at >= $1::bigint AND received_at < $2::bigint GROUP BY source, bucket
        """
    static let listEventsAscending = """
        SELECT \(eventColumns) FROM events WHERE \(eventFilter) AND ($8::text IS NULL OR id > $8::text) ORDER BY id LIMIT $9
        """
    static let listEventIDsAscending = """
        SELECT id FROM events WHERE \(eventFilter) AND ($8::text IS NULL OR id > $8::text) ORDER BY id LIMIT $9
        """
    static let listEvents = """
        SELECT \(eventColumns) FROM events WHERE \(eventFilter) AND ($8::text IS NULL OR id < $8::text) ORDER BY id DESC LIMIT $9
        """
    static let deadLetters = """
        SELECT d.id, d.event_id, d.destination, d.attempts, d.last_status, d.last_error, d.updated_at, d.replay, e.source, e.event_type
        FROM deliveries d JOIN events e ON e.id = d.event_id
        WHERE d.state = 'dead' AND ($1::text IS NULL OR d.destination = $1::text) AND d.id > $2 ORDER BY d.id LIMIT $3
        """
    static let redeliver = """
        UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = $1, claimed_at = NULL, updated_at = $1
        WHERE id = $2 AND state = 'dead'
        """
    static let discardDeadLetter = "DELETE FROM deliveries WHERE id = $1 AND state = 'dead'"
    static let pruneEvents = """
        DELETE FROM events WHERE id IN (
            SELECT id FROM events e WHERE received_at < $1
              AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.state = 'pending')
              AND NOT EXISTS (SELECT 1 FROM stream_entries s WHERE s.event_id = e.id)
            ORDER BY received_at LIMIT $2)
        """
    static let countPrunableEvents = """
        SELECT COUNT(*) AS n FROM events e WHERE received_at < $1
          AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.state = 'pending')
          AND NOT EXISTS (SELECT 1 FROM stream_entries s WHERE s.event_id = e.id)
        """
    static let countPrunableIdempotency = "SELECT COUNT(*) AS n FROM idempotency_keys WHERE last_seen_at < $1"
    static let nextDue = """
        SELECT MIN(next_attempt_at) AS at FROM deliveries d WHERE state = 'pending'
          AND NOT EXISTS (SELECT 1 FROM destination_pauses p WHERE p.destination = d.destination)
        """
    static let pruneIdempotency = """
        DELETE FROM idempotency_keys WHERE (source, event_key) IN
            (SELECT source, event_key FROM idempotency_keys WHERE last_seen_at < $1 LIMIT $2)
        """
    static let quarantineColumns = SQLiteSchema.quarantineColumns
    static let insertQuarantine = """
        INSERT INTO quarantine (source, provider, reason, received_at, expires_at, peer, method, path, query, headers, body)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
        """
    static let trimQuarantine = "DELETE FROM quarantine WHERE id IN (SELECT id FROM quarantine ORDER BY id DESC OFFSET $1)"
    static let trimQuarantineGroup = """
        DELETE FROM quarantine WHERE id IN
          (SELECT id FROM quarantine WHERE source = $1 AND reason = $2 ORDER BY id DESC OFFSET $3)
        """
    static let listQuarantine = """
        SELECT \(quarantineColumns), length(body) AS body_bytes FROM quarantine
        WHERE ($1::text IS NULL OR source = $1::text) AND ($2::text IS NULL OR reason = $2::text) AND ($3::bigint IS NULL OR id < $3::bigint)
        ORDER BY id DESC LIMIT $4
        """
    static let touchHealth = "INSERT INTO health (id, checked_at) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET checked_at = EXCLUDED.checked_at"
    static let countExpiredQuarantine = "SELECT COUNT(*) AS n FROM quarantine WHERE expires_at <= $1"
    static let pruneQuarantine = "DELETE FROM quarantine WHERE id IN (SELECT id FROM quarantine WHERE expires_at <= $1 LIMIT $2)"

    // MARK: Streams (the same statements as SQLiteSchema's, in PostgreSQL's dialect)

    // A batch's entries for one stream take their sequences in one step: the counter row stays locked until the
    // ingest commits, so another instance's entries get later sequences and become visible after these.
    static let reserveStreamSequences = """
        INSERT INTO streams (name, last_sequence) VALUES ($1, $2)
        ON CONFLICT (name) DO UPDATE SET last_sequence = streams.last_sequence + EXCLUDED.last_sequence
        RETURNING last_sequence
        """
    static let insertStreamEntries = """
        INSERT INTO stream_entries (stream, sequence, event_id, appended_at)
        SELECT $1, u.sequence, u.event_id, u.at FROM unnest($2::bigint[], $3::text[], $4::bigint[]) AS u(sequence, event_id, at)
        """
    static let nextSequence = "(SELECT COALESCE((SELECT last_sequence FROM streams WHERE name = $1), 0) + 1)"
    static let createGroup = """
        INSERT INTO stream_groups (stream, name, cursor, created_at, updated_at)
        VALUES ($1, $2, CASE WHEN $3::boolean THEN \(nextSequence)
                             ELSE COALESCE((SELECT MIN(sequence) FROM stream_entries WHERE stream = $1), \(nextSequence)) END, $4, $4)
        ON CONFLICT (stream, name) DO NOTHING
        """
    // The group row is the lock that serializes its leases and acknowledgements across instances. `SKIP LOCKED` on the
    // entries does not fit here: every group reads the same entries, and a row locked by one group's lease must not
    // be skipped by another group.
    static let lockGroup = "SELECT cursor FROM stream_groups WHERE stream = $1 AND name = $2 FOR UPDATE"
    static let groupCursor = "SELECT cursor FROM stream_groups WHERE stream = $1 AND name = $2"
    static let leasableEntries = """
        SELECT e.sequence, e.event_id, e.appended_at, l.sequence IS NOT NULL AS expired
        FROM stream_entries e
        LEFT JOIN stream_leases l ON l.stream = e.stream AND l.group_name = $2 AND l.sequence = e.sequence
        WHERE e.stream = $1 AND e.sequence >= $3 AND (l.sequence IS NULL OR (NOT l.acknowledged AND l.expires_at <= $4))
        ORDER BY e.sequence LIMIT $5
        """
    static let leaseEntries = """
        INSERT INTO stream_leases (stream, group_name, sequence, receipt, expires_at, acknowledged)
        SELECT $1, $2, u.sequence, $4, $5, FALSE FROM unnest($3::bigint[]) AS u(sequence)
        ON CONFLICT (stream, group_name, sequence) DO UPDATE SET receipt = EXCLUDED.receipt, expires_at = EXCLUDED.expires_at
        """
    static let acknowledgeReceipt = """
        UPDATE stream_leases SET acknowledged = TRUE, receipt = NULL
        WHERE receipt = $3 AND stream = $1 AND group_name = $2 AND NOT acknowledged AND expires_at > $4
        """
    static let acknowledgeSequences = """
        INSERT INTO stream_leases (stream, group_name, sequence, receipt, expires_at, acknowledged)
        SELECT $1, $2, e.sequence, NULL, 0, TRUE FROM stream_entries e
        WHERE e.stream = $1 AND e.sequence = ANY($3::bigint[]) AND e.sequence >= $4
        ON CONFLICT (stream, group_name, sequence) DO UPDATE SET acknowledged = TRUE, receipt = NULL WHERE NOT stream_leases.acknowledged
        """
    static let lowestUnacknowledged = """
        SELECT MIN(e.sequence) AS s FROM stream_entries e
        WHERE e.stream = $1 AND e.sequence >= $3
          AND NOT EXISTS (SELECT 1 FROM stream_leases l WHERE l.stream = $1 AND l.group_name = $2 AND l.sequence = e.sequence AND l.acknowledged)
        """
    static let releaseLeases = """
        UPDATE stream_leases SET expires_at = $4 WHERE receipt = ANY($3::text[]) AND stream = $1 AND group_name = $2 AND NOT acknowledged AND expires_at > $4
        """
    static let setCursor = "UPDATE stream_groups SET cursor = $3, updated_at = $4 WHERE stream = $1 AND name = $2"
    static let dropLeasesBelow = "DELETE FROM stream_leases WHERE stream = $1 AND group_name = $2 AND sequence < $3"
    static let dropLeases = "DELETE FROM stream_leases WHERE stream = $1 AND group_name = $2"
    static let countUnacknowledgedThrough = """
        SELECT COUNT(*) AS n FROM stream_entries e WHERE e.stream = $1 AND e.sequence >= $3 AND e.sequence <= $4
          AND NOT EXISTS (SELECT 1 FROM stream_leases l WHERE l.stream = $1 AND l.group_name = $2 AND l.sequence = e.sequence AND l.acknowledged)
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
                                  AND l.sequence = e.sequence AND l.acknowledged)) AS lag,
               (SELECT e.appended_at FROM stream_entries e WHERE e.stream = g.stream AND e.sequence >= g.cursor
                  ORDER BY e.sequence LIMIT 1) AS oldest,
               (SELECT COUNT(*) FROM stream_leases l WHERE l.stream = g.stream AND l.group_name = g.name
                  AND NOT l.acknowledged AND l.expires_at > $2) AS leased,
               COALESCE((SELECT MIN(sequence) FROM stream_entries e WHERE e.stream = g.stream),
                        COALESCE((SELECT last_sequence FROM streams s WHERE s.name = g.stream), 0) + 1) AS first_retained
        FROM stream_groups g WHERE ($1::text IS NULL OR g.stream = $1::text) ORDER BY g.stream, g.name
        """
    static let firstAppendedSince = "SELECT MIN(sequence) AS s FROM stream_entries WHERE stream = $1 AND appended_at >= $2"
    static let deleteGroup = "DELETE FROM stream_groups WHERE stream = $1 AND name = $2"
    static let pruneStreamEntries = """
        DELETE FROM stream_entries WHERE stream = $1 AND sequence IN (
            SELECT sequence FROM stream_entries WHERE stream = $1
              AND (appended_at < $2 OR sequence < (SELECT MIN(cursor) FROM stream_groups WHERE stream = $1))
            ORDER BY sequence LIMIT $3)
        """
}
