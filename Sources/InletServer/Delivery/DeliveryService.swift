import AsyncHTTPClient
import Foundation
import InletConfig
import InletCore
import InletStore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// Works the queue: claims due rows, POSTs each event to its destination as a CloudEvent signed with the
/// Standard Webhooks scheme, and records the attempt. At-least-once: a row is finished only after the
/// destination answered 2xx and that was committed; a crash before that re-delivers once the lease expires.
public final class DeliveryService: Service, Sendable {
    private let store: any DeliveryQueue
    private let runtime: GatewayRuntime
    private let client: HTTPClient
    private let clock: any WallClock
    private let settings: DeliverySettings
    private let logger: Logger
    private let doorbell: Doorbell
    private let storeThreads: NIOThreadPool
    private let completions: GroupCommitter<DeliveryCompletion, Void>
    private let metrics: GatewayMetrics
    private let inFlight = NIOLockedValueBox(0)
    private let stopping = NIOLockedValueBox(false)

    /// Largest response prefix kept in the attempt log.
    static let responseSnippetLimit = 1024

    init(store: any DeliveryQueue, runtime: GatewayRuntime, client: HTTPClient, clock: any WallClock, settings: DeliverySettings,
         logger: Logger, doorbell: Doorbell, storeThreads: NIOThreadPool, completions: GroupCommitter<DeliveryCompletion, Void>, metrics: GatewayMetrics) {
        self.metrics = metrics
        self.store = store
        self.runtime = runtime
        self.client = client
        self.clock = clock
        self.settings = settings
        self.logger = logger
        self.doorbell = doorbell
        self.storeThreads = storeThreads
        self.completions = completions
    }

    /// Per-destination pacing: concurrency, rate limit and circuit breaker. Guarded by `gates`' lock.
    struct Gate {
        var inFlight = 0
        var breaker: CircuitBreaker
        var bucket: TokenBucket?
        /// Since when a claim has waited for more free slots (see `claimBatchWaitMillis`).
        var claimDeferredSince: EpochMillis?
    }

    /// How long a claim for a few free slots may wait for more to free up. Under load slots free every fraction of
    /// a millisecond, so claims come in batches (one store transaction each, not one per delivery); when the
    /// destination is stuck, its last slots are filled after this wait instead of never.
    static let claimBatchWaitMillis: EpochMillis = 10
    private let gates = NIOLockedValueBox<[String: Gate]>([:])

    private func gate(_ d: ResolvedDestination) -> Gate {
        Gate(breaker: CircuitBreaker(failureThreshold: d.config.circuitFailureThreshold, openMillis: d.config.circuitOpenMillis,
                                     maxOpenMillis: d.config.circuitMaxOpenMillis),
             bucket: d.config.rateLimitPerSecond.map { TokenBucket(ratePerSecond: $0) })
    }

    /// The circuit state of each destination, for operators and tests.
    public func circuitStates() -> [String: String] {
        gates.withLockedValue { $0.mapValues { $0.breaker.name } }
    }

