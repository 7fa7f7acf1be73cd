import InletCore
import InletStore
import NIOPosix
import ServiceLifecycle

/// Refreshes the gauges that come from the store (queue depth and age, dead letters, pauses, quarantine size)
/// every two seconds: two small indexed queries, off the hot path.
final class StoreGaugesService: Service, Sendable {
    let store: any StoreMaintenance, runtime: LiveConfig, clock: any WallClock, storeThreads: NIOThreadPool, metrics: GatewayMetrics
    let interval: Duration

    init(store: any StoreMaintenance, runtime: LiveConfig, clock: any WallClock, storeThreads: NIOThreadPool, metrics: GatewayMetrics,
         interval: Duration = .seconds(2)) {
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
    }
}
