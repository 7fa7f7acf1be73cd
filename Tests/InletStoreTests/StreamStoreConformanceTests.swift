import Foundation
import InletCore
import InletStore
import Testing

/// A record routed to streams (and, optionally, destinations).
func streamed(_ key: String, at: EpochMillis = 1_000, streams: [String] = ["ledger"], destinations: [String] = []) -> IngestRecord {
    var r = record(key, at: at, destinations: destinations)
    r.streams = streams
    return r
}

@Suite("Stream store conformance (SQLite, PostgreSQL)")
struct StreamStoreConformanceTests {
    func lease(_ store: any EventStore, group: String = "g", max: Int = 100, leaseMillis: Int64 = 30_000, now: EpochMillis = 10_000,
               startAtNow: Bool = false, after: Int64? = nil, stream: String = "ledger") throws -> StreamBatch {
        try store.leaseBatch(StreamLeaseRequest(stream: stream, group: group, max: max, leaseMillis: leaseMillis, startAtNow: startAtNow, after: after),
                             receipt: "r\(UUID().uuidString)", now: now)
    }

    /// Ingest appends in the same commit, one entry per stream, with rising sequences; a duplicate appends nothing;
    /// an event only in a stream is not unrouted, and has no queue row.
    @Test(arguments: StoreBackend.available) func ingestAppendsWithRisingSequences(_ backend: StoreBackend) throws {
        let store = try backend.makeStore()
        let a = streamed("evt_s1", streams: ["ledger", "audit"]), b = streamed("evt_s2", destinations: ["svc"]), dup = streamed("evt_s1")
        #expect(try store.ingest([a, b, dup]) == [.accepted(id: a.id), .accepted(id: b.id), .duplicate(id: a.id)])
        let c = streamed("evt_s3")
        _ = try store.ingest([c])
        let batch = try lease(store)
        #expect(batch.items.map(\.sequence) == [1, 2, 3])
        #expect(batch.items.map(\.event.id) == [a.id, b.id, c.id])
        #expect(batch.items[0].event.body == a.body && batch.items[0].event.headers == a.headers)
        #expect(try batch.items.map(\.event) == [a.id, b.id, c.id].map { try #require(try store.event(id: $0)) })
        #expect(try lease(store, stream: "audit").items.map(\.event.id) == [a.id])
        #expect(try store.event(id: a.id)?.unrouted == false)
        #expect(try store.deliveries(eventID: a.id).isEmpty)
        #expect(try store.deliveries(eventID: b.id).map(\.destination) == ["svc"])
    }

    /// A receipt acknowledges its batch and moves the cursor; acknowledging it again, or after its lease ran out, is
    /// `receiptExpired`; an unknown group is `unknownGroup`.
    @Test(arguments: StoreBackend.available) func receiptAcknowledgesOnceWhileItsLeaseLives(_ backend: StoreBackend) throws {
        let store = try backend.makeStore()
        _ = try store.ingest((1...5).map { streamed("evt_r\($0)") })
        let first = try lease(store, max: 2, leaseMillis: 1_000, now: 10_000)
        let receipt = try #require(first.receipt)
        #expect(first.items.map(\.sequence) == [1, 2] && first.leaseExpiresAt == 11_000)
        #expect(try store.acknowledge(stream: "ledger", group: "g", receipt: receipt, now: 10_500) == StreamAck(acknowledged: 2, cursor: 3))
        #expect(throws: StreamStoreError.receiptExpired) { try store.acknowledge(stream: "ledger", group: "g", receipt: receipt, now: 10_600) }
        let second = try lease(store, max: 2, leaseMillis: 1_000, now: 10_600)
        #expect(throws: StreamStoreError.receiptExpired) { try store.acknowledge(stream: "ledger", group: "g", receipt: second.receipt!, now: 11_600) }
        #expect(throws: StreamStoreError.receiptExpired) { try store.acknowledge(stream: "ledger", group: "g", receipt: "r-made-up", now: 10_600) }
        #expect(throws: StreamStoreError.unknownGroup) { try store.acknowledge(stream: "ledger", group: "nobody", receipt: receipt, now: 10_600) }
        #expect(throws: StreamStoreError.unknownGroup) { try store.acknowledge(stream: "ledger", group: "nobody", sequences: [1], now: 10_600) }
    }

