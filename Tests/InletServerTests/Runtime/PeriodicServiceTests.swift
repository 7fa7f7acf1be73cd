import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle
import Testing
@testable import InletServer

/// The one loop behind the gateway's periodic jobs: it ticks, sleeps, and stops at graceful shutdown without waiting
/// out its interval; a job that sleeps first (the quarantine's writer) still gets its last tick and its `finally`.
@Suite("Periodic service")
struct PeriodicServiceTests {
    final class Calls: Sendable {
        let ticks = NIOLockedValueBox(0)
        let finals = NIOLockedValueBox(0)
    }

    func runThenShutDown(_ service: PeriodicService, after wait: @escaping @Sendable () async -> Void) async throws {
        let group = ServiceGroup(configuration: .init(services: [service], logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            await wait()
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    @Test func ticksAtOnceThenStopsWithoutWaitingOutTheInterval() async throws {
        let calls = Calls()
        let started = ContinuousClock.now
        try await runThenShutDown(PeriodicService(every: .seconds(3600)) { calls.ticks.withLockedValue { $0 += 1 } }) {
            while calls.ticks.withLockedValue({ $0 }) == 0 { try? await Task.sleep(for: .milliseconds(5)) }
        }
        #expect(calls.ticks.withLockedValue { $0 } == 1)
        #expect(ContinuousClock.now - started < .seconds(60), "shutdown waited for the hour-long interval")
    }

    @Test func aJobThatSleepsFirstGetsItsLastTickAndItsFinally() async throws {
        let calls = Calls()
        let service = PeriodicService(every: .seconds(3600), start: .afterInterval, finally: { calls.finals.withLockedValue { $0 += 1 } }) {
            calls.ticks.withLockedValue { $0 += 1 }
        }
        try await runThenShutDown(service) { try? await Task.sleep(for: .milliseconds(50)) }
        #expect(calls.ticks.withLockedValue { $0 } == 1)
        #expect(calls.finals.withLockedValue { $0 } == 1)
    }
}
