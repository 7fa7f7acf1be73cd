import ArgumentParser
import AsyncHTTPClient
import Foundation
import InletConfig
import InletCore
import InletServer
import InletStore
import Logging
import NIOCore
import NIOPosix
import UnixSignals

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create or upgrade the store's schema (PostgreSQL: run once before starting instances, or let them with migrate_on_start).")
    @OptionGroup var options: ConfigOption

    func run() async throws {
        let config = try options.load()
        let store: any EventStore
        do { store = try StoreFactory.open(config, purpose: .migrate) } catch { throw CLIError("\(error)") }
        if let pg = store as? PostgresEventStore {
            let applied = try pg.migrate()
            print("\(pg.settings): schema is current (\(PostgresSchema.migrationNames.count) migrations\(applied.isEmpty ? "" : "; applied just now: " + applied.joined(separator: ", ")))")
            pg.close()
        } else {
            print("\(config.storePath): schema is current (SQLite migrates when it opens the file)")
        }
    }
}
