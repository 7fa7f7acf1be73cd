import InletCore
import NIOConcurrencyHelpers

/// `/readyz` is unauthenticated and each check is a durable (fsynced) write: a client polling it in a loop would
/// turn into a stream of fsyncs competing with ingest commits. The answer is kept for `ttlMillis`, and callers that
/// arrive while a check runs wait for that one instead of starting their own.
final class ReadinessCache: Sendable {
    let ttlMillis: Int64
    private let clock: any WallClock
    private let state = NIOLockedValueBox<(cached: (at: EpochMillis, ready: Bool)?, running: Task<Bool, Never>?)>((nil, nil))

    init(ttlMillis: Int64 = 1_000, clock: any WallClock) {
        self.ttlMillis = ttlMillis
        self.clock = clock
    }

    /// The cached answer while it is fresh; otherwise the answer of one run of `check`.
    func ready(_ check: @escaping @Sendable () async -> Bool) async -> Bool {
        let now = clock.now()
        enum Next { case known(Bool), wait(Task<Bool, Never>) }
        let next = state.withLockedValue { s -> Next in
            if let c = s.cached, now >= c.at, now - c.at < ttlMillis { return .known(c.ready) }
            if let running = s.running { return .wait(running) }
            // Awaited by every caller that finds it here; it never outlives the slowest of them by more than one check.
            let task = Task { await check() }
            s.running = task
            return .wait(task)
        }
        switch next {
        case .known(let ready): return ready
        case .wait(let task):
            let ready = await task.value
            let at = clock.now()
            state.withLockedValue { s in
                if s.running == task {
                    s.running = nil
                    s.cached = (at, ready)
                }
            }
            return ready
        }
    }
}