    public func run() async throws {
        let store = self.store, now = clock.now()
        try await storeThreads.runIfActive { try store.releaseAllClaims(now: now) }
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                while !stopping.withLockedValue({ $0 }) {
                    let moreDue = await claimRound(group: &group)
                    if moreDue { continue }
                    await doorbell.wait(timeout: await sleepBudget())
                }
            }
        } onGracefulShutdown: {
            self.stopping.withLockedValue { $0 = true }
            self.doorbell.ring()
        }
    }

    /// Claims what each destination may take now and starts those deliveries. Returns whether a destination filled
    /// its allowance (so more may be due at once).
    private func claimRound(group: inout DiscardingTaskGroup) async -> Bool {
        let snapshot = runtime.current
        let store = self.store, lease = Int64(settings.leaseSeconds) * 1000
        var full = false
        for (name, destination) in snapshot.resolved.destinations.sorted(by: { $0.key < $1.key }) {
            let now = clock.now()
            let globalRoom = settings.concurrency - inFlight.withLockedValue { $0 }
            guard globalRoom > 0 else { return false }
            let allowance = gates.withLockedValue { gates -> Int in
                var g = gates[name] ?? gate(destination)
                defer { gates[name] = g }
                var room = min(destination.config.maxConcurrency - g.inFlight, globalRoom)
                // Claim in batches: refilling each slot as it frees would cost a store transaction per delivery.
                // While deliveries are in flight, wait (briefly) until a quarter of the destination's slots are free.
                if g.inFlight > 0 && room > 0 && room < max(1, destination.config.maxConcurrency / 4) {
                    if let since = g.claimDeferredSince, now - since >= Self.claimBatchWaitMillis {
                        g.claimDeferredSince = nil
                    } else {
                        if g.claimDeferredSince == nil { g.claimDeferredSince = now }
                        room = 0
                    }
                } else {
                    g.claimDeferredSince = nil
                }
                if let probe = g.breaker.allowance(now: now, inFlight: g.inFlight) { room = min(room, probe) }
                if var b = g.bucket { room = min(room, b.available(now: now)); g.bucket = b }
                return max(0, room)
            }
            guard allowance > 0 else { continue }
            let claimed: [ClaimedDelivery]
            do {
                claimed = try await storeThreads.runIfActive { try store.claimDue(now: now, limit: allowance, leaseMillis: lease, destination: name) }
            } catch {
                logger.error("cannot claim deliveries", metadata: ["destination": "\(name)", "error": "\(error)"])
                continue
            }
            guard !claimed.isEmpty else { continue }
            gates.withLockedValue { gates in
                gates[name]?.inFlight += claimed.count
                gates[name]?.bucket?.take(claimed.count, now: now)
            }
            inFlight.withLockedValue { $0 += claimed.count }
            for c in claimed {
                group.addTask {
                    await self.deliver(c)
                    self.gates.withLockedValue { $0[c.destination]?.inFlight -= 1 }
                    self.inFlight.withLockedValue { $0 -= 1 }
                    self.doorbell.ring()
                }
            }
            if claimed.count == allowance { full = true }
        }
        return full
    }

    /// How long to sleep when nothing rings: until the next retry is due, a circuit may probe, or a rate-limited
    /// destination earns a token; at most the poll interval.
    private func sleepBudget() async -> Duration {
        let store = self.store
        let now = clock.now()
        var wait = Int64(settings.pollIntervalMillis)
        if let next = try? await storeThreads.runIfActive({ try store.nextDueAt() }) ?? nil { wait = min(wait, next - now) }
        gates.withLockedValue { gates in
            for g in gates.values {
                if let at = g.breaker.reopensAt { wait = min(wait, at - now) }
                if let since = g.claimDeferredSince { wait = min(wait, since + Self.claimBatchWaitMillis - now) }
                if let b = g.bucket, b.millisUntilNextToken() > 0 { wait = min(wait, b.millisUntilNextToken()) }
            }
        }
        return .milliseconds(max(wait, 1))
    }

    func deliver(_ c: ClaimedDelivery) async {
        // The count comes from a stored row; a corrupted one must not trap here.
        let attempt = c.attemptsMade < Int.max ? c.attemptsMade + 1 : Int.max
        let startedAt = clock.now()
        guard let destination = runtime.current.destination(c.destination) else {
            // Removed from the config: keep the row (an operator may restore the destination) and look again later.
            await finish(c, attempt: attempt, startedAt: startedAt, status: nil, error: "destination '\(c.destination)' is not configured",
                         snippet: nil, next: .retry(at: startedAt + 3_600_000))
            return
        }
        var request = HTTPClientRequest(url: destination.config.url)
        request.method = .POST
        let (headers, body) = Self.payload(for: c, attempt: attempt, destination: destination, timestampSeconds: startedAt / 1000)
        request.headers = headers
        request.body = .bytes(body)

        var status: Int?
        var errorText: String?
        var retryAfter: String?
        var snippet: [UInt8] = []
        do {
            let response = try await client.execute(request, timeout: .seconds(Int64(destination.config.timeoutSeconds)))
            status = Int(response.status.code)
            retryAfter = response.headers.first(name: "Retry-After")
            // Only the snippet is read: the rest of the answer (which may be large, or never end) is dropped with the
            // iterator, which cancels the request and closes its connection.
            var chunks = response.body.makeAsyncIterator()
            while snippet.count < Self.responseSnippetLimit, var chunk = try await chunks.next() {
                let take = min(chunk.readableBytes, Self.responseSnippetLimit - snippet.count)
                snippet += chunk.readBytes(length: take) ?? []
            }
        } catch {
            errorText = Self.describe(error)
        }
        let now = clock.now()
        let decision = destination.config.policy.next(
            attempt: attempt, status: status, retryAfterMillis: DeliveryPolicy.retryAfterMillis(status: status, header: retryAfter, now: now),
            receivedAt: c.event.receivedAt, now: now, unitRandom: Double.random(in: 0...1))
        let destinationFailed: Bool
        let next: DeliveryCompletion.Next
        switch decision {
        case .delivered: next = .delivered; destinationFailed = false
        case .retry(let at): next = .retry(at: at); destinationFailed = true
        case .dead(let reason):
            next = .dead
            destinationFailed = status.map { destination.config.retryStatuses.verdict(forStatus: $0) == .retry } ?? true
            if errorText == nil { errorText = reason }
        }
        let breakerName = gates.withLockedValue { gates -> String in
            gates[c.destination]?.breaker.record(success: !destinationFailed, now: now)
            return gates[c.destination]?.breaker.name ?? "closed"
        }
        if destinationFailed && breakerName == "open" {
            logger.warning("circuit open: destination paused", metadata: ["destination": "\(c.destination)"])
        }
        metrics.circuit(destination: c.destination, open: breakerName != "closed")
        switch next {
        case .delivered:
            metrics.attempt(destination: c.destination, outcome: "delivered")
            metrics.deliveryLatency(destination: c.destination, seconds: Double(now - c.event.receivedAt) / 1000)
        case .retry: metrics.attempt(destination: c.destination, outcome: "retry")
        case .dead: metrics.attempt(destination: c.destination, outcome: "dead")
        }
        await finish(c, attempt: attempt, startedAt: startedAt, status: status, error: errorText, snippet: snippet.isEmpty ? nil : snippet, next: next)
    }

    /// Hop-by-hop and framing headers never copied from the provider's request in `raw` mode.
    static let hopByHop: Set<String> = ["host", "content-length", "connection", "transfer-encoding", "keep-alive", "te", "trailer", "upgrade",
                                        "proxy-authorization", "proxy-authenticate", "expect"]

    /// The request for one attempt in the destination's payload mode. Every mode carries the Standard Webhooks
    /// signature over the bytes actually sent, and `Inlet-Event-Id` for tracing.
    static func payload(for c: ClaimedDelivery, attempt: Int, destination: ResolvedDestination, timestampSeconds: Int64) -> (HTTPHeaders, [UInt8]) {
        let event = c.event
        var headers = HTTPHeaders()
        let body: [UInt8]
        var extensions = [("inletprovider", event.provider), ("inleteventkey", event.eventKey), ("inletattempt", String(attempt))]
        if c.isReplay { extensions.append(("inletreplay", "true")) }
        let type = event.eventType ?? "\(event.provider).webhook"
        switch destination.config.payload {
        case .cloudevents:
            body = CloudEvent(id: event.id, source: "/sources/\(event.source)", type: type, time: event.receivedAt, body: event.body,
                              bodyContentType: event.contentType, extensions: extensions).encodeJSON()
            headers.add(name: "Content-Type", value: CloudEvent.jsonContentType)
        case .cloudeventsBinary:
            body = event.body
            headers.add(name: "Content-Type", value: event.contentType ?? "application/octet-stream")
            headers.add(name: "ce-specversion", value: "1.0")
            headers.add(name: "ce-id", value: event.id)
            headers.add(name: "ce-source", value: "/sources/\(event.source)")
            headers.add(name: "ce-type", value: type)
            headers.add(name: "ce-time", value: RFC3339.format(event.receivedAt))
            for (k, v) in extensions { headers.add(name: "ce-" + k, value: v) }
        case .raw:
            body = event.body
            for h in event.headers where !hopByHop.contains(h.name.lowercased()) && !h.name.lowercased().hasPrefix("webhook-") {
                headers.add(name: h.name, value: h.value)
            }
        }
        headers.replaceOrAdd(name: "User-Agent", value: "Inlet/\(InletVersion.current)")
        headers.add(name: "webhook-id", value: event.id)
        headers.add(name: "webhook-timestamp", value: String(timestampSeconds))
        headers.add(name: "webhook-signature", value: destination.signer.signature(id: event.id, timestampSeconds: timestampSeconds, body: body))
        headers.add(name: "Inlet-Event-Id", value: event.id)
        headers.add(name: "Inlet-Delivery-Id", value: String(c.deliveryID))
        headers.add(name: "Inlet-Attempt", value: String(attempt))
        if c.isReplay { headers.add(name: "Inlet-Replay", value: "true") }
        return (headers, body)
    }

    private func finish(_ c: ClaimedDelivery, attempt: Int, startedAt: EpochMillis, status: Int?, error: String?, snippet: [UInt8]?, next: DeliveryCompletion.Next) async {
        let duration = clock.now() - startedAt
        let nextAt: EpochMillis? = { if case .retry(let at) = next { return at }; return nil }()
        let record = AttemptRecord(deliveryID: c.deliveryID, attempt: attempt, startedAt: startedAt, durationMillis: duration,
                                   statusCode: status, error: error, responseSnippet: snippet, nextAttemptAt: nextAt)
        var meta: Logger.Metadata = [
            "event_id": "\(c.event.id)", "destination": "\(c.destination)", "attempt": "\(attempt)",
            "duration_ms": "\(duration)", "outcome": "\(next)",
        ]
        if let status { meta["status"] = "\(status)" }
        if let error { meta["error"] = "\(error)" }
        switch next {
        case .delivered: logger.info("delivered", metadata: meta)
        case .retry: logger.notice("delivery failed, will retry", metadata: meta)
        case .dead: logger.warning("delivery dead-lettered", metadata: meta)
        }
        do {
            try await completions.submit(DeliveryCompletion(attempt: record, next: next))
        } catch {
            // Not recorded: the lease expires and the event is delivered again (at-least-once).
            logger.error("cannot record delivery attempt", metadata: ["delivery_id": "\(c.deliveryID)", "error": "\(error)"])
        }
    }

    static func describe(_ error: Error) -> String {
        if let e = error as? HTTPClientError {
            if e == .deadlineExceeded || e == .readTimeout || e == .connectTimeout { return "timeout" }
            return "http_client: \(e)"
        }
        if let e = error as? NIOConnectionError { return "connect_failed: \(e.connectionErrors.first.map { "\($0.error)" } ?? "\(e)")" }
        return "\(error)"
    }
}
