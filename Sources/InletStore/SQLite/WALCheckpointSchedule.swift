import Foundation
import GRDBSQLite

/// When the writer checkpoints the WAL: SQLite's automatic checkpoint runs inside the commit that crosses its size, so
/// one acknowledged batch in every few hundred waited for pages copied into the database file and, with
/// `synchronous=FULL`, that file's fsync. Inlet turns it off and runs a PASSIVE checkpoint between batches instead,
/// after their acks, once the WAL holds `thresholdFrames` frames. Pure: the store feeds it what SQLite reports.
public struct WALCheckpointSchedule: Sendable, Equatable {
    /// Frames (pages) in the WAL that make a checkpoint due: SQLite's own automatic size, 1000 frames (about 4 MB of
    /// 4 KB pages). Not larger: the WAL is where a store's free disk goes between checkpoints, and a store on a small
    /// volume must checkpoint (and then reuse its WAL from the start) before the volume is full. With 16 MB here the
    /// disk-full scenario (5 MB free) never reached a checkpoint: the WAL took all the space, and again all the space
    /// freed after the disk-full condition, so the gateway never recovered.
    public static let defaultThresholdFrames = 1000

    public let thresholdFrames: Int
    /// Frames in the WAL after the last commit (SQLite's WAL hook says).
    public private(set) var framesInWAL = 0
    /// The WAL size at which the next checkpoint is due.
    public private(set) var dueAtFrames: Int

    public init(thresholdFrames: Int = Self.defaultThresholdFrames) {
        self.thresholdFrames = max(1, thresholdFrames)
        dueAtFrames = self.thresholdFrames
    }

    /// A commit left `frames` frames in the WAL.
    public mutating func committed(framesInWAL frames: Int) { framesInWAL = frames }

    public var isDue: Bool { framesInWAL >= dueAtFrames }

    /// A checkpoint ran: `walFrames` were in the WAL, `checkpointed` of them are now in the database file. A complete
    /// one lets the next commit start the WAL over; an incomplete one (a reader still needs older frames) is tried again
    /// once the WAL has grown by another quarter of the threshold, not after every batch.
    public mutating func checkpointed(walFrames: Int, checkpointed: Int) {
        if checkpointed >= walFrames {
            framesInWAL = 0
            dueAtFrames = thresholdFrames
        } else {
            dueAtFrames = walFrames + max(1, thresholdFrames / 4)
        }
    }
}

/// The schedule as the store shares it between SQLite's WAL hook (on the writer connection, after each commit) and
/// the ingest committer's thread, which asks between batches whether a checkpoint is due.
final class WALCheckpointWatch: @unchecked Sendable {
    // @unchecked: `schedule` is guarded by `lock`.
    private let lock = NSLock()
    private var schedule: WALCheckpointSchedule

    init(thresholdFrames: Int) { schedule = WALCheckpointSchedule(thresholdFrames: thresholdFrames) }

    var isDue: Bool { lock.lock(); defer { lock.unlock() }; return schedule.isDue }
    var framesInWAL: Int { lock.lock(); defer { lock.unlock() }; return schedule.framesInWAL }

    func committed(framesInWAL frames: Int) { lock.lock(); schedule.committed(framesInWAL: frames); lock.unlock() }

    func checkpointed(walFrames: Int, checkpointed: Int) {
        lock.lock(); schedule.checkpointed(walFrames: walFrames, checkpointed: checkpointed); lock.unlock()
    }

    /// Replaces the connection's automatic checkpoint (the two share SQLite's one WAL hook) with a hook that only
    /// records the WAL's size: the checkpoint itself is `SQLiteEventStore.checkpointIfDue`'s, between batches.
    func install(on connection: OpaquePointer) {
        sqlite3_wal_hook(connection, { context, _, _, frames in
            if let context { Unmanaged<WALCheckpointWatch>.fromOpaque(context).takeUnretainedValue().committed(framesInWAL: Int(frames)) }
            return SQLITE_OK
        }, Unmanaged.passUnretained(self).toOpaque())
    }
}
