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

struct ConfigOption: ParsableArguments {
    @Option(name: .shortAndLong, help: "Gateway config file.")
    var config: String = "config/inlet.toml"

    func load() throws -> GatewayConfig {
        do { return try GatewayConfig.load(file: config) } catch { throw CLIError(error.description) }
    }

    func resolve() throws -> ResolvedConfig {
        do { return try load().resolve() } catch let e as ConfigError { throw CLIError(e.description) }
    }
}

struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

func bootstrapLogging(level: String, format: String) {
    let lvl = Logger.Level(rawValue: level) ?? .info
    LoggingSystem.bootstrap { label in
        var h: any LogHandler = format == "json" ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
        h.logLevel = lvl
        return h
    }
}

/// Opens the gateway's store alongside a running gateway: SQLite without its lock (WAL allows it), or PostgreSQL.
func openStoreForReading(_ config: GatewayConfig) throws -> any EventStore {
    do { return try StoreFactory.open(config, purpose: .tool) } catch { throw CLIError("\(error)") }
}

func ago(_ ms: EpochMillis, now: EpochMillis) -> String {
    let s = max(0, (now - ms) / 1000)
    if s < 120 { return "\(s)s ago" }
    if s < 7200 { return "\(s / 60)m ago" }
    if s < 172_800 { return "\(s / 3600)h ago" }
    return "\(s / 86400)d ago"
}
