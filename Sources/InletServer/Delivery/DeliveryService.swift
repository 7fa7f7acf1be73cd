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
    private let runtime: LiveConfig
    private let http: DeliveryHTTPClient
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

    init(store: any DeliveryQueue, runtime: LiveConfig, http: DeliveryHTTPClient, clock: any WallClock, settings: DeliverySettings,
         logger: Logger, doorbell: Doorbell, storeThreads: NIOThreadPool, completions: GroupCommitter<DeliveryCompletion, Void>, metrics: GatewayMetrics) {
        self.metrics = metrics
        self.store = store
        self.runtime = runtime
        self.http = http
        self.clock = clock
        self.settings = settings
        self.logger = logger
        self.doorbell = doorbell
        self.storeThreads = storeThreads
        self.completions = completions
    }

    /// Each destination's pacing (concurrency, rate limit, circuit breaker), keyed by name. The gates decide; this
    /// service only asks them under the one lock and performs what they say.
    private let gates = NIOLockedValueBox<[String: DestinationGate]>([:])

    private static func gate(_ d: ResolvedDestination) -> DestinationGate {
        DestinationGate(maxConcurrency: d.config.maxConcurrency,
                        breaker: CircuitBreaker(failureThreshold: d.config.circuitFailureThreshold, openMillis: d.config.circuitOpenMillis,
                                                maxOpenMillis: d.config.circuitMaxOpenMillis),
                        bucket: d.config.rateLimitPerSecond.map { TokenBucket(ratePerSecond: $0) })
    }

    /// The circuit state of each destination, for operators and tests, named as the admin API shows it.
    public func circuitStates() -> [String: String] {
        gates.withLockedValue { $0.mapValues { Self.circuitName($0.breaker.phase) } }
    }

    static func circuitName(_ phase: CircuitBreaker.Phase) -> String {
        switch phase {
        case .closed: return "closed"
        case .open: return "open"
        case .halfOpen: return "half_open"
        }
    }

    public func run() async throws {
        let store = self.store, now = clock.now()
        try await storeThreads.runIfActive { try store.releaseAllClaims(now: now) }
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                var schedule = DeliveryRoundSchedule()
                var wake = Doorbell.Wake.other
                // Cancellation ends the loop too: when another service fails (the ingress port is taken, say), the
                // group cancels rather than shuts down gracefully, and a loop that only watched for shutdown spun on
                // CancellationError from every claim, logging it, and kept the process from exiting.
                while !stopping.withLockedValue({ $0 }) && !Task.isCancelled {
                    let snapshot = runtime.current
                    let kind = schedule.kind(after: wake, now: clock.now())
                    let moreDue = await claimRound(group: &group, destinations: kind.destinations(in: snapshot))
                    if moreDue { continue }
                    let now = clock.now()
                    if kind == .full { schedule.readStore(nextDueAt: await nextDueAt(), now: now, pollMillis: Int64(settings.pollIntervalMillis)) }
                    wake = await doorbell.wait(timeout: sleepBudget(until: schedule.fullRoundBy, now: now))
                }
            }
        } onGracefulShutdown: {
            self.stopping.withLockedValue { $0 = true }
            self.doorbell.ring()
        }
    }

    /// Claims what each of `destinations` may take now and starts those deliveries. Returns whether a destination
    /// filled its allowance (so more may be due at once).
    private func claimRound(group: inout DiscardingTaskGroup, destinations: [(String, ResolvedDestination)]) async -> Bool {
        let store = self.store, lease = Int64(settings.leaseSeconds) * 1000
        var full = false
        for (name, destination) in destinations {
            let now = clock.now()
            let globalRoom = settings.concurrency - inFlight.withLockedValue { $0 }
            guard globalRoom > 0 else { return false }
            let allowance = gates.withLockedValue { gates -> Int in
                var gate = gates[name] ?? Self.gate(destination)
                // A reload changes the concurrency limit at once; the breaker and bucket keep their state.
                gate.maxConcurrency = destination.config.maxConcurrency
                defer { gates[name] = gate }
                return gate.allowance(now: now, globalRoom: globalRoom)
            }
            guard allowance > 0 else { continue }
            let claimed: [ClaimedDelivery]
            do {
                claimed = try await storeThreads.runIfActive { try store.claimDue(now: now, limit: allowance, leaseMillis: lease, destination: name) }
            } catch is CancellationError {
                return false
            } catch {
                logger.error("cannot claim deliveries", metadata: ["destination": "\(name)", "error": "\(error)"])
                continue
            }
            guard !claimed.isEmpty else { continue }
            gates.withLockedValue { $0[name]?.started(claimed.count, now: now) }
            inFlight.withLockedValue { $0 += claimed.count }
            for c in claimed {
                group.addTask {
                    let outcome = await self.deliver(c)
                    self.release(c.destination, after: outcome)
                    self.doorbell.ring()
                }
            }
            if claimed.count == allowance { full = true }
        }
        return full
    }

    /// Frees a finished delivery's slot and tells its destination's circuit what the attempt showed. Runs after the
    /// attempt is recorded, so a slot is held until its row's next state is committed.
    private func release(_ destination: String, after outcome: DeliveryOutcome) {
        let now = outcome.decidedAt ?? clock.now()
        let phase = gates.withLockedValue { gates -> CircuitBreaker.Phase in
            gates[destination]?.finished(success: outcome.destinationHealthy, now: now)
            return gates[destination]?.breaker.phase ?? .closed
        }
        inFlight.withLockedValue { $0 -= 1 }
        guard case .attempted(_, let healthy, _) = outcome else { return }
        if !healthy && phase == .open {
            logger.warning("circuit open: destination paused", metadata: ["destination": "\(destination)"])
        }
        metrics.circuit(destination: destination, open: phase != .closed)
    }

    /// The earliest due row's time, nil when none is pending (or the store did not answer: the poll interval bounds the
    /// sleep then).
    private func nextDueAt() async -> EpochMillis? {
        let store = self.store
        return (try? await storeThreads.runIfActive({ try store.nextDueAt() })) ?? nil
    }

    /// How long to sleep when nothing rings: until the next full round (the next retry due, or the poll interval), a
    /// circuit may probe, or a rate-limited destination earns a token.
    private func sleepBudget(until fullRoundBy: EpochMillis, now: EpochMillis) -> Duration {
        var wait = fullRoundBy - now
        gates.withLockedValue { gates in
            for gate in gates.values {
                if let at = gate.wakeAt(now: now) { wait = min(wait, at - now) }
            }
        }
        return .milliseconds(max(wait, 1))
    }

    /// What one attempt came to: for the queue row, the destination's circuit and the metrics.
    enum DeliveryOutcome: Sendable, Equatable {
        /// The destination is no longer configured: the row is kept and looked at again later; its circuit learns
        /// nothing.
        case unconfigured(retryAt: EpochMillis)
        /// The destination was tried and the policy decided `next`. `destinationHealthy` is what its circuit learns:
        /// false for a network error, a timeout or a status the destination's policy retries (even when the row is
        /// dead-lettered for its age or attempt count), true otherwise. `decidedAt` is when the answer was judged.
        case attempted(next: DeliveryPolicy.Next, destinationHealthy: Bool, decidedAt: EpochMillis)

        var next: DeliveryPolicy.Next {
            switch self {
            case .unconfigured(let at): return .retry(at: at)
            case .attempted(let next, _, _): return next
            }
        }

        var destinationHealthy: Bool? {
            if case .attempted(_, let healthy, _) = self { return healthy }
            return nil
        }

        var decidedAt: EpochMillis? {
            if case .attempted(_, _, let at) = self { return at }
            return nil
        }
    }

    /// What the destination did with one request. `status` and `error` may both be set: an answer whose body broke
    /// off is judged by its status, and the error is kept in the attempt log.
    struct Exchange: Sendable, Equatable {
        var status: Int?
        var retryAfter: String?
        var snippet: [UInt8] = []
        var error: String?
    }

    /// One attempt: build the request, send it, decide what the answer means, record the attempt.
    func deliver(_ c: ClaimedDelivery) async -> DeliveryOutcome {
        // The count comes from a stored row; a corrupted one must not trap here.
        let attempt = c.attemptsMade < Int.max ? c.attemptsMade + 1 : Int.max
        let startedAt = clock.now()
        guard let destination = runtime.current.destination(c.destination) else {
            // Removed from the config: keep the row (an operator may restore the destination) and look again later.
            let outcome = DeliveryOutcome.unconfigured(retryAt: startedAt + 3_600_000)
            await record(c, attempt: attempt, startedAt: startedAt, exchange: Exchange(error: "destination '\(c.destination)' is not configured"),
                         outcome: outcome)
            return outcome
        }
        let request = Self.request(for: c, attempt: attempt, destination: destination, timestampSeconds: startedAt / 1000)
        let exchange = await send(request, to: destination.config.url, timeoutSeconds: destination.config.timeoutSeconds)
        let outcome = Self.decide(exchange, attempt: attempt, receivedAt: c.event.receivedAt, destination: destination.config,
                                  now: clock.now(), unitRandom: Double.random(in: 0...1))
        await record(c, attempt: attempt, startedAt: startedAt, exchange: exchange, outcome: outcome)
        return outcome
    }

    private func send(_ request: OutboundRequest, to url: String, timeoutSeconds: Int) async -> Exchange {
        do {
            let answer = try await http.send(url: url, headers: request.headers, body: request.body,
                                             timeout: .seconds(Int64(timeoutSeconds)))
            return Exchange(status: answer.status, retryAfter: answer.retryAfter, snippet: answer.snippet, error: answer.brokenOff)
        } catch {
            return Exchange(error: Self.describe(error))
        }
    }

    /// What an exchange means, by the destination's policy.
    static func decide(_ exchange: Exchange, attempt: Int, receivedAt: EpochMillis, destination: DestinationConfig, now: EpochMillis,
                       unitRandom: Double) -> DeliveryOutcome {
        let status = exchange.status
        let next = destination.policy.next(
            attempt: attempt, status: status, retryAfterMillis: DeliveryPolicy.retryAfterMillis(status: status, header: exchange.retryAfter, now: now),
            receivedAt: receivedAt, now: now, unitRandom: unitRandom)
        let healthy: Bool
        switch next {
        case .delivered: healthy = true
        case .retry: healthy = false
        case .dead: healthy = !(status.map { destination.retryStatuses.verdict(forStatus: $0) == .retry } ?? true)
        }
        return .attempted(next: next, destinationHealthy: healthy, decidedAt: now)
    }

    /// The request for one attempt in the destination's payload mode.
    static func request(for c: ClaimedDelivery, attempt: Int, destination: ResolvedDestination, timestampSeconds: Int64) -> OutboundRequest {
        OutboundRequest(event: c.event.outbound, payload: destination.config.payload, attempt: attempt, deliveryID: c.deliveryID,
                        isReplay: c.isReplay, signer: destination.signer, timestampSeconds: timestampSeconds,
                        userAgent: "Inlet/\(InletVersion.current)")
    }

    /// Counts the attempt, logs it and hands it to the group committer; returns once it is committed (or failed to be).
    private func record(_ c: ClaimedDelivery, attempt: Int, startedAt: EpochMillis, exchange: Exchange, outcome: DeliveryOutcome) async {
        let next = outcome.next
        var error = exchange.error
        switch outcome {
        case .unconfigured: break
        case .attempted(.delivered, _, let at):
            metrics.attempt(destination: c.destination, outcome: "delivered")
            metrics.deliveryLatency(destination: c.destination, seconds: Double(at - c.event.receivedAt) / 1000)
        case .attempted(.retry, _, _): metrics.attempt(destination: c.destination, outcome: "retry")
        case .attempted(.dead(let reason), _, _):
            metrics.attempt(destination: c.destination, outcome: "dead")
            if error == nil { error = reason }
        }
        let duration = clock.now() - startedAt
        let nextAt: EpochMillis? = { if case .retry(let at) = next { return at }; return nil }()
        let snippet = exchange.snippet.isEmpty ? nil : exchange.snippet
        let attemptRecord = AttemptRecord(deliveryID: c.deliveryID, attempt: attempt, startedAt: startedAt, durationMillis: duration,
                                          statusCode: exchange.status, error: error, responseSnippet: snippet, nextAttemptAt: nextAt)
        let (level, message) = Self.logLine(next)
        // Built only when it will be written: at the default level every delivery would build and drop it.
        if logger.logLevel <= level {
            var meta: Logger.Metadata = [
                "event_id": "\(c.event.id)", "destination": "\(c.destination)", "attempt": "\(attempt)",
                "duration_ms": "\(duration)", "outcome": "\(Self.logName(next))",
            ]
            if let status = exchange.status { meta["status"] = "\(status)" }
            if let error { meta["error"] = "\(error)" }
            logger.log(level: level, message, metadata: meta)
        }
        do {
            try await completions.submit(DeliveryCompletion(attempt: attemptRecord, next: next))
        } catch {
            // Not recorded: the lease expires and the event is delivered again (at-least-once).
            logger.error("cannot record delivery attempt", metadata: ["delivery_id": "\(c.deliveryID)", "error": "\(error)"])
        }
    }

    /// The attempt's log level and message, by what the policy decided.
    static func logLine(_ next: DeliveryPolicy.Next) -> (Logger.Level, Logger.Message) {
        switch next {
        case .delivered: return (.info, "delivered")
        case .retry: return (.notice, "delivery failed, will retry")
        case .dead: return (.warning, "delivery dead-lettered")
        }
    }

    /// The log's `outcome` field; a dead row's reason is in `error`.
    static func logName(_ next: DeliveryPolicy.Next) -> String {
        switch next {
        case .delivered: return "delivered"
        case .retry(let at): return "retry(at: \(at))"
        case .dead: return "dead"
        }
    }

    static func describe(_ error: Error) -> String {
        if let e = error as? DeliveryHTTPClient.Failure { return e.description }
        return "\(error)"
    }
}

extension StoredEvent {
    /// The fields an outbound payload is built from.
    var outbound: OutboundEvent {
        var event = OutboundEvent(id: id, source: source, provider: provider, eventKey: eventKey, eventType: eventType, receivedAt: receivedAt,
                                  body: body, contentType: contentType, headers: headers)
        event.authenticity = authenticity
        return event
    }
}
