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

struct Sources: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show sources and, per secret, when it last verified a request and how often in the last 24 h.")
    @OptionGroup var options: ConfigOption

    func run() async throws {
        let resolved = try options.resolve()
        let now = SystemClock().now()
        let usage = (try? openStoreForReading(resolved.config).secretUsage(since: now - 86_400_000)) ?? []
        for s in resolved.sources {
            print("\(s.name)  POST \(s.path)  provider \(s.profile.name)  destinations: \(s.destinations.isEmpty ? "none" : s.destinations.joined(separator: ", "))")
            for k in s.keys {
                var window = ""
                if let nb = k.window.notBefore { window += " from \(RFC3339.format(nb))" }
                if let ex = k.window.expiresAt { window += (k.window.hasExpired(at: now) ? " expired " : " until ") + RFC3339.format(ex) }
                let state = k.window.isActive(at: now) ? "active" : (k.window.hasExpired(at: now) ? "expired" : "not yet valid")
                let u = usage.first { $0.source == s.name && $0.secretLabel == k.label }
                let seen = u.map { "last verified \(ago($0.lastVerifiedAt, now: now)) (\(RFC3339.format($0.lastVerifiedAt))), \($0.verifiedSince) in 24 h" } ?? "never verified a stored event"
                print("  secret \(k.label)  \(state)\(window)  \(seen)")
            }
        }
    }
}
