import InletCore

// Streams: ordered logs that routes append to (`stream:NAME`) in the ingest transaction, and that consumers pull
// from as named groups. Per group the store keeps a committed cursor (the lowest sequence not yet acknowledged) and,
// above it, one lease row per sequence handed out or acknowledged out of order:
//
//   stream_entries  (stream, sequence) → event, appended_at; sequences come from `streams.last_sequence`, so they
//                   only ever rise, even after retention removed every entry
//   stream_groups   (stream, name) → cursor
//   stream_leases   (stream, group, sequence) → receipt, expires_at, acknowledged
//
// A batch is the oldest entries at or above the cursor that no live lease holds; it is leased under one receipt. An
// acknowledgement marks its rows and moves the cursor past every acknowledged sequence; rows below the cursor go.

/// What a consumer asks for: the next batch of a group.
public struct StreamLeaseRequest: Sendable, Equatable {
    public var stream: String
    public var group: String
    public var max: Int
    public var leaseMillis: Int64
    /// Only when this call creates the group: start after the newest entry rather than at the oldest retained one.
    public var startAtNow: Bool
    /// Only entries after this sequence (a server-sent-events connection never takes back what it already sent).
    public var after: Int64?

    public init(stream: String, group: String, max: Int, leaseMillis: Int64, startAtNow: Bool = false, after: Int64? = nil) {
        self.stream = stream
        self.group = group
        self.max = max
        self.leaseMillis = leaseMillis
        self.startAtNow = startAtNow
        self.after = after
    }
}

/// One stream entry: its sequence and the stored event.
public struct StreamItem: Sendable, Equatable {
    public var sequence: Int64
    public var appendedAt: EpochMillis
    public var event: StoredEvent
}

/// A leased batch. Empty: no receipt.
public struct StreamBatch: Sendable, Equatable {
    public var receipt: String?
    public var leaseExpiresAt: EpochMillis?
    public var items: [StreamItem]
    /// How many of the items had been leased before and their lease ran out unacknowledged.
    public var expiredLeases: Int

    public init(receipt: String?, leaseExpiresAt: EpochMillis?, items: [StreamItem], expiredLeases: Int = 0) {
        self.receipt = receipt
        self.leaseExpiresAt = leaseExpiresAt
        self.items = items
        self.expiredLeases = expiredLeases
    }
}

/// The outcome of an acknowledgement: how many sequences it acknowledged now, and the group's cursor after it.
public struct StreamAck: Sendable, Equatable {
    public var acknowledged: Int
    public var cursor: Int64
    public init(acknowledged: Int, cursor: Int64) {
        self.acknowledged = acknowledged
        self.cursor = cursor
    }
}

/// Where a rewind puts a group's cursor.
public enum StreamPosition: Sendable, Equatable {
    /// At this sequence: it is served next.
    case sequence(Int64)
    /// At the first entry appended at or after this time.
    case time(EpochMillis)
}

/// A stream as the listing and the gauges show it.
public struct StreamSummary: Sendable, Equatable {
    public var name: String
    /// Entries retained now.
    public var length: Int
    /// The newest sequence ever appended (0: none yet).
    public var lastSequence: Int64
    /// The oldest retained entry's sequence and time; nil when none is retained.
    public var firstSequence: Int64?
    public var oldestAppendedAt: EpochMillis?
}

/// A consumer group as the listing and the gauges show it.
public struct StreamGroupState: Sendable, Equatable {
    public var stream: String
    public var group: String
    /// The lowest sequence not yet acknowledged (what a rewind sets).
    public var cursor: Int64
    /// Retained entries at or above the cursor not acknowledged yet.
    public var lagEvents: Int
    /// When the oldest of those was appended; nil when there is none.
    public var oldestUnacknowledgedAt: EpochMillis?
    /// Entries leased to consumers now.
    public var leased: Int
    /// Entries retention removed before this group acknowledged them (its cursor is below the oldest retained
    /// entry): they are lost to it. The next acknowledgement moves the cursor up to what is retained.
    public var missedByRetention: Int64
    public var createdAt: EpochMillis
    public var updatedAt: EpochMillis
}

public enum StreamStoreError: Error, Equatable, Sendable {
    /// The receipt is unknown, already acknowledged, or its lease ran out (its entries may be someone else's now).
    case receiptExpired
    /// No such consumer group on this stream.
    case unknownGroup
}

/// Streams as consumers and operators see them. Appending is not here: it is part of `IngestStore.ingest`, so an event
/// is in its streams exactly when its ingest committed.
public protocol StreamStore: Sendable {
    /// Leases the next batch of `request.group` (creating the group at the oldest retained entry, or after the newest
    /// with `startAtNow`) under `receipt` until `now + leaseMillis`.
    func leaseBatch(_ request: StreamLeaseRequest, receipt: String, now: EpochMillis) throws -> StreamBatch

    /// Acknowledges a batch by its receipt; `StreamStoreError.receiptExpired` when it is not live.
    func acknowledge(stream: String, group: String, receipt: String, now: EpochMillis) throws -> StreamAck

    /// Acknowledges sequences, leased or not (retained ones at or above the cursor count).
    func acknowledge(stream: String, group: String, sequences: [Int64], now: EpochMillis) throws -> StreamAck

    /// Acknowledges every sequence up to and including `sequence` (an SSE client's `Last-Event-ID`), creating the group
    /// like `leaseBatch` when it does not exist.
    func commitThrough(stream: String, group: String, sequence: Int64, startAtNow: Bool, now: EpochMillis) throws -> StreamAck

    /// Ends the leases of `receipts` now, so their unacknowledged entries are served again at once (a server-sent-events
    /// connection that closed gives back what it sent and was not acknowledged).
    func releaseLeases(stream: String, group: String, receipts: [String], now: EpochMillis) throws

    func streamSummaries() throws -> [StreamSummary]
    /// Every group of `stream` (all streams' when nil), by stream and name.
    func streamGroups(stream: String?, now: EpochMillis) throws -> [StreamGroupState]

    /// Moves a group's cursor (every lease and out-of-order acknowledgement of it is dropped); returns the new cursor,
    /// nil for an unknown group.
    func rewindGroup(stream: String, group: String, to position: StreamPosition, now: EpochMillis) throws -> Int64?

    func deleteGroup(stream: String, group: String) throws -> Bool

    /// Retention: removes entries of each named stream appended before its cutoff, or below every one of its groups'
    /// cursors (a stream without groups keeps entries until the cutoff), at most `limit` per call; returns how many went.
    func pruneStreams(appendedBefore cutoffs: [String: EpochMillis], limit: Int) throws -> Int
}
