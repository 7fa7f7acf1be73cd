import Foundation
import InletStore
import Testing

/// The store implementations every conformance test runs against. PostgreSQL joins when `INLET_TEST_POSTGRES_URL`
/// names a server (the test command starts one on loopback and sets it; `INLET_REQUIRE_POSTGRES=1` makes its absence
/// an error instead of a skip). Each PostgreSQL store gets a schema of its own, so tests never see each other's rows.
enum StoreBackend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    static let postgresURL = ProcessInfo.processInfo.environment["INLET_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }

    static var available: [StoreBackend] {
        if postgresURL == nil {
            precondition(ProcessInfo.processInfo.environment["INLET_REQUIRE_POSTGRES"] != "1", "INLET_REQUIRE_POSTGRES=1 but INLET_TEST_POSTGRES_URL is not set")
            return [.sqlite]
        }
        return [.sqlite, .postgres]
    }

    var testDescription: String { rawValue }

    func makeStore() throws -> any EventStore {
        switch self {
        case .sqlite: return try SQLiteEventStore(path: temporaryStorePath())
        case .postgres: return try PostgresEventStore(settings: try PostgresSettings(url: Self.freshSchemaURL()))
        }
    }

    /// The test server's URL with a new, empty schema.
    static func freshSchemaURL() -> String {
        let base = postgresURL ?? "postgres://inlet:inlet@127.0.0.1:5432/inlet_test"
        let schema = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
        return base + (base.contains("?") ? "&" : "?") + "schema=" + schema
    }
}

@Suite("Store schemas: SQLite and PostgreSQL stay alike", .enabled(if: StoreBackend.available.contains(.postgres)))
struct StoreSchemaParityTests {
    /// Both backends hold the same tables with the same columns and the same migrations: a column added to one
    /// store's schema and not the other's fails here.
    @Test func sameTablesColumnsAndMigrations() throws {
        let sqlite = try SQLiteEventStore(path: temporaryStorePath())
        let postgres = try #require(try StoreBackend.postgres.makeStore() as? PostgresEventStore)
        let a = try sqlite.tableColumns(), b = try postgres.tableColumns()
        #expect(a.keys.sorted() == b.keys.sorted())
        for table in a.keys.sorted() { #expect(a[table] == b[table], "\(table)") }
        #expect(PostgresSchema.migrationNames == SQLiteSchema.migrationNames)
    }
}

@Suite("Shared PostgreSQL queue: several stores on one database", .enabled(if: StoreBackend.available.contains(.postgres)))
struct SharedQueueTests {
    func twoStores() throws -> (PostgresEventStore, PostgresEventStore) {
        let url = StoreBackend.freshSchemaURL()
        return (try PostgresEventStore(settings: try PostgresSettings(url: url, connections: 4)),
                try PostgresEventStore(settings: try PostgresSettings(url: url, connections: 4)))
    }

    /// Two instances committing overlapping batches at once, in opposite orders: every key is accepted exactly once,
    /// and neither commit deadlocks.
    @Test func racingIngestsAcceptEachKeyOnce() async throws {
        let (a, b) = try twoStores()
        let keys = (0..<200).map { "evt_race_\($0)" }
        async let fromA = Task.detached { try stride(from: 0, to: keys.count, by: 20).flatMap { try a.ingest(keys[$0..<$0 + 20].map { record($0) }) } }.value
        async let fromB = Task.detached { try stride(from: 0, to: keys.count, by: 20).flatMap { try b.ingest(keys[$0..<$0 + 20].reversed().map { record($0) }) } }.value
        let results = try await fromA + fromB
        let accepted = results.filter { if case .accepted = $0 { return true }; return false }
        #expect(accepted.count == keys.count)
        #expect(try a.countEvents(matching: EventFilter(source: "stripe")) == keys.count)
        #expect(try a.counts().pending == keys.count)
    }

    /// Two instances claiming from one queue at once never get the same row.
    @Test func concurrentClaimsNeverOverlap() async throws {
        let (a, b) = try twoStores()
        _ = try a.ingest((0..<300).map { record("evt_claim_\($0)") })
        func drain(_ s: PostgresEventStore) -> Task<[Int64], Error> {
            Task.detached {
                var got: [Int64] = []
                while case let batch = try s.claimDue(now: 2_000, limit: 7, leaseMillis: 60_000), !batch.isEmpty { got += batch.map(\.deliveryID) }
                return got
            }
        }
        let taskA = drain(a), taskB = drain(b)
        let fromA = try await taskA.value, fromB = try await taskB.value
        #expect(Set(fromA).isDisjoint(with: fromB))
        #expect(fromA.count + fromB.count == 300 && Set(fromA + fromB).count == 300)
        #expect(try b.claimDue(now: 2_000, limit: 10, leaseMillis: 60_000).isEmpty)  // leases hold
    }

    /// Per-key order holds across instances: while one instance works a key's first row, the other gets none of
    /// that key's later rows, but does get other keys'.
    @Test func orderingKeyHoldsAcrossInstances() throws {
        let (a, b) = try twoStores()
        var records: [IngestRecord] = []
        for (n, key) in ["k1", "k1", "k2"].enumerated() {
            var r = record("evt_order_\(n)", at: 1_000 + Int64(n))
            r.orderingKeys["svc"] = key
            records.append(r)
        }
        _ = try a.ingest(records)
        let first = try a.claimDue(now: 5_000, limit: 1, leaseMillis: 60_000)
        #expect(first.map(\.event.eventKey) == ["evt_order_0"])
        #expect(try b.claimDue(now: 5_000, limit: 10, leaseMillis: 60_000).map(\.event.eventKey) == ["evt_order_2"])
        try a.complete([DeliveryCompletion(attempt: AttemptRecord(deliveryID: first[0].deliveryID, attempt: 1, startedAt: 5_000, durationMillis: 1,
                                                                  statusCode: 204, error: nil, responseSnippet: nil, nextAttemptAt: nil), next: .delivered)], now: 5_001)
        #expect(try b.claimDue(now: 5_002, limit: 10, leaseMillis: 60_000).map(\.event.eventKey) == ["evt_order_1"])
    }
}

@Suite("Shared PostgreSQL queue: wake-ups", .enabled(if: StoreBackend.available.contains(.postgres)))
struct QueueNotificationTests {
    /// Rows queued by one instance wake the other's workers through NOTIFY, without waiting for a poll; rows that
    /// queue nothing (a duplicate) announce nothing.
    @Test func queuedRowsWakeTheOtherInstance() async throws {
        let url = StoreBackend.freshSchemaURL()
        let a = try PostgresEventStore(settings: try PostgresSettings(url: url))
        let b = try PostgresEventStore(settings: try PostgresSettings(url: url))
        let wakes = Counter()
        let listening = b.listenForQueueChanges { wakes.add() }
        defer { listening.cancel() }
        try await waitFor { wakes.value >= 1 }  // the listener announces itself once LISTEN is in place
        let before = wakes.value
        _ = try a.ingest([record("evt_wake_1")])
        try await waitFor { wakes.value > before }
        let afterFirst = wakes.value
        _ = try a.ingest([record("evt_wake_1")])  // a duplicate: nothing queued
        try await Task.sleep(for: .milliseconds(300))
        #expect(wakes.value == afterFirst)
    }

    /// A bound against hanging, not a latency check: a loaded machine (parallel suites, builds) can delay the
    /// LISTEN connection's start by seconds.
    func waitFor(_ condition: @Sendable () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while !condition() {
            guard ContinuousClock.now < deadline else { Issue.record("timed out"); return }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func add() { lock.lock(); n += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return n }
}
