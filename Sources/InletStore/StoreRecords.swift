import InletCore

/// An admitted request on its way into the store: the exact bytes and everything needed to route it.
public struct IngestRecord: Sendable {
    public var id: String
    public var source: String
    public var provider: String
    public var eventKey: String
    public var keyOrigin: AdmittedEvent.KeyOrigin
    public var eventType: String?
    public var receivedAt: EpochMillis
    public var providerTimestamp: EpochMillis?
    public var peer: String?
    public var clientAddress: String?
    public var method: String
    public var path: String
    public var query: String?
    public var headers: HTTPHeaderList
    public var body: [UInt8]
    public var secretLabel: String?
    /// One queue row is created per destination. No destination: the event is stored and marked unrouted.
    public var destinations: [String]
    /// Per destination that delivers in order: the event's ordering key.
    public var orderingKeys: [String: String] = [:]
    /// What admission verified (`AdmittedEvent.authenticity`).
    public var authenticity: Authenticity = .bodySigned
    /// An item of a split batch: the raw request is stored once, with the first item of it that is accepted.
    public var batch: BatchReference?
    /// The streams the event is appended to, in the same transaction as its queue rows (`StreamStore`).
    public var streams: [String] = []
    /// Stored and marked unrouted when it goes nowhere: no destination and no stream.
    public var isUnrouted: Bool { destinations.isEmpty && streams.isEmpty }

    public init(id: String, source: String, provider: String, eventKey: String, keyOrigin: AdmittedEvent.KeyOrigin, eventType: String?, receivedAt: EpochMillis, providerTimestamp: EpochMillis?, peer: String?, clientAddress: String?, method: String, path: String, query: String?, headers: HTTPHeaderList, body: [UInt8], secretLabel: String?, destinations: [String]) {
        self.id = id
        self.source = source
        self.provider = provider
        self.eventKey = eventKey
        self.keyOrigin = keyOrigin
        self.eventType = eventType
        self.receivedAt = receivedAt
        self.providerTimestamp = providerTimestamp
        self.peer = peer
        self.clientAddress = clientAddress
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.secretLabel = secretLabel
        self.destinations = destinations
    }
}

/// The outcome of ingesting one record.
public enum IngestResult: Sendable, Equatable {
    /// Stored and queued; the Inlet event ID.
    case accepted(id: String)
    /// (source, event key) was seen before; the ID of the event that holds it. Nothing was queued.
    case duplicate(id: String)
}

/// A queue row claimed for delivery, with what the worker needs to build the request.
public struct ClaimedDelivery: Sendable, Equatable {
    public var deliveryID: Int64
    public var destination: String
    /// Attempts already made before this one.
    public var attemptsMade: Int
    public var createdAt: EpochMillis
    public var event: StoredEvent
    /// Queued by an operator's replay rather than by ingress.
    public var isReplay: Bool = false
}

public enum DeliveryState: String, Sendable, Codable {
    case pending, delivered, dead
}

/// A stored event, as read back.
public struct StoredEvent: Sendable, Equatable {
    public var id: String
    public var source: String
    public var provider: String
    public var eventKey: String
    public var keyOrigin: String
    public var eventType: String?
    public var receivedAt: EpochMillis
    public var providerTimestamp: EpochMillis?
    public var peer: String?
    public var clientAddress: String?
    public var method: String
    public var path: String
    public var query: String?
    public var headers: HTTPHeaderList
    public var contentType: String?
    public var body: [UInt8]
    public var secretLabel: String?
    public var duplicates: Int
    public var unrouted: Bool = false
    /// `body_signed`, `sender_authenticated` or `unverified`; nil for events stored before it was recorded.
    public var authenticity: String? = nil
    /// For an item of a split batch: the stored request it came in (`batch(id:)`) and its position there.
    public var batchID: String? = nil
    public var batchIndex: Int? = nil
}

/// The request a split batch's items came in, stored once beside them.
public struct BatchReference: Sendable, Equatable {
    /// `req_…`.
    public var id: String
    public var index: Int
    public var count: Int
    /// The whole body as received (shared by every item's record, not copied).
    public var body: [UInt8]

    public init(id: String, index: Int, count: Int, body: [UInt8]) {
        self.id = id
        self.index = index
        self.count = count
        self.body = body
    }
}

/// A stored batch request.
public struct StoredBatch: Sendable, Equatable {
    public var id: String
    public var source: String
    public var receivedAt: EpochMillis
    public var items: Int
    public var body: [UInt8]

