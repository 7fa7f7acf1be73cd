import InletConfig
import InletCore
import Logging
import ServiceLifecycle
import UnixSignals

/// Re-reads config, profiles and secrets on SIGHUP (and on `Gateway.reload()`): a valid new config replaces the
/// running snapshot atomically, so each new request sees either the old or the new config, never a mix; requests in
/// flight finish on the snapshot they started with. An invalid config is refused, logged, and the old one stays.
///
/// Listener addresses, the store and the delivery concurrency are read at start-up only; changing them needs a
/// restart, and a reload that changes them says so.
final class ConfigReloader: Service, Sendable {
    let runtime: LiveConfig
    let load: @Sendable () throws -> ResolvedConfig
    let logger: Logger

    init(runtime: LiveConfig, logger: Logger, load: @escaping @Sendable () throws -> ResolvedConfig) {
        self.runtime = runtime
        self.load = load
        self.logger = logger
    }

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        try await cancelWhenGracefulShutdown {
            for await _ in signals { _ = self.reload() }
        }
    }

    @discardableResult
    func reload() -> Result<Void, Error> {
        do {
            let next = try load()
            let old = runtime.current.resolved.config
            var restartOnly: [String] = []
            if next.config.server != old.server { restartOnly.append("server") }
            if next.config.store != old.store { restartOnly.append("store") }
            if next.config.delivery != old.delivery { restartOnly.append("delivery") }
            if next.config.admin != old.admin { restartOnly.append("admin") }
            // The quarantine writer keeps its quotas, skipped reasons and per-peer allowance from start-up.
            if next.config.quarantine != old.quarantine { restartOnly.append("quarantine") }
            // `resolve` judged published credentials against the new file's listeners, but listeners are not reloaded:
            // what counts is where the running ones are bound.
            for use in next.developmentCredentials {
                let running = use.keyPath.first == "admin" ? old.admin?.host : use.keyPath.first == "sources" ? old.server.host : nil
                if let running, !DevelopmentCredentials.isLoopback(host: running) {
                    throw ConfigError(file: next.config.file, line: nil, key: use.keyPath.joined(separator: "."),
                                      message: use.refusal + " (the running listener is bound to \(running))")
                }
            }
            runtime.replace(with: next)
            logger.notice("config reloaded", metadata: [
                "sources": "\(next.sources.count)", "destinations": "\(next.destinations.count)",
                "restart_needed_for": "\(restartOnly.isEmpty ? "-" : restartOnly.joined(separator: ","))",
            ])
            ConfigWarnings.log(next, logger: logger, now: SystemClock().now())
            return .success(())
        } catch {
            logger.error("config reload refused; the running config stays", metadata: ["error": "\(error)"])
            return .failure(error)
        }
    }
}
