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
    private let store: any EventStore
    private let runtime: GatewayRuntime
    private let client: HTTPClient
    private let clock: any WallClock
    private let settings: DeliverySettings
    private let logger: Logger
    private let doorbell: Doorbell
    private let storeThreads: NIOThreadPool
    private let completions: GroupCommitter<DeliveryCompletion, Void>
    private let inFlight = NIOLockedValueBox(0)
    private let stopping = NIOLockedValueBox(false)

    /// Largest response prefix kept in the attempt log.
    static let responseSnippetLimit = 1024

    init(store: any EventStore, runtime: GatewayRuntime, client: HTTPClient, clock: any WallClock, settings: DeliverySettings,
         logger: Logger, doorbell: Doorbell, storeThreads: NIOThreadPool, completions: GroupCommitter<DeliveryCompletion, Void>) {
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

    public func run() async throws {
        let store = self.store, now = clock.now()
        try await storeThreads.runIfActive { try store.releaseAllClaims(now: now) }
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                while !stopping.withLockedValue({ $0 }) {
                    let capacity = settings.concurrency - inFlight.withLockedValue { $0 }
                    var claimed: [ClaimedDelivery] = []
                    if capacity > 0 {
                        let now = clock.now(), lease = Int64(settings.leaseSeconds) * 1000
                        do {
                            claimed = try await storeThreads.runIfActive { try store.claimDue(now: now, limit: capacity, leaseMillis: lease) }
                        } catch {
                            logger.error("cannot claim deliveries", metadata: ["error": "\(error)"])
                        }
                        for c in claimed {
                            inFlight.withLockedValue { $0 += 1 }
                            group.addTask {
                                await self.deliver(c)
                                self.inFlight.withLockedValue { $0 -= 1 }
                                self.doorbell.ring()
                            }
                        }
                        if claimed.count == capacity { continue }  // more may be due right now
                    }
                    await doorbell.wait(timeout: await sleepBudget())
                }
            }
        } onGracefulShutdown: {
            self.stopping.withLockedValue { $0 = true }
            self.doorbell.ring()
        }
    }

    /// How long to sleep when nothing rings: until the next retry is due, at most the poll interval.
    private func sleepBudget() async -> Duration {
        let store = self.store
        let poll = Int64(settings.pollIntervalMillis)
        guard let next = try? await storeThreads.runIfActive({ try store.nextDueAt() }) ?? nil else { return .milliseconds(poll) }
        return .milliseconds(min(max(next - clock.now(), 1), poll))
    }

    func deliver(_ c: ClaimedDelivery) async {
        let attempt = c.attemptsMade + 1
        let startedAt = clock.now()
        guard let destination = runtime.current.destination(c.destination) else {
            // Removed from the config: keep the row (an operator may restore the destination) and look again later.
            await finish(c, attempt: attempt, startedAt: startedAt, status: nil, error: "destination '\(c.destination)' is not configured",
                         snippet: nil, next: .retry(at: startedAt + 3_600_000))
            return
        }
        let event = c.event
        let cloudEvent = CloudEvent(
            id: event.id, source: "/sources/\(event.source)", type: event.eventType ?? "\(event.provider).webhook",
            time: event.receivedAt, body: event.body, bodyContentType: event.contentType,
            extensions: [("inletprovider", event.provider), ("inleteventkey", event.eventKey), ("inletattempt", String(attempt))])
        let body = cloudEvent.encodeJSON()
        let timestamp = startedAt / 1000
        var request = HTTPClientRequest(url: destination.config.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: CloudEvent.jsonContentType)
        request.headers.add(name: "User-Agent", value: "Inlet/\(InletVersion.current)")
        request.headers.add(name: "webhook-id", value: event.id)
        request.headers.add(name: "webhook-timestamp", value: String(timestamp))
        request.headers.add(name: "webhook-signature", value: destination.signer.signature(id: event.id, timestampSeconds: timestamp, body: body))
        request.headers.add(name: "Inlet-Delivery-Id", value: String(c.deliveryID))
        request.headers.add(name: "Inlet-Attempt", value: String(attempt))
        request.body = .bytes(body)

        var status: Int?
        var errorText: String?
        var snippet: [UInt8] = []
        do {
            let response = try await client.execute(request, timeout: .seconds(Int64(destination.config.timeoutSeconds)))
            status = Int(response.status.code)
            for try await var chunk in response.body where snippet.count < Self.responseSnippetLimit {
                let take = min(chunk.readableBytes, Self.responseSnippetLimit - snippet.count)
                snippet += chunk.readBytes(length: take) ?? []
            }
        } catch {
            errorText = Self.describe(error)
        }
        let verdict: AttemptVerdict = status.map(AttemptClassifier.verdict(forStatus:)) ?? .retry
        let policy = destination.config.retry
        let next: DeliveryCompletion.Next
        switch verdict {
        case .delivered: next = .delivered
        case .reject: next = .dead
        case .retry:
            next = attempt >= policy.maxAttempts ? .dead : .retry(at: clock.now() + policy.delay(afterAttempt: attempt, unitRandom: Double.random(in: 0...1)))
        }
        await finish(c, attempt: attempt, startedAt: startedAt, status: status, error: errorText, snippet: snippet.isEmpty ? nil : snippet, next: next)
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
        case .delivered: logger.debug("delivered", metadata: meta)
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

public enum InletVersion {
    public static let current = "0.1.0"
}
