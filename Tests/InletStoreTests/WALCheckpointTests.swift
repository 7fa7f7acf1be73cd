import Foundation
import InletCore
@testable import InletStore
import Testing

/// The WAL is checkpointed between batches, never inside a commit: SQLite's automatic checkpoint is off, and the
/// writer's PASSIVE checkpoint runs once the WAL has grown past its size.
@Suite("SQLite WAL checkpoints off the ack path")
struct WALCheckpointTests {
    @Test func dueOnceTheWALPassesItsSizeAndAgainAfterACompleteCheckpoint() {
        var s = WALCheckpointSchedule(thresholdFrames: 100)
        #expect(!s.isDue)
        s.committed(framesInWAL: 99)
        #expect(!s.isDue)
        s.committed(framesInWAL: 100)
        #expect(s.isDue)
        // Complete: the next commit starts the WAL over, and the full threshold applies again.
        s.checkpointed(walFrames: 100, checkpointed: 100)
        #expect(!s.isDue && s.dueAtFrames == 100)
        s.committed(framesInWAL: 30)
        #expect(!s.isDue)
    }

    @Test func anIncompleteCheckpointIsRetriedAfterMoreGrowthNotAfterEveryBatch() {
        var s = WALCheckpointSchedule(thresholdFrames: 100)
        s.committed(framesInWAL: 120)
        #expect(s.isDue)
        // A reader still needed frames: 80 of 120 went to the database file.
        s.checkpointed(walFrames: 120, checkpointed: 80)
        #expect(s.dueAtFrames == 145)
        s.committed(framesInWAL: 130)
        #expect(!s.isDue)
        s.committed(framesInWAL: 145)
        #expect(s.isDue)
        s.checkpointed(walFrames: 145, checkpointed: 145)
        #expect(s.dueAtFrames == 100)
    }

    func walBytes(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path + "-wal"))?[.size] as? Int) ?? 0
    }

    /// End to end on a store: commits alone never checkpoint (the WAL grows past SQLite's automatic 1000 pages); the
    /// checkpoint between batches runs once it is due, and the next commit starts the WAL over.
    @Test func commitsDoNotCheckpointTheWriterDoesWhenDue() throws {
        let path = temporaryStorePath()
        let store = try SQLiteEventStore(path: path, walCheckpointFrames: 1_500)
        let body = [UInt8](repeating: UInt8(ascii: "x"), count: 20_000)
        var n = 0
        while !store.walWatch.isDue {
            try store.checkpointIfDue()  // not due yet: does nothing
            _ = try store.ingest((0..<20).map { _ in n += 1; return record("evt_\(n)", destinations: [], body: body) })
        }
        #expect(store.walWatch.framesInWAL >= 1_500)
        #expect(walBytes(path) > 1_100 * 4096, "the WAL was checkpointed inside a commit")
        try store.checkpointIfDue()
        #expect(!store.walWatch.isDue)
        _ = try store.ingest([record("evt_after", destinations: [])])
        #expect(store.walWatch.framesInWAL < 50, "the WAL did not start over after a complete checkpoint")
        #expect(try store.counts().events == n + 1)
        #expect(try store.integrityCheck() == "ok")
    }
}