    /// Two workers of one group get disjoint batches; a batch whose lease runs out is served again (counted as
    /// expired), to whichever worker asks next.
    @Test(arguments: StoreBackend.available) func workersShareAGroupAndExpiredLeasesAreServedAgain(_ backend: StoreBackend) throws {
        let store = try backend.makeStore()
        _ = try store.ingest((1...6).map { streamed("evt_w\($0)") })
        let a = try lease(store, max: 3, leaseMillis: 1_000, now: 10_000)
        let b = try lease(store, max: 3, leaseMillis: 5_000, now: 10_001)
        #expect(a.items.map(\.sequence) == [1, 2, 3] && b.items.map(\.sequence) == [4, 5, 6])
        #expect(try lease(store, now: 10_002).items.isEmpty)
        // Worker A dies: after its lease, its batch goes to the next caller; B's lease still holds.
        let again = try lease(store, now: 11_000)
        #expect(again.items.map(\.sequence) == [1, 2, 3] && again.expiredLeases == 3)
        // B acknowledges out of order: the cursor stays at the lowest unacknowledged sequence.
        #expect(try store.acknowledge(stream: "ledger", group: "g", receipt: b.receipt!, now: 11_001) == StreamAck(acknowledged: 3, cursor: 1))
        #expect(try store.acknowledge(stream: "ledger", group: "g", receipt: again.receipt!, now: 11_002) == StreamAck(acknowledged: 3, cursor: 7))
        #expect(try lease(store, now: 20_000).items.isEmpty)
    }

    /// Groups keep their own cursors; a new group starts at the oldest retained entry, or after the newest with `now`.
    @Test(arguments: StoreBackend.available) func groupsAreIndependent(_ backend: StoreBackend) throws {
        let store = try backend.makeStore()
        _ = try store.ingest((1...3).map { streamed("evt_g\($0)") })
        let x = try lease(store, group: "x")
        _ = try store.acknowledge(stream: "ledger", group: "x", receipt: x.receipt!, now: 10_001)
        #expect(try lease(store, group: "y").items.map(\.sequence) == [1, 2, 3])
        #expect(try lease(store, group: "late", startAtNow: true).items.isEmpty)
        _ = try store.ingest([streamed("evt_g4")])
        #expect(try lease(store, group: "late", now: 10_100).items.map(\.sequence) == [4])
        #expect(try lease(store, group: "x", now: 10_100).items.map(\.sequence) == [4])
        let groups = try store.streamGroups(stream: "ledger", now: 10_200)
        #expect(groups.map(\.group) == ["late", "x", "y"])
        #expect(groups.first { $0.group == "y" }?.lagEvents == 4)
        #expect(groups.first { $0.group == "x" }.map { ($0.cursor, $0.lagEvents, $0.leased) } ?? (0, 0, 0) == (4, 1, 1))
    }

    /// Sequences acknowledged one by one; `commitThrough` (SSE's Last-Event-ID) acknowledges everything up to one.
    @Test(arguments: StoreBackend.available) func sequencesAndCommitThrough(_ backend: StoreBackend) throws {
        let store = try backend.makeStore()
        _ = try store.ingest((1...5).map { streamed("evt_q\($0)") })
        _ = try lease(store, max: 1)
        #expect(try store.acknowledge(stream: "ledger", group: "g", sequences: [2, 3, 3, 99], now: 10_001) == StreamAck(acknowledged: 2, cursor: 1))
        #expect(try store.acknowledge(stream: "ledger", group: "g", sequences: [1], now: 10_002) == StreamAck(acknowledged: 1, cursor: 4))
        #expect(try store.commitThrough(stream: "ledger", group: "g", sequence: 4, startAtNow: false, now: 10_003) == StreamAck(acknowledged: 1, cursor: 5))
        #expect(try store.commitThrough(stream: "sse", group: "new", sequence: 0, startAtNow: false, now: 10_003).cursor == 1)
        // Past the newest entry, the cursor stops after it: later entries are still served.
        #expect(try store.commitThrough(stream: "ledger", group: "g", sequence: 1_000, startAtNow: false, now: 10_004).cursor == 6)
        _ = try store.ingest([streamed("evt_q6")])
        #expect(try lease(store, now: 10_005).items.map(\.sequence) == [6])
    }

