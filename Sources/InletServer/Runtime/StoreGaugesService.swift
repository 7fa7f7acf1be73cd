import InletCore
import InletStore
import NIOPosix
import ServiceLifecycle

/// Refreshes the gauges that come from the store (queue depth and age, dead letters, pauses, quarantine size)
/// every two seconds: two small indexed queries, off the hot path.
final class StoreGaugesService: Service, Sendable {
    /// The streams' gauges come from here (nil: none published).
    let streams: (any StreamStore)?
    let store: any StoreMaintenance, runtime: LiveConfig, clock: any WallClock, storeThreads: NIOThreadPool, metrics: GatewayMetrics
    let interval: Duration

    init(store: any StoreMaintenance, runtime: LiveConfig, clock: any WallClock, storeThreads: NIOThreadPool, metrics: GatewayMetrics,
         interval: Duration = .seconds(2), streams: (any StreamStore)? = nil) {
        self.streams = streams
        self.store = store
        self.runtime = runtime
        self.clock = clock
        self.storeThreads = storeThreads
        self.metrics = metrics
        self.interval = interval
    }

    func run() async throws {
        try await PeriodicService(every: interval) { await self.refresh() }.run()
    }

    func refresh() async {
        let store = self.store, now = clock.now()
        guard let (gauges, paused, quarantined) = try? await storeThreads.runIfActive({
            (try store.queueGauges(now: now), try store.pausedDestinations(), try store.quarantineSize())
        }) else { return }
        metrics.storeGauges(gauges, destinations: runtime.current.resolved.destinations.keys.sorted(), paused: paused,
                            quarantined: quarantined, now: now)
        let streams = runtime.current.resolved.streams.keys.sorted()
        guard !streams.isEmpty, let streamStore = self.streams, let (summaries, groups) = try? await storeThreads.runIfActive({
            (try streamStore.streamSummaries(), try streamStore.streamGroups(stream: nil, now: now))
        }) else { return }
        metrics.streamGauges(summaries, groups: groups, streams: streams, now: now)
    }
}
