import Foundation
import InletConfig
import InletStore
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// Opens the store the config names: the SQLite file (the gateway takes its one-process lock; tools read alongside
/// without it), or the shared PostgreSQL database.
public enum StoreFactory {
    public enum Purpose: Sendable {
        /// The gateway itself: SQLite takes its exclusive lock; PostgreSQL migrates if `migrate_on_start`.
        case gateway
        /// A tool next to a running gateway (CLI): no lock, no migration.
        case tool
        /// `inlet migrate`.
        case migrate
    }

    public static func open(_ config: GatewayConfig, purpose: Purpose, environment: [String: String] = ProcessInfo.processInfo.environment,
                            logger: Logger? = nil) throws -> any EventStore {
        switch config.store.backend {
        case .sqlite:
            if purpose == .tool && !FileManager.default.fileExists(atPath: config.storePath) {
                throw StoreError.unavailable("no store at \(config.storePath) (has the gateway run?)")
            }
            return try SQLiteEventStore(path: config.storePath, durability: config.store.durability == .fsync ? .fsync : .relaxed,
                                        exclusive: purpose == .gateway)
        case .postgres:
            guard let reference = config.store.url else { throw StoreError.unavailable("[store] url is not set") }
            let url: String
            switch reference.resolve(environment: environment, baseDirectory: config.baseDirectory) {
            case .success(let u): url = u
            case .failure(.envUnset(let name)): throw StoreError.unavailable("[store] url: environment variable \(name) is not set")
            case .failure(.fileUnreadable(let path)): throw StoreError.unavailable("[store] url: cannot read \(path)")
            case .failure(.empty): throw StoreError.unavailable("[store] url is empty")
            }
            let settings = try PostgresSettings(url: url, connections: config.store.connections)
            return try PostgresEventStore(settings: settings, logger: logger,
                                          migrate: purpose == .gateway && config.store.migrateOnStart)
        }
    }
}
