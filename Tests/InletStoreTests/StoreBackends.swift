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