    /// A rewind to a sequence or a time serves from there again, and drops the group's leases.
    @Test(arguments: StoreBackend.available) func rewind(_ backend: StoreBackend) throws {
        let store = try backend.makeStore()
        _ = try store.ingest((1...4).map { streamed("evt_rw\($0)", at: 1_000 * Int64($0)) })
        let all = try lease(store)
        _ = try store.acknowledge(stream: "ledger", group: "g", receipt: all.receipt!, now: 10_001)
        #expect(try store.rewindGroup(stream: "ledger", group: "g", to: .sequence(2), now: 10_002) == 2)
        #expect(try lease(store, now: 10_003).items.map(\.sequence) == [2, 3, 4])
        #expect(try store.rewindGroup(stream: "ledger", group: "g", to: .time(2_500), now: 10_004) == 3)
        #expect(try lease(store, now: 10_005).items.map(\.sequence) == [3, 4])
        #expect(try store.rewindGroup(stream: "ledger", group: "g", to: .time(99_000), now: 10_006) == 5)
        #expect(try store.rewindGroup(stream: "ledger", group: "none", to: .sequence(1), now: 10_006) == nil)
        #expect(try store.deleteGroup(stream: "ledger", group: "g"))
        #expect(try !store.deleteGroup(stream: "ledger", group: "g"))
        #expect(try lease(store, now: 10_007).items.count == 4)  // recreated at the oldest
    }

    /// Retention removes entries past the cutoff and entries below every group's cursor; a group left behind sees what
    /// it missed; sequences never restart; events a stream holds outlive event retention.
    @Test(arguments: StoreBackend.available) func retention(_ backend: StoreBackend) throws {
        let store = try backend.makeStore()
        _ = try store.ingest((1...6).map { streamed("evt_p\($0)", at: 1_000 * Int64($0)) })
        #expect(try store.pruneEvents(receivedBefore: 100_000, limit: 100) == 0, "events a stream holds were pruned")
        let fast = try lease(store, group: "fast", max: 2)
        _ = try store.acknowledge(stream: "ledger", group: "fast", receipt: fast.receipt!, now: 10_001)
        // No cutoff reached: nothing goes while the slow group has acknowledged nothing.
        _ = try lease(store, group: "slow", max: 1)
        #expect(try store.pruneStreams(appendedBefore: ["ledger": 0], limit: 100) == 0)
        // Entries before 4_500 are past retention: 1…4 go, and the slow group missed 1…4.
        #expect(try store.pruneStreams(appendedBefore: ["ledger": 4_500], limit: 100) == 4)
        let slow = try #require(try store.streamGroups(stream: "ledger", now: 10_002).first { $0.group == "slow" })
        #expect(slow.missedByRetention == 4 && slow.lagEvents == 2)
        #expect(try lease(store, group: "slow", now: 50_000).items.map(\.sequence) == [5, 6])
        let summary = try #require(try store.streamSummaries().first { $0.name == "ledger" })
        #expect(summary.length == 2 && summary.firstSequence == 5 && summary.lastSequence == 6)
        // Every group past everything: the rest goes by cursor; the next entry still gets the next sequence.
        for group in ["fast", "slow"] { _ = try store.commitThrough(stream: "ledger", group: group, sequence: 6, startAtNow: false, now: 50_001) }
        #expect(try store.pruneStreams(appendedBefore: ["ledger": 0], limit: 100) == 2)
        _ = try store.ingest([streamed("evt_p7", at: 7_000)])
        #expect(try lease(store, group: "fast", now: 50_002).items.map(\.sequence) == [7])
        #expect(try store.pruneEvents(receivedBefore: 100_000, limit: 100) == 6, "events no stream holds any more stay")
    }
}
