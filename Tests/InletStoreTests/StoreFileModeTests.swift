import Foundation
import InletCore
import InletStore
import Testing

/// The SQLite store holds every payload received: its directory and files are its owner's only, whatever the process
/// umask (a default 022 would make them world-readable).
@Suite("Store file modes")
struct StoreFileModeTests {
    static func mode(_ path: String) -> Int? {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? NSNumber)?.intValue
    }

    static func freshDirectory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("inlet-modes-\(UUID().uuidString)").path
    }

    @Test func aNewStoreIsOwnerOnly() throws {
        let dir = Self.freshDirectory() + "/data"
        let path = dir + "/inlet.sqlite"
        let store = try SQLiteEventStore(path: path, durability: .fsync, exclusive: true)
        _ = try store.ingest([record("evt_modes")])
        #expect(Self.mode(dir) == 0o700)
        withExtendedLifetime(store) {
            for file in [path, path + "-wal", path + "-shm", path + ".lock"] {
                #expect(FileManager.default.fileExists(atPath: file), "\(file)")
                #expect(Self.mode(file) == 0o600, "\(file) is \(String(Self.mode(file) ?? -1, radix: 8))")
            }
        }
    }

    /// Files left world-readable by an earlier version are tightened when the store opens. The directory is not: it
    /// may be shared, and is the operator's to set.
    @Test func existingFilesAreTightened() throws {
        let dir = Self.freshDirectory()
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let path = dir + "/inlet.sqlite"
        do {
            let store = try SQLiteEventStore(path: path, durability: .fsync, exclusive: true)
            _ = try store.ingest([record("evt_modes")])
        }
        for file in [path, path + ".lock"] { #expect(chmod(file, 0o644) == 0) }
        let reopened = try SQLiteEventStore(path: path, durability: .fsync, exclusive: true)
        withExtendedLifetime(reopened) {
            for file in [path, path + "-wal", path + "-shm", path + ".lock"] where FileManager.default.fileExists(atPath: file) {
                #expect(Self.mode(file) == 0o600, "\(file) is \(String(Self.mode(file) ?? -1, radix: 8))")
            }
        }
        #expect(Self.mode(dir) == 0o755)
    }
}
