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

struct Reload: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Make the running gateway re-read its config, profiles and secrets (SIGHUP).")
    @OptionGroup var options: ConfigOption

    func run() async throws {
        let config = try options.load()
        // Validate first: the gateway would refuse an invalid config anyway, but here the error is in front of you.
        do { _ = try config.resolve() } catch { throw CLIError("not reloading: \(error)") }
        if config.store.backend == .postgres {
            throw CLIError("config is valid. With a shared PostgreSQL store, send SIGHUP to each instance (kill -HUP <pid>) on its machine")
        }
        guard let pid = SQLiteEventStore.holderPID(ofStoreAt: config.storePath) else {
            throw CLIError("no gateway is running on \(config.storePath)")
        }
        guard kill(pid, SIGHUP) == 0 else { throw CLIError("cannot signal process \(pid): \(String(cString: strerror(errno)))") }
        print("sent SIGHUP to inlet (pid \(pid)); its log says whether the new config was taken")
    }
}
