import InletConfig
import InletCore
import InletStore
import Logging
import NIOConcurrencyHelpers
import NIOPosix
import ServiceLifecycle

/// Keeps rejected requests for re-admission. Off the ack path: ingress hands an entry over and answers at once; a
/// background loop writes what gathered every `flushInterval` in one transaction. Not durable by design (the
/// provider was told 4xx/5xx and keeps its own copy); bounded in memory, so a flood of forgeries cannot grow it.
public final class QuarantineWriter: Service, Sendable {
    private let store: any QuarantineStore
    private let settings: QuarantineSettings
    private let storeThreads: NIOThreadPool
    private let logger: Logger
    private let metrics: GatewayMetrics
    private let pending = NIOLockedValueBox<(entries: [QuarantineEntry], bytes: Int)>(([], 0))
    private let peers: NIOLockedValueBox<PeerWindowLimiter>
    static let flushInterval: Duration = .milliseconds(100)
    /// Entries and bytes waiting for the next flush; beyond either, new entries are dropped (and counted).
    static let maxPendingEntries = 2_000
    static let maxPendingBytes = 32 << 20

    init(store: any QuarantineStore, settings: QuarantineSettings, storeThreads: NIOThreadPool, logger: Logger, metrics: GatewayMetrics) {
        self.store = store
        self.settings = settings
        self.storeThreads = storeThreads
        self.logger = logger
        self.metrics = metrics
        peers = NIOLockedValueBox(PeerWindowLimiter(perWindow: settings.perPeerPerMinute, windowMillis: 60_000))
    }

    /// Called on an event loop for each refused request; never blocks.
    func keep(_ request: IncomingRequest, source: ResolvedSource, reason: RejectionReason) {
        guard settings.enabled, reason.isQuarantinable, !settings.skipReasons.contains(reason.rawValue) else { return }
        guard request.body.count <= settings.maxBodyBytes else {
            metrics.quarantineDropped(reason: "body_too_large")
            return
        }
        // Behind a trusted proxy every request has the proxy's address: count the client it forwarded for.
        let allowlist = source.allowlist
        let client = allowlist.trustedProxies.isEmpty ? request.peer
            : allowlist.clientAddress(peer: request.peer, forwardedFor: request.headers.all("X-Forwarded-For"))
        let peer = client?.description ?? request.peer?.description ?? "-"
        guard peers.withLockedValue({ $0.admit(peer, now: request.receivedAt) }) else {
            metrics.quarantineDropped(reason: "peer_rate_limited")
            return
        }
        // Kept with a salted commitment in place of any token, so re-admission can still tell whether it was valid.
        let salt = source.profile.credentialSources.isEmpty ? nil : CredentialRedaction.randomSalt()
        let stored = CredentialRedaction.redacting(request, profile: source.profile, salt: salt)
        let entry = QuarantineEntry(source: source.name, provider: source.profile.name, reason: reason.rawValue, receivedAt: request.receivedAt,
                                    expiresAt: request.receivedAt + Int64(settings.retentionHours) * 3_600_000, peer: request.peer?.description,
                                    method: request.method, path: request.path, query: stored.query, headers: stored.headers, body: request.body)
        let taken = pending.withLockedValue { p -> Bool in
            guard p.entries.count < Self.maxPendingEntries, p.bytes + entry.body.count <= Self.maxPendingBytes else { return false }
            p.entries.append(entry)
            p.bytes += entry.body.count
            return true
        }
        if taken { metrics.quarantined(source: source.name, reason: reason.rawValue) } else { metrics.quarantineDropped(reason: "backlog_full") }
    }

    public func run() async throws {
        try await PeriodicService(every: Self.flushInterval, start: .afterInterval, finally: { await self.flush() }) { await self.flush() }.run()
    }

    func flush() async {
        let batch = pending.withLockedValue { p -> [QuarantineEntry] in
            defer { p = ([], 0) }
            return p.entries
        }
        guard !batch.isEmpty else { return }
        let store = self.store, quota = QuarantineQuota(total: settings.maxEntries, perSourceReason: settings.maxEntriesPerSourceReason)
        do {
            try await storeThreads.runIfActive { try store.quarantine(batch, quota: quota) }
        } catch {
            logger.warning("quarantine entries not kept", metadata: ["entries": "\(batch.count)", "error": "\(error)"])
        }
    }
}

