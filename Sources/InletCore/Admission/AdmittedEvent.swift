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
}
