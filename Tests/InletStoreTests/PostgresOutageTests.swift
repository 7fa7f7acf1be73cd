import Foundation
import InletCore
@testable import InletStore
import Testing

/// The PostgreSQL store while its connections break: a call whose connection is lost fails promptly with
/// `StoreError.unavailable` (ingress answers 503 and the provider retries), never waits forever, and the next call
/// reconnects by itself. `scripts/multi-instance-test` exercises the same through a TCP proxy that resets every
/// connection of a running gateway.
@Suite("PostgreSQL store: lost connections", .enabled(if: StoreBackend.available.contains(.postgres)))
struct PostgresLostConnectionTests {
    /// The outage bug in its deterministic form. Once a connection has closed, postgres-nio drops a statement
    /// written to it without failing its future: before the fix, the ROLLBACK a transaction sent after its
    /// connection went away waited forever (so did any statement), holding the pool slot, so with one connection
    /// nothing else ran either. Both now fail within a second, and the next call gets a new connection.
    @Test func statementsOnAClosedConnectionFailInsteadOfWaitingForever() async throws {
        let store = try PostgresEventStore(settings: try PostgresSettings(url: StoreBackend.freshSchemaURL(), connections: 1))
        // The transaction's body fails because its connection closed: no ROLLBACK may be waited for.
        let transaction = onThread { try store.pool.transaction { s -> Void in try s.connection.close().wait(); throw CancellationError() } }
        try await waitFor(seconds: 5) { transaction.value != nil }
        let statement = onThread { try store.pool.session { s in try s.connection.close().wait(); return try s.run("SELECT 1").rows.count } }
        try await waitFor(seconds: 5) { statement.value != nil }
        for result in [transaction.value.map { $0.map { _ in 0 } }, statement.value] {
            guard case .failure(let error as StoreError)? = result, case .unavailable = error else {
                Issue.record("expected StoreError.unavailable, got \(String(describing: result))"); continue
            }
        }
        let r = record("evt_closed_after")
        #expect(try store.ingest([r]) == [.accepted(id: r.id)])
    }

    /// The store's ingest waits inside its transaction (a second session holds the row lock of the same event key);
    /// its backend is then terminated. The call must fail within seconds: before the fix, the ROLLBACK that followed
    /// was written to the closed connection, postgres-nio dropped it without failing its future, and the caller (the
    /// group committer, in a gateway) waited forever holding its pool slot. Nothing of the failed call is stored, and
    /// the store works again on the next call.
    @Test func lostConnectionInsideATransactionFailsTheCallAndTheNextCallReconnects() async throws {
        let url = StoreBackend.freshSchemaURL()
        let store = try PostgresEventStore(settings: try PostgresSettings(url: url, connections: 2))
        let side = try PostgresEventStore(settings: try PostgresSettings(url: url, connections: 2), migrate: false)
        #expect(try store.ingest([record("evt_lost_warm")]).count == 1)

        // The side session takes evt_lost_blocked's key and keeps its transaction open until released.
        let holderPID = Box<Int?>(nil), release = DispatchSemaphore(value: 0)
        let holder = onThread {
            try? side.pool.transaction { s -> Void in
                holderPID.set(try s.run("SELECT pg_backend_pid() AS pid").rows.first?.makeRandomAccess()["pid"].decode(Int.self))
                try s.run(PostgresSchema.upsertIdempotencyKey, [.text("stripe"), .text("evt_lost_blocked"), .text("evt_other"), .int(1), .int(1)])
                release.wait()
                throw CancellationError()  // rolled back: the key is free again
            }
        }
        try await waitFor { holderPID.value != nil }
        let blocked = record("evt_lost_blocked")
        let ingest = onThread { try store.ingest([blocked]) }

        // The store's session waiting for that lock is terminated by the server.
        let pid = holderPID.value!
        var victim: Int?
        try await waitFor {
            victim = try? side.pool.session { s in
                try s.run("SELECT pid FROM pg_stat_activity WHERE $1::int = ANY(pg_blocking_pids(pid))", [.int(Int64(pid))])
                    .rows.first?.makeRandomAccess()["pid"].decode(Int.self)
            }
            return victim != nil
        }
        _ = try side.pool.session { s in try s.run("SELECT pg_terminate_backend($1::int)", [.int(Int64(victim!))]) }

        try await waitFor(seconds: 10) { ingest.value != nil }
        switch ingest.value {
        case .failure(let error as StoreError): if case .unavailable = error {} else { Issue.record("\(error)") }
        case let other: Issue.record("the ingest on a terminated connection answered \(String(describing: other))")
        }
        release.signal()
        try await waitFor { holder.value != nil }

        // The next calls reconnect; the failed call stored nothing, so its event is accepted now.
        #expect(try store.ingest([record("evt_lost_after")]).count == 1)
        #expect(try store.ingest([blocked]) == [.accepted(id: blocked.id)])
        #expect(try store.countEvents(matching: EventFilter(source: "stripe")) == 3)
    }