    public init(id: String, source: String, receivedAt: EpochMillis, items: Int, body: [UInt8]) {
        self.id = id
        self.source = source
        self.receivedAt = receivedAt
        self.items = items
        self.body = body
    }
}

/// A delivery's current state, as read back.
public struct DeliveryRecord: Sendable, Equatable {
    public var id: Int64
    public var eventID: String
    public var destination: String
    public var state: DeliveryState
    public var attempts: Int
    public var nextAttemptAt: EpochMillis
    public var lastStatus: Int?
    public var lastError: String?
    public var deliveredAt: EpochMillis?
}

/// One attempt, as recorded in the attempt log.
public struct AttemptRecord: Sendable, Equatable {
    public var deliveryID: Int64
    public var attempt: Int
    public var startedAt: EpochMillis
    public var durationMillis: Int64
    public var statusCode: Int?
    public var error: String?
    public var responseSnippet: [UInt8]?
    public var nextAttemptAt: EpochMillis?

    public init(deliveryID: Int64, attempt: Int, startedAt: EpochMillis, durationMillis: Int64, statusCode: Int?, error: String?, responseSnippet: [UInt8]?, nextAttemptAt: EpochMillis?) {
        self.deliveryID = deliveryID
        self.attempt = attempt
        self.startedAt = startedAt
        self.durationMillis = durationMillis
        self.statusCode = statusCode
        self.error = error
        self.responseSnippet = responseSnippet
        self.nextAttemptAt = nextAttemptAt
    }
}

/// What a worker reports after an attempt.
public struct DeliveryCompletion: Sendable, Equatable {
    public var attempt: AttemptRecord
    /// The policy's decision; a dead row's reason is also the attempt's error when the attempt had none.
    public var next: DeliveryPolicy.Next

    public init(attempt: AttemptRecord, next: DeliveryPolicy.Next) {
        self.attempt = attempt
        self.next = next
    }
}

public struct StoreCounts: Sendable, Equatable {
    public var events: Int
    public var pending: Int
    public var delivered: Int
    public var dead: Int
    public var quarantined: Int

    public init(events: Int, pending: Int, delivered: Int, dead: Int, quarantined: Int = 0) {
        self.events = events
        self.pending = pending
        self.delivered = delivered
        self.dead = dead
        self.quarantined = quarantined
    }
}

/// Errors from the store. The message never contains payload bytes or secrets.
public enum StoreError: Error, CustomStringConvertible, Sendable {
    case unavailable(String)
    case locked(String)
    public var description: String {
        switch self {
        case .unavailable(let m): return "store unavailable: \(m)"
        case .locked(let m): return "store is locked by another process: \(m)"
        }
    }
}

/// One destination's queue, for metrics and the admin API.
public struct QueueGauge: Sendable, Equatable {
    public var pending: Int
    /// The `next_attempt_at` of the longest-waiting due row, nil when nothing is due now.
    public var oldestDueAt: EpochMillis?
    public var dead: Int

    public init(pending: Int, oldestDueAt: EpochMillis?, dead: Int) {
        self.pending = pending
        self.oldestDueAt = oldestDueAt
        self.dead = dead
    }
}

/// A replay to queue: the event, where to, and when it becomes due.
public struct ReplayItem: Sendable, Equatable {
    public var eventID: String
    public var destinations: [String]
    public var dueAt: EpochMillis

    public init(eventID: String, destinations: [String], dueAt: EpochMillis) {
        self.eventID = eventID
        self.destinations = destinations
        self.dueAt = dueAt
    }
}

/// A rejected request, kept with its reason: the exact bytes, so that re-admitting it verifies what was received.
public struct QuarantineEntry: Sendable, Equatable {
    public var id: Int64
    public var source: String
    public var provider: String
    public var reason: String
    public var receivedAt: EpochMillis
    public var expiresAt: EpochMillis
    public var peer: String?
    public var method: String
    public var path: String
    public var query: String?
    public var headers: HTTPHeaderList
    public var body: [UInt8]
    public var bodyBytes: Int

    public init(id: Int64 = 0, source: String, provider: String, reason: String, receivedAt: EpochMillis, expiresAt: EpochMillis, peer: String?,
                method: String, path: String, query: String?, headers: HTTPHeaderList, body: [UInt8]) {
        self.id = id
        self.source = source
        self.provider = provider
        self.reason = reason
        self.receivedAt = receivedAt
        self.expiresAt = expiresAt
        self.peer = peer
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.bodyBytes = body.count
    }
}

