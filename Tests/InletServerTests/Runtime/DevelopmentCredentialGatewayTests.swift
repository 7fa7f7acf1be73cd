import Foundation
import InletConfig
import InletCore
import InletServer
import Logging
import NIOConcurrencyHelpers
import Testing

/// Collects log lines, for tests that check what the gateway says.
final class CapturedLog: Sendable {
    let lines = NIOLockedValueBox<[String]>([])

    var logger: Logger { Logger(label: "test", factory: { _ in Handler(log: self) }) }

    struct Handler: LogHandler {
        let log: CapturedLog
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
            let meta = (metadata ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            log.lines.withLockedValue { $0.append("\(level) \(message) \(meta)") }
        }
    }
}

/// The gateway's side of published development credentials: a loud warning when one is in use on loopback, and no
/// way to slip one in by reloading a config whose listener addresses (which a reload does not apply) say loopback.
@Suite("Development credentials in a running gateway")
struct DevelopmentCredentialGatewayTests {
    static func config(dir: String, admin: String, token: String) -> String {
        """
        providers_dir = "\(Repo.root)/providers"
        [server]
        listen = "127.0.0.1:0"
        [store]
        path = "\(dir)/inlet.sqlite"
        [admin]
        listen = "\(admin)"
        tokens = ["\(token)"]
        """
    }

    @Test func aPublishedTokenIsAnnouncedAtStartUp() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("inlet-devcred-\(UUID().uuidString)").path
        let log = CapturedLog()
        let resolved = try GatewayConfig.parse(Self.config(dir: dir, admin: "127.0.0.1:0", token: "dev-admin-token"), file: dir + "/inlet.toml")
            .resolve(environment: [:])
        let gateway = try Gateway(resolved: resolved, logger: log.logger)
        let task = Task { try await gateway.run() }
        let warnings = log.lines.withLockedValue { $0 }.filter { $0.hasPrefix("warning DEVELOPMENT CREDENTIAL IN USE") }
        #expect(warnings.count == 1 && warnings.first?.contains("key=admin.tokens") == true, "\(warnings)")
        await gateway.shutdown()
        try await task.value
    }

    @Test func reloadingCannotPutAPublishedTokenOnAnExposedListener() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("inlet-devcred-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let file = dir + "/inlet.toml"
        try Self.config(dir: dir, admin: "0.0.0.0:0", token: "an-own-admin-token-3Vb8").write(toFile: file, atomically: true, encoding: .utf8)
        let gateway = try Gateway(resolved: try GatewayConfig.load(file: file).resolve(environment: [:]), logger: quietLogger,
                                  reload: { try GatewayConfig.load(file: file).resolve(environment: [:]) })
        let task = Task { try await gateway.run() }
        // The file now claims loopback, but the admin listener stays where it was bound until a restart.
        try Self.config(dir: dir, admin: "127.0.0.1:0", token: "dev-admin-token").write(toFile: file, atomically: true, encoding: .utf8)
        guard case .failure(let error) = gateway.reload() else {
            Issue.record("the published admin token was taken on a listener bound to 0.0.0.0")
            await gateway.shutdown()
            try await task.value
            return
        }
        #expect("\(error)".contains("admin.tokens") && "\(error)".contains("0.0.0.0"), "\(error)")
        #expect(gateway.runtime.current.resolved.adminTokens == ["an-own-admin-token-3Vb8"])
        await gateway.shutdown()
        try await task.value
    }
}
