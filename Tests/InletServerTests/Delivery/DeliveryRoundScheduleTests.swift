import AsyncHTTPClient
import InletConfig
import InletCore
import InletStore
import Logging
import NIOConcurrencyHelpers
import NIOPosix
import Prometheus
import ServiceLifecycle
import Testing
@testable import InletServer

/// A destination nothing routes to costs nothing per ingested event: a wake by ingest commits alone claims only for
/// routed destinations and does not read the next-due time; any other wake, and the passing of the next full round's
/// time, asks every destination again.
@Suite("Delivery rounds: what a wake costs")
struct DeliveryRoundScheduleTests {
    /// `svc` is routed from the stripe source; `null` is configured but nothing routes to it.
    static let snapshot = try! resolvedSnapshot(
        destinationTOML("svc", url: "http://127.0.0.1:1/x") + destinationTOML("null", url: "http://127.0.0.1:1/y") + stripeSource)

    @Test func routedDestinationsAreTheSourcesDestinations() {
        #expect(Self.snapshot.routedDestinations == ["svc"])
        #expect(DeliveryRoundSchedule.Kind.full.destinations(in: Self.snapshot).map(\.0) == ["null", "svc"])
        #expect(DeliveryRoundSchedule.Kind.routedOnly.destinations(in: Self.snapshot).map(\.0) == ["svc"])
    }

    @Test func onlyIngestWakesBeforeTheNextFullRoundSkipUnroutedDestinations() {
        var schedule = DeliveryRoundSchedule()
        // Nothing read yet: the first round is full, whatever woke it.
        #expect(schedule.kind(after: .ingestCommits, now: 1_000) == .full)
        schedule.readStore(nextDueAt: nil, now: 1_000, pollMillis: 1_000)
        #expect(schedule.fullRoundBy == 2_000)
        #expect(schedule.kind(after: .ingestCommits, now: 1_500) == .routedOnly)
        #expect(schedule.kind(after: .other, now: 1_500) == .full)
        // However often ingest rings, the poll interval still brings a full round.
        #expect(schedule.kind(after: .ingestCommits, now: 2_000) == .full)
        // A retry due before the poll interval ends brings it sooner; one due already makes every round full.
        schedule.readStore(nextDueAt: 2_300, now: 2_000, pollMillis: 1_000)
        #expect(schedule.fullRoundBy == 2_300)
        #expect(schedule.kind(after: .ingestCommits, now: 2_299) == .routedOnly)
        #expect(schedule.kind(after: .ingestCommits, now: 2_300) == .full)
        schedule.readStore(nextDueAt: 1_900, now: 2_000, pollMillis: 1_000)
        #expect(schedule.kind(after: .ingestCommits, now: 2_000) == .full)
    }

    @Test func doorbellSaysWhetherOnlyIngestCommitsRang() async {
        let bell = Doorbell()
        bell.ring(.ingestCommit)
        bell.ring(.ingestCommit)
        #expect(await bell.wait(timeout: .seconds(10)) == .ingestCommits)
        bell.ring(.ingestCommit)
        bell.ring(.other)
        #expect(await bell.wait(timeout: .seconds(10)) == .other)
        // Rings were consumed: this one times out.
        #expect(await bell.wait(timeout: .milliseconds(1)) == .other)
    }

    /// The queue as the delivery loop uses it, recording each call; it never has a row to hand out.
    final class RecordingQueue: DeliveryQueue {
        let claims = NIOLockedValueBox<[String]>([])
        let nextDueReads = NIOLockedValueBox(0)
        func claimDue(now: EpochMillis, limit: Int, leaseMillis: Int64, destination: String?) throws -> [ClaimedDelivery] {
            claims.withLockedValue { $0.append(destination ?? "*") }
            return []
        }
        func complete(_ completions: [DeliveryCompletion], now: EpochMillis) throws {}
        func nextDueAt() throws -> EpochMillis? {
            nextDueReads.withLockedValue { $0 += 1 }
            return nil
        }
        func releaseAllClaims(now: EpochMillis) throws {}
    }

    @Test func ingestCommitsCostAnUnroutedDestinationNoClaimAndNoRead() async throws {
        let queue = RecordingQueue()
        let doorbell = Doorbell()
        let http = DeliveryHTTPClient(group: MultiThreadedEventLoopGroup.singleton, snippetLimit: 1024)
        let completions = GroupCommitter<DeliveryCompletion, Void>(name: "completions", maxBatch: 16, commit: { $0.map { _ in () } })
        var settings = DeliverySettings()
        settings.pollIntervalMillis = 600_000  // no timed round during the test
        let service = DeliveryService(store: queue, runtime: LiveConfig(Self.snapshot.resolved), http: http, clock: ManualClock(1_000_000),
                                      settings: settings, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
                                      doorbell: doorbell, storeThreads: NIOThreadPool.singleton, completions: completions,
                                      metrics: GatewayMetrics(factory: GatewayMetrics.prometheusFactory(registry: PrometheusCollectorRegistry())))
        func settle(until done: @escaping @Sendable () -> Bool) async {
            for _ in 0..<500 where !done() { try? await Task.sleep(for: .milliseconds(5)) }
        }
        let group = ServiceGroup(configuration: .init(services: [service], logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            // The first round is full: every destination, then the next-due read.
            await settle { queue.nextDueReads.withLockedValue { $0 } == 1 }
            #expect(queue.claims.withLockedValue { $0 } == ["null", "svc"])
            for n in 1...5 {
                doorbell.ring(.ingestCommit)
                await settle { queue.claims.withLockedValue { $0.count } == 2 + n }
            }
            #expect(queue.claims.withLockedValue { $0 } == ["null", "svc", "svc", "svc", "svc", "svc", "svc"])
            #expect(queue.nextDueReads.withLockedValue { $0 } == 1)
            // A completion or an operator's action asks every destination again.
            doorbell.ring(.other)
            await settle { queue.nextDueReads.withLockedValue { $0 } == 2 }
            #expect(Array(queue.claims.withLockedValue { $0 }.suffix(2)) == ["null", "svc"])
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        http.shutdown()
    }
}