/// How many quarantine entries are kept. Per (source, reason) first: a flood of one kind of junk evicts only its own
/// kind, never the genuine requests of another (a provider signing with a secret the config does not hold yet), which
/// are what re-admission recovers.
public struct QuarantineQuota: Sendable, Equatable {
    public var total: Int
    public var perSourceReason: Int

    public init(total: Int, perSourceReason: Int) {
        self.total = max(0, total)
        self.perSourceReason = max(0, perSourceReason)
    }
}

public struct QuarantineFilter: Sendable, Equatable {
    public var source: String?
    public var reason: String?

    public init(source: String? = nil, reason: String? = nil) {
        self.source = source
        self.reason = reason
    }
}

/// How much a secret is still used: the evidence an operator needs before retiring it.
public struct SecretUsage: Sendable, Equatable {
    public var source: String
    public var secretLabel: String
    public var lastVerifiedAt: EpochMillis
    public var verifiedSince: Int

    public init(source: String, secretLabel: String, lastVerifiedAt: EpochMillis, verifiedSince: Int) {
        self.source = source
        self.secretLabel = secretLabel
        self.lastVerifiedAt = lastVerifiedAt
        self.verifiedSince = verifiedSince
    }
}

/// A delivery that gave up, with why.
public struct DeadLetter: Sendable, Equatable {
    public var deliveryID: Int64
    public var eventID: String
    public var destination: String
    public var source: String
    public var eventType: String?
    public var attempts: Int
    public var lastStatus: Int?
    public var lastError: String?
    public var deadAt: EpochMillis
    public var isReplay: Bool
}

/// Where a stored event's deliveries stand.
public enum EventStatus: String, Sendable, CaseIterable {
    /// Some delivery is still to be made (queued, retrying or in flight).
    case pending
    /// Some delivery gave up (a dead letter).
    case dead
    /// Routed, and every delivery was made.
    case delivered
    /// No route matched.
    case unrouted
}

/// Which stored events to list. Every field is optional; set fields must all match.
public struct EventFilter: Sendable, Equatable {
    public var source: String?
    public var eventType: String?
    public var eventKey: String?
    public var receivedFrom: EpochMillis?
    public var receivedUntil: EpochMillis?
    public var unroutedOnly = false
    public var status: EventStatus?

    public init(source: String? = nil, eventType: String? = nil, eventKey: String? = nil, receivedFrom: EpochMillis? = nil,
                receivedUntil: EpochMillis? = nil, unroutedOnly: Bool = false, status: EventStatus? = nil) {
        self.status = status
        self.source = source
        self.eventType = eventType
        self.eventKey = eventKey
        self.receivedFrom = receivedFrom
        self.receivedUntil = receivedUntil
        self.unroutedOnly = unroutedOnly
    }
}

/// The unit a quarantine quota counts in.
struct QuarantineGroup: Hashable {
    var source: String
    var reason: String
}

/// A secret a source took from a handshake. Its value never appears in a description.
public struct HandshakeSecretRecord: Sendable, Equatable, CustomStringConvertible {
    public var source: String
    /// The secret's label among the source's keys (`handshake:<handshake name>`).
    public var label: String
    public var secret: String
    /// The handshake that carried it (`asana-hook-secret`).
    public var handshake: String
    public var establishedAt: EpochMillis
    /// The client address the handshake came from.
    public var peer: String?

    public init(source: String, label: String, secret: String, handshake: String, establishedAt: EpochMillis, peer: String?) {
        self.source = source
        self.label = label
        self.secret = secret
        self.handshake = handshake
        self.establishedAt = establishedAt
        self.peer = peer
    }

    public var description: String { "HandshakeSecretRecord(\(source), \(label), <redacted>)" }
}

/// Something done to a source's secrets, kept for operators: when, what, and from where (never a secret's value).
public struct AuditRecord: Sendable, Equatable {
    public var id: Int64
    public var at: EpochMillis
    public var source: String?
    /// `secret_established`.
    public var action: String
    public var detail: String

    public init(id: Int64, at: EpochMillis, source: String?, action: String, detail: String) {
        self.id = id
        self.at = at
        self.source = source
        self.action = action
        self.detail = detail
    }
}

extension HandshakeSecretRecord {
    /// The audit record's detail: the label, the handshake and the peer, not the secret.
    public var auditDetail: String { "label=\(label) handshake=\(handshake) peer=\(peer ?? "-")" }
}
