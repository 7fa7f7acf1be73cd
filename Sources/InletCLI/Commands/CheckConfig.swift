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

struct CheckConfig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check-config", abstract: "Validate the config, its provider profiles and secrets.")
    @OptionGroup var options: ConfigOption

    func run() async throws {
        let resolved = try options.resolve()
        print("\(options.config): OK")
        print("  listen      \(resolved.config.server.host):\(resolved.config.server.port)")
        print("  store       \(resolved.config.storePath) (durability: \(resolved.config.store.durability.rawValue))")
        print("  profiles    \(resolved.profiles.count) loaded from \(resolved.config.providersPath)")
        for s in resolved.sources {
            print("  source      \(s.name): POST \(s.path) → \(s.profile.name), \(s.keys.count) secret(s) [\(s.keys.map(\.label).joined(separator: ", "))], destinations: \(s.destinations.joined(separator: ", "))")
        }
        for (name, d) in resolved.destinations.sorted(by: { $0.key < $1.key }) {
            print("  destination \(name): \(d.config.url) (timeout \(d.config.timeoutSeconds)s, \(d.config.retry.maxAttempts) attempts)")
        }
        for w in resolved.expiryWarnings(now: SystemClock().now()) {
            print("  warning     \(w)")
        }
        for use in resolved.developmentCredentials {
            print("  warning     development credential: \(use) (refused on a non-loopback listener)")
        }
    }
}
