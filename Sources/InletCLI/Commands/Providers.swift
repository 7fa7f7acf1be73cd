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

struct Providers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the provider profiles and their schemes.",
        subcommands: [List.self, UpdateIPs.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the provider profiles and their schemes.")
        @Option(help: "Directory of provider profiles.") var dir: String = "providers"

        func run() async throws {
            let profiles: [String: ProviderProfile]
            do { profiles = try ProfileLoader.loadDirectory(dir) } catch { throw CLIError(error.description) }
            let width = max(18, profiles.keys.map(\.count).max() ?? 0)
            print("\("PROFILE".padding(toLength: width, withPad: " ", startingAt: 0)) \("CONFIDENCE".padding(toLength: 10, withPad: " ", startingAt: 0)) SCHEME")
            for p in profiles.values.sorted(by: { $0.name < $1.name }) {
                let id = p.event.idSources.map(\.description).joined(separator: " | ")
                // The confidence says what the scheme was read in (sdk, docs, secondary): a secondary profile deserves
                // a test delivery before real traffic relies on it.
                let confidence = p.confidence.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)
                var line = "\(p.name.padding(toLength: width, withPad: " ", startingAt: 0)) \(confidence) \(p.schemeSummary); id: \(id.isEmpty ? "body sha256" : id + " (else body sha256)")"
                if !p.handshakes.isEmpty { line += "; handshake: \(p.handshakes.map(\.rawValue).joined(separator: ", "))" }
                if let ips = p.sourceIPs { line += "; source IPs: \(ips.ranges.count) as of \(ips.asOf)" }
                print(line)
            }
            let counts = ProfileConfidence.allCases.map { c in "\(profiles.values.filter { $0.confidence == c }.count) \(c.rawValue)" }
            print("\(profiles.count) profiles (\(counts.joined(separator: ", ")))")
        }
    }

    struct UpdateIPs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "update-ips", abstract: "Refresh a profile's published source IP ranges from the provider's machine-readable list.")
        @Argument(help: "Provider name, e.g. stripe or github.") var provider: String
        @Option(help: "Directory of provider profiles.") var dir: String = "providers"
        @Option(help: "Fetch from this URL instead of the profile's (e.g. a mirror).") var from: String?

        func run() async throws {
            let path = (dir as NSString).appendingPathComponent(provider + ".toml")
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw CLIError("no profile at \(path)") }
            let profile: ProviderProfile
            do { profile = try ProfileLoader.parse(text, file: path) } catch { throw CLIError(error.description) }
            guard let published = profile.sourceIPs, let format = published.format, let url = from ?? published.url else {
                throw CLIError("\(provider) publishes no machine-readable address list; edit [source_ips] in \(path) by hand")
            }
            let client = OutboundHTTP.makeClient()
            let body: ByteBuffer
            do {
                let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(20))
                guard response.status == .ok else { throw CLIError("\(url) answered \(response.status.code)") }
                body = try await response.body.collect(upTo: 4 << 20)
            } catch {
                try? await client.shutdown()
                throw CLIError("cannot fetch \(url): \(error)")
            }
            try? await client.shutdown()
            let ranges: [CIDR]
            do { ranges = try PublishedIPRanges.parse(Array(buffer: body), format: format) } catch { throw CLIError("\(url): \(error)") }
            let today = String(RFC3339.format(SystemClock().now()).prefix(10))
            let updated: String
            do { updated = try ProfileLoader.rewriteSourceIPs(text, ranges: ranges, asOf: today) } catch { throw CLIError(error.description) }
            do { _ = try ProfileLoader.parse(updated, file: path) } catch { throw CLIError("refusing to write an invalid profile: \(error)") }
            // The atomic write makes a new file (0600 under our umask): keep the profile's own mode, it is not a secret.
            let mode = (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions]
            try updated.write(toFile: path, atomically: true, encoding: .utf8)
            if let mode { try? FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path) }
            let before = Set(published.ranges.map(\.text)), after = Set(ranges.map(\.text))
            print("\(path): \(ranges.count) ranges as of \(today) (+\(after.subtracting(before).count) −\(before.subtracting(after).count))")
        }
    }
}
