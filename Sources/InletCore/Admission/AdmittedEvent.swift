/// What admission learned about an accepted request.
public struct AdmittedEvent: Sendable, Equatable {
    public enum KeyOrigin: String, Sendable { case provider, bodyHash = "body_sha256" }
    /// The idempotency key within the source: the provider's event ID, or the body's SHA-256.
    public var eventKey: String
    public var keyOrigin: KeyOrigin
    public var eventType: String?
    /// Label of the secret that verified the request; nil when nothing was verified (`verify_signatures = false`).
    public var secretLabel: String?
    /// What verification established: the body signed, only the sender, or nothing.
    public var authenticity: Authenticity = .bodySigned
    public var providerTimestamp: EpochMillis?
    /// The client address after trusted-proxy resolution.
    public var clientAddress: IPAddress?
    /// The destinations whose routes matched (empty: unrouted).
    public var destinations: [String] = []
    /// A split batch (`SplitSpec`): one entry per item, each an event of its own. Empty: the request is one event.
    public var items: [AdmittedItem] = []
}

/// One item of a split batch: its key, type and routes, and where its bytes are in the request's body.
public struct AdmittedItem: Sendable, Equatable {
    public var eventKey: String
    public var keyOrigin: AdmittedEvent.KeyOrigin
    public var eventType: String?
    public var destinations: [String]
    /// The item's exact bytes in the body.
    public var range: Range<Int>

    public init(eventKey: String, keyOrigin: AdmittedEvent.KeyOrigin, eventType: String?, destinations: [String], range: Range<Int>) {
        self.eventKey = eventKey
        self.keyOrigin = keyOrigin
        self.eventType = eventType
        self.destinations = destinations
        self.range = range
    }
}
