import Foundation
import InletConfig
import InletCore
import InletServer
import Logging

/// A logger that drops everything: the gateways tests start are quiet.
public let quietLogger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

/// A gateway running in-process on an ephemeral port with its own SQLite file.
public final class RunningGateway: Sendable {
    public let gateway: Gateway
    public let port: Int
    public let task: Task<Void, Error>
    public let storePath: String
    public let configHeader: String

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    public static func start(sourcesTOML: String, destinationURL: String, storePath: String? = nil, destinationExtra: String = "", destinationTimeoutSeconds: Int = 5, serverExtra: String = "", storeExtra: String = "", secondDestinationSecret: String? = nil, clock: any WallClock = SystemClock()) async throws -> RunningGateway {
        let path = storePath ?? FileManager.default.temporaryDirectory.appendingPathComponent("inlet-e2e-\(UUID().uuidString)/inlet.sqlite").path
        let toml = """
        providers_dir = "\(Repo.root)/providers"
        [server]
        listen = "127.0.0.1:0"
        \(serverExtra)
        [store]
        path = "\(path)"
        durability = "fsync"
        \(storeExtra)
        [delivery]
        concurrency = 16
        poll_interval_ms = 50
        [destinations.svc]
        url = "\(destinationURL)"
        secrets = ["\(destinationSecret)"\(secondDestinationSecret.map { ", \"\($0)\"" } ?? "")]
        timeout_seconds = \(destinationTimeoutSeconds)
        initial_backoff_ms = 20
        max_backoff_ms = 100
        \(destinationExtra)

        \(sourcesTOML)
        """
        let resolved = try GatewayConfig.parse(toml, file: "/tmp/inline-test.toml").resolve(environment: [:])
        let gateway = try Gateway(resolved: resolved, clock: clock, logger: quietLogger)
        let task = Task { try await gateway.run() }
        let port = try await gateway.ingress.listeningPort()
        return RunningGateway(gateway: gateway, port: port, task: task, storePath: path)
    }

    /// Starts a gateway on `body` (destinations and sources) with a fresh store and quick polling. The config is
    /// written to `inlet.toml` beside the store, so a test can rewrite it (`rewriteConfig`) and reload.
    /// With `postgresURL`, the gateway uses that PostgreSQL database instead of its own SQLite file. `environment`
    /// resolves the config's `env:` references; `certificateFetcher` answers its certificate, key-set and key fetches.
    public static func start(configBody body: String, delivery: String = "concurrency = 64\npoll_interval_ms = 50", clock: any WallClock = SystemClock(),
                      postgresURL: String? = nil, providersDirectory: String? = nil, environment: [String: String] = [:],
                      certificateFetcher: (any CertificateFetcher)? = nil) async throws -> RunningGateway {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("inlet-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("inlet.sqlite").path
        let file = dir.appendingPathComponent("inlet.toml").path
        let header = """
        providers_dir = "\(providersDirectory ?? Repo.root + "/providers")"
        [server]
        listen = "127.0.0.1:0"
        [store]
        path = "\(path)"
        \(postgresURL.map { "backend = \"postgres\"\nurl = \"\($0)\"\nconnections = 4" } ?? "")
        [delivery]
        \(delivery)

        """
        try (header + body).write(toFile: file, atomically: true, encoding: .utf8)
        let resolved = try GatewayConfig.load(file: file).resolve(environment: environment)
        let gateway = try Gateway(resolved: resolved, clock: clock, logger: quietLogger, certificateFetcher: certificateFetcher,
                                  reload: { try GatewayConfig.load(file: file).resolve(environment: environment) })
        let task = Task { try await gateway.run() }
        let port = try await gateway.ingress.listeningPort()
        return RunningGateway(gateway: gateway, port: port, task: task, storePath: path, configHeader: header)
    }

    /// Replaces the config's body (as given to `start(configBody:)`) and reloads; throws if the gateway refuses it.
    public func rewriteConfig(_ body: String) throws {
        let file = (storePath as NSString).deletingLastPathComponent + "/inlet.toml"
        try (configHeader + body).write(toFile: file, atomically: true, encoding: .utf8)
        try gateway.reload().get()
    }

    private init(gateway: Gateway, port: Int, task: Task<Void, Error>, storePath: String, configHeader: String = "") {
        self.configHeader = configHeader
        self.gateway = gateway
        self.port = port
        self.task = task
        self.storePath = storePath
    }

    public func stop() async throws {
        await gateway.shutdown()
        try await task.value
    }
}

/// The PostgreSQL server for tests (`INLET_TEST_POSTGRES_URL`, set by the test command), with a fresh schema per call;
/// nil when there is none (then tests that need it are skipped, unless `INLET_REQUIRE_POSTGRES=1`).
public func testPostgresURL() -> String? {
    guard let base = ProcessInfo.processInfo.environment["INLET_TEST_POSTGRES_URL"], !base.isEmpty else {
        precondition(ProcessInfo.processInfo.environment["INLET_REQUIRE_POSTGRES"] != "1", "INLET_REQUIRE_POSTGRES=1 but INLET_TEST_POSTGRES_URL is not set")
        return nil
    }
    let schema = "g_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
    return base + (base.contains("?") ? "&" : "?") + "schema=" + schema
}
