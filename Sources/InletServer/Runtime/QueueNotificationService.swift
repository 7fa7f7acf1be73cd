import InletStore
import ServiceLifecycle

/// Rings the delivery workers' doorbell when another instance (or this one) queues rows in the shared store:
/// PostgreSQL `LISTEN`, with the workers' polling as the safety net.
final class QueueNotificationService: Service, Sendable {
    let store: PostgresEventStore
    let wake: @Sendable () -> Void

    init(store: PostgresEventStore, wake: @escaping @Sendable () -> Void) {
        self.store = store
        self.wake = wake
    }

    func run() async throws {
        let listening = store.listenForQueueChanges(wake: wake)
        await withGracefulShutdownHandler {
            await listening.value
        } onGracefulShutdown: {
            listening.cancel()
        }
    }
}
