import InletStore
import ServiceLifecycle

/// Rings the delivery workers' doorbell when another instance (or this one) queues rows in the shared store:
/// PostgreSQL `LISTEN`, with the workers' polling as the safety net.
final class QueueNotificationService: Service, Sendable {
    let store: PostgresEventStore
    let wake: @Sendable () -> Void
    let streams: Bool

    /// - streams: listen for stream appends (waking consumers' long-polls) instead of queued rows.
    init(store: PostgresEventStore, streams: Bool = false, wake: @escaping @Sendable () -> Void) {
        self.store = store
        self.wake = wake
        self.streams = streams
    }

    func run() async throws {
        let listening = streams ? store.listenForStreamAppends(wake: wake) : store.listenForQueueChanges(wake: wake)
        await withGracefulShutdownHandler {
            await listening.value
        } onGracefulShutdown: {
            listening.cancel()
        }
    }
}