    /// Every idle connection of the pool is terminated at once: each later call answers within seconds (failing or
    /// not), and the store is fully usable again without a restart.
    @Test func terminatedIdleConnectionsAreReplaced() async throws {
        let url = StoreBackend.freshSchemaURL()
        let store = try PostgresEventStore(settings: try PostgresSettings(url: url, connections: 4))
        let side = try PostgresEventStore(settings: try PostgresSettings(url: url, connections: 1), migrate: false)
        // Four sessions at once, so the pool holds four connections; their server processes are noted (only they
        // are terminated: other tests share the database).
        let pids = Box<[Int]>([]), go = DispatchSemaphore(value: 0)
        let sessions = (0..<4).map { _ in
            onThread {
                try store.pool.session { s in
                    let pid = try s.run("SELECT pg_backend_pid() AS pid").rows.first!.makeRandomAccess()["pid"].decode(Int.self)
                    pids.update { $0.append(pid) }
                    go.wait()
                }
            }
        }
        try await waitFor { pids.value.count == 4 }
        for _ in 0..<4 { go.signal() }
        try await waitFor { sessions.allSatisfy { $0.value != nil } }

        for pid in pids.value {
            _ = try side.pool.session { s in try s.run("SELECT pg_terminate_backend($1::int)", [.int(Int64(pid))]) }
        }
        var accepted = 0
        for n in 0..<8 {
            let call = onThread { try store.ingest([record("evt_idle_after_\(n)")]) }
            try await waitFor(seconds: 10) { call.value != nil }
            if case .success(let r) = call.value, case .accepted = r.first { accepted += 1 }
        }
        #expect(accepted >= 4)  // at most one failure per terminated connection
        #expect(try store.ingest([record("evt_idle_last")]).count == 1)
    }

    func waitFor(seconds: Int = 10, _ condition: () throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while try !condition() {
            guard ContinuousClock.now < deadline else { Issue.record("timed out after \(seconds) s"); throw CancellationError() }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

/// A value shared with a thread.
final class Box<T: Sendable>: @unchecked Sendable {  // every access holds `lock`
    private let lock = NSLock()
    private var stored: T
    init(_ value: T) { stored = value }
    func set(_ value: T) { lock.lock(); stored = value; lock.unlock() }
    func update(_ change: (inout T) -> Void) { lock.lock(); change(&stored); lock.unlock() }
    var value: T { lock.lock(); defer { lock.unlock() }; return stored }
}

/// Runs a blocking store call on a thread of its own (not the test's cooperative pool, which a call blocked on a
/// lock would starve); its result appears in the box.
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) -> Box<Result<T, Error>?> {
    let box = Box<Result<T, Error>?>(nil)
    Thread { box.set(Result { try body() }) }.start()
    return box
}