/// Counts quarantine writes per peer address in fixed windows: one peer's flood fills its own allowance, not the
/// quarantine. Tracks at most `maxPeers` addresses (a flood from many addresses cannot grow it); when that many are
/// live in the current window, new addresses are refused until it ends, and the per-(source, reason) quotas still
/// bound what gets through.
struct PeerWindowLimiter: Sendable {
    let perWindow: Int
    let windowMillis: Int64
    let maxPeers: Int
    private var counts: [String: (windowStart: EpochMillis, count: Int)] = [:]
    /// When a full table was last swept: at most once a second, so a flood of new addresses costs no sweep each.
    private var sweptAt: EpochMillis?

    init(perWindow: Int, windowMillis: Int64, maxPeers: Int = 10_000) {
        self.perWindow = perWindow
        self.windowMillis = windowMillis
        self.maxPeers = maxPeers
    }

    var trackedPeers: Int { counts.count }

    mutating func admit(_ peer: String, now: EpochMillis) -> Bool {
        if var entry = counts[peer] {
            if now - entry.windowStart >= windowMillis || now < entry.windowStart { entry = (now, 0) }
            guard entry.count < perWindow else { counts[peer] = entry; return false }
            entry.count += 1
            counts[peer] = entry
            return true
        }
        if counts.count >= maxPeers {
            if let at = sweptAt, now >= at, now - at < 1_000 { return false }
            sweptAt = now
            counts = counts.filter { now - $0.value.windowStart < windowMillis && now >= $0.value.windowStart }
            guard counts.count < maxPeers else { return false }
        }
        guard perWindow > 0 else { return false }
        counts[peer] = (now, 1)
        return true
    }
}

/// What became of a re-admitted quarantine entry.
public enum ReadmitOutcome: Sendable, Equatable {
    case accepted(eventID: String)
    case duplicate(eventID: String)
    case rejected(reason: String)
}

/// Re-admission: an entry is verified again against the config running now, at the time it was first received
/// (so freshness is judged against its arrival, not against today), and, if it passes, admitted as if just
/// received: stored, deduplicated and routed like any new request. It leaves the quarantine once stored.
struct Readmitter: Sendable {
    let runtime: LiveConfig
    let store: any IngestStore & QuarantineStore
    let storeThreads: NIOThreadPool
    let clock: any WallClock
    /// Signing certificates for SNS/PayPal sources; without one such entries stay rejected.
    let certificates: SigningCertificateCache?

    /// What re-verifying `entry` against the config running now decides, without storing anything: the records it
    /// would ingest, or the reason it is still refused. The console shows this before an operator re-admits.
    enum Verdict: Sendable {
        /// The records it would ingest: one, or one per item of a split batch.
        case admit([IngestRecord])
        case rejected(reason: String)
    }

    func verdict(_ entry: QuarantineEntry) async -> Verdict {
        let snapshot = runtime.current
        guard let source = snapshot.resolved.sources.first(where: { $0.name == entry.source }) else {
            return .rejected(reason: "source_not_configured")
        }
        let kept = IncomingRequest(method: entry.method, path: entry.path, query: entry.query, headers: entry.headers, body: entry.body,
                                   peer: entry.peer.flatMap { IPAddress($0) }, receivedAt: entry.receivedAt)
        // The entry holds a commitment, not the token: put back (in memory) the current secret it commits to, if any.
        let request = CredentialRedaction.restoring(kept, profile: source.profile, keys: source.keys)
        var decision = source.decide(request, now: entry.receivedAt)
        if case .needsCertificate(let url) = decision {
            let key = try? await certificates?.publicKey(for: url, requirement: source.certificateRequirement)
            decision = source.decide(request, now: entry.receivedAt, certificate: key.map { .key($0) } ?? .unavailable)
        }
        switch decision {
        case .reject(let reason): return .rejected(reason: reason.rawValue)
        case .handshake: return .rejected(reason: "handshake_not_readmitted")
        case .needsCertificate: return .rejected(reason: RejectionReason.certificateUnavailable.rawValue)
        case .admit(let admitted):
            // A split batch's items are committed together, in one transaction.
            return .admit(IngestRecord.admittedAll(admitted, request: request, source: source, snapshot: snapshot, receivedAt: clock.now()))
        }
    }

    func readmit(_ entry: QuarantineEntry) async throws -> ReadmitOutcome {
        switch await verdict(entry) {
        case .rejected(let reason): return .rejected(reason: reason)
        case .admit(let records):
            let store = self.store, id = entry.id
            let result = try await storeThreads.runIfActive { () -> IngestResult in
                let results = try store.ingest(records)
                let result = results.first { if case .accepted = $0 { return true }; return false } ?? results[0]
                _ = try store.removeQuarantined(id: id)
                return result
            }
            switch result {
            case .accepted(let eventID): return .accepted(eventID: eventID)
            case .duplicate(let eventID): return .duplicate(eventID: eventID)
            }
        }
    }
}
