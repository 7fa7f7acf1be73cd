import ArgumentParser
import Foundation
import InletServer

/// The `inlet` command: the gateway (`serve`, the default) and the operator's commands. A library, so the commands
/// are testable; the executable target only sets the process up and calls `Inlet.main()`.
public struct Inlet: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "inlet",
        abstract: "A receiver-side webhook gateway: verify, store durably, acknowledge, forward.",
        version: InletVersion.current,
        subcommands: [Serve.self, CheckConfig.self, Migrate.self, Reload.self, SendTest.self, Sources.self, Events.self, Replay.self, DeadLetters.self,
                      Quarantine.self, Destinations.self, Streams.self, Prune.self, Secrets.self, Sink.self, Providers.self, Listen.self],
        defaultSubcommand: Serve.self)

    public init() {}

    /// The process's entry. Files it creates (the store, its WAL, shared memory and lock) are its owner's alone: the
    /// store holds every payload received, and a default umask of 022 would make it world-readable.
    /// (Parses and runs explicitly: from another module, `main()` resolves to ArgumentParser's synchronous entry,
    /// which refuses an asynchronous root command.)
    public static func runAsProcess() async {
        umask(0o077)
        do {
            var command = try parseAsRoot(nil)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
