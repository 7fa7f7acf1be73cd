import ServiceLifecycle

/// The loop every periodic job of the gateway shares (store gauges, retention, the quarantine's writes): `work` runs
/// every `interval` until graceful shutdown or cancellation. Shutdown cuts a sleep short, never a `work` call; with
/// `finally`, one last call runs after the loop (the quarantine writes what it still holds).
struct PeriodicService: Service {
    enum Start: Sendable { case now, afterInterval }

    let interval: Duration
    let start: Start
    let work: @Sendable () async -> Void
    let finally: (@Sendable () async -> Void)?

    init(every interval: Duration, start: Start = .now, finally: (@Sendable () async -> Void)? = nil, _ work: @escaping @Sendable () async -> Void) {
        self.interval = interval
        self.start = start
        self.work = work
        self.finally = finally
    }

    func run() async throws {
        var sleepFirst = start == .afterInterval
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            if sleepFirst {
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
            }
            sleepFirst = true
            // The sleep may have ended in a shutdown: a job that sleeps first still gets its tick (as before),
            // a job that ticks first stops here.
            if start == .now && (Task.isShuttingDownGracefully || Task.isCancelled) { break }
            await work()
        }
        await finally?()
    }
}
