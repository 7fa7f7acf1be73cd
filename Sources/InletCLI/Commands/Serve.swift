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

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the gateway.")
    @OptionGroup var options: ConfigOption

    func run() async throws {
        let resolved = try options.resolve()
        bootstrapLogging(level: resolved.config.logLevel, format: resolved.config.logFormat)
        let logger = Logger(label: "inlet")
        logger.notice("starting", metadata: [
            "config": "\(options.config)",
            // The PostgreSQL URL may carry a password: only the backend is named.
            "store": "\(resolved.config.store.backend == .sqlite ? resolved.config.storePath : "postgres")",
            "durability": "\(resolved.config.store.backend == .sqlite ? resolved.config.store.durability.rawValue : "postgres commit")",
            "sources": "\(resolved.sources.map { "\($0.name)=\($0.path) (\($0.profile.name))" }.joined(separator: ", "))",
        ])
        let gateway: Gateway
        do {
            let path = options.config
            gateway = try Gateway(resolved: resolved, logger: logger, signals: [.sigterm, .sigint],
                                  reload: { try GatewayConfig.load(file: path).resolve() })
        } catch {
            throw CLIError("cannot start: \(error)")
        }
        try await gateway.run()
    }
}
