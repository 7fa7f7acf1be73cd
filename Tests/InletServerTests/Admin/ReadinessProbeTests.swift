@testable import InletServer
import Foundation
import GRDB
import InletCore
import InletStore
import NIOPosix
import Testing

/// Issue 21: `/readyz` is unauthenticated and each check is a durable write; its answer is kept for a second.
@Suite("Readiness probe")
struct ReadinessProbeTests {
    /// The check writes the probe's time into the store's `health` row: within a second of a check, `/readyz` answers
    /// from the cache and the row keeps the first time; after it, the store is checked (and written) again.
    @Test func answersFromACacheForASecond() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("inlet-readyz-\(UUID().uuidString).sqlite").path
        let store = try SQLiteEventStore(path: path)
        let clock = ManualClock(1_000_000)
        let api = AdminAPI(runtime: LiveConfig(IngressStateMachineTests.snapshot.resolved), store: store, storeThreads: NIOThreadPool.singleton,
                           clock: clock)
        let reader = try DatabaseQueue(path: path)
        func checkedAt() throws -> Int64? { try reader.read { try Int64.fetchOne($0, sql: "SELECT checked_at FROM health WHERE id = 1") } }

        #expect(await api.handle(SimpleRequest(method: "GET", uri: "/readyz")).status == 200)
        #expect(try checkedAt() == 1_000_000)
        for _ in 0..<50 {
            clock.advance(by: 10)
            #expect(await api.handle(SimpleRequest(method: "GET", uri: "/readyz")).status == 200)
        }
        #expect(try checkedAt() == 1_000_000, "each probe within the second wrote to the store")
        clock.advance(by: 600)
        #expect(await api.handle(SimpleRequest(method: "GET", uri: "/readyz")).status == 200)
        #expect(try checkedAt() == 1_001_100)
    }

    /// Probes that arrive while a check runs share it.
    @Test func concurrentProbesShareOneCheck() async throws {
        let cache = ReadinessCache(clock: ManualClock(0))
        let calls = Counter()
        let results = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    await cache.ready {
                        await calls.increment()
                        try? await Task.sleep(for: .milliseconds(50))
                        return true
                    }
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results == Array(repeating: true, count: 20))
        #expect(await calls.value == 1)
    }
}

actor Counter {
    var value = 0
    func increment() { value += 1 }
}
