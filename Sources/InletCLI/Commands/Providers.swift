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
        subcommands: [List.self, Test.self, Table.self, UpdateIPs.self, Explain.self], defaultSubcommand: List.self)

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
                let handshakes = p.handshakes.map(\.rawValue) + p.handshakeRules.map(\.name)
                if !handshakes.isEmpty { line += "; handshake: \(handshakes.joined(separator: ", "))" }
                if let ips = p.sourceIPs { line += "; source IPs: \(ips.summary)" }
                print(line)
            }
            let counts = ProfileConfidence.allCases.map { c in "\(profiles.values.filter { $0.confidence == c }.count) \(c.rawValue)" }
            print("\(profiles.count) profiles (\(counts.joined(separator: ", ")))")
        }
    }

    /// Runs a profile's shipped known-answer cases (`providers/fixtures/*.json`) through the real admission path, so
    /// an operator can prove a profile before pointing traffic at it. Prints one line per case; no secret is printed.
    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "test", abstract: "Run a profile's shipped known-answer fixtures through the verifier; print pass/fail per case.")
        @Argument(help: "Provider name, e.g. stripe.") var provider: String
        @Option(help: "Directory of provider profiles.") var dir: String = "providers"
        @Option(help: "Directory of known-answer fixtures (default: <dir>/fixtures).") var fixtures: String?

        /// The report lines and the number of failed cases.
        func report() throws -> (lines: [String], failed: Int) {
            let profiles: [String: ProviderProfile]
            do { profiles = try ProfileLoader.loadDirectory(dir) } catch { throw CLIError(error.description) }
            guard let profile = profiles[provider] else { throw CLIError("no profile named '\(provider)' in \(dir)") }
            let directory = fixtures ?? KnownAnswers.directory(forProviders: dir)
            let cases: [KnownAnswerCase]
            do { cases = try KnownAnswers.load(directory: directory).filter { $0.provider == provider } } catch { throw CLIError(error.description) }
            guard !cases.isEmpty else { throw CLIError("\(provider) ships no known-answer fixtures in \(directory)") }
            var lines: [String] = []
            var failed = 0
            for c in cases {
                let outcome = KnownAnswers.run(c, profile: profile)
                if !outcome.passed { failed += 1 }
                let why = outcome.problem.map { " (\($0))" } ?? ""
                lines.append("\(outcome.passed ? "PASS" : "FAIL") \(c.case): expected \(c.expected), got \(outcome.answer)\(why)")
            }
            let origins = Set(cases.compactMap(\.sdk)).sorted()
            lines.append("\(provider) (\(profile.confidence.rawValue)): \(cases.count - failed) passed, \(failed) failed; fixtures made with \(origins.joined(separator: "; "))")
            return (lines, failed)
        }

        func run() async throws {
            let (lines, failed) = try report()
            for line in lines { print(line) }
            if failed > 0 { throw ExitCode.failure }
        }
    }

    /// The README's providers table, made from the profiles; `--readme` rewrites the table in that file in place.
    struct Table: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "table", abstract: "Print the providers table (Markdown) made from the profiles.")
        @Option(help: "Directory of provider profiles.") var dir: String = "providers"
        @Option(help: "Rewrite the providers table in this Markdown file (the README) instead of printing it.") var readme: String?

        func run() async throws {
            let profiles: [String: ProviderProfile]
            do { profiles = try ProfileLoader.loadDirectory(dir) } catch { throw CLIError(error.description) }
            let table = ProviderTable.markdown(profiles)
            guard let readme else { print(table); return }
            guard let text = try? String(contentsOfFile: readme, encoding: .utf8) else { throw CLIError("cannot read \(readme)") }
            guard let updated = ProviderTable.replacing(in: text, with: table) else { throw CLIError("\(readme) has no providers table (its header row)") }
            try updated.write(toFile: readme, atomically: true, encoding: .utf8)
            print("\(readme): \(profiles.count) profiles")
        }
    }

    struct UpdateIPs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "update-ips", abstract: "Refresh a profile's published source IP ranges from the provider's machine-readable list.")
        @Argument(help: "Provider name, e.g. stripe or github.") var provider: String
        @Option(help: "Directory of provider profiles.") var dir: String = "providers"
        @Option(help: "Fetch from this URL instead of the profile's (e.g. a mirror); repeat for a list published in parts.") var from: [String] = []

        func run() async throws {
            let path = (dir as NSString).appendingPathComponent(provider + ".toml")
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw CLIError("no profile at \(path)") }
            let profile: ProviderProfile
            do { profile = try ProfileLoader.parse(text, file: path) } catch { throw CLIError(error.description) }
            let urls = from.isEmpty ? profile.sourceIPs?.urls ?? [] : from
            guard let published = profile.sourceIPs, let format = published.format, !urls.isEmpty else {
                throw CLIError("\(provider) publishes no machine-readable address list; edit [source_ips] in \(path) by hand")
            }
            // The provider's list is the union of its parts (regions, environments); any part that fails to fetch or
            // parse fails the whole update, so a partial list never replaces a complete one.
            var parts: [[CIDR]] = []
            let client = OutboundHTTP.makeClient()
            do {
                for url in urls {
                    let body: ByteBuffer
                    do {
                        let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(20))
                        guard response.status == .ok else { throw CLIError("\(url) answered \(response.status.code)") }
                        body = try await response.body.collect(upTo: 4 << 20)
                    } catch let error as CLIError { throw error } catch { throw CLIError("cannot fetch \(url): \(error)") }
                    do { parts.append(try PublishedIPRanges.parse(Array(buffer: body), format: format, pointer: published.pointer)) } catch { throw CLIError("\(url): \(error)") }
                }
            } catch {
                try? await client.shutdown()
                throw error
            }
            try? await client.shutdown()
            let ranges = PublishedIPRanges.union(parts)
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

    struct Explain: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "explain",
            abstract: "Say why a quarantined request did not verify: which layer fails, found by trying the documented variants.",
            discussion: """
                inlet providers explain 42                 (the quarantine entry's ID: inlet quarantine list)
                Runs the source's real verification on the stored request, and on copies changed one layer at a time:
                the timestamp tolerance and unit, each secret decoded other ways (UTF-8, base64, hex, prefix, whitespace),
                the signature's own encoding (hex case, base64url), the body as a proxy may have changed it (trailing
                newline, CRLF, re-serialized JSON) and the public URL. Secrets come from the local config (-c); no
                secret or signature is printed.
                """)
        @OptionGroup var access: AdminAccess
        @Argument(help: "The quarantine entry's ID.") var id: Int64

        func run() async throws {
            let entry = try await access.call(.GET, "/v1/quarantine/\(id)").decode(AdminAPI.QuarantineDetail.self)
            let config = try access.options.load()
            let resolved = try access.options.resolve()
            guard let source = resolved.sources.first(where: { $0.name == entry.source }),
                  let configured = config.sources.first(where: { $0.name == entry.source }) else {
                throw CLIError("source '\(entry.source)' is not in \(access.options.config): explain runs the local config's verification")
            }
            guard let body = Base64.decode(entry.bodyBase64) else { throw CLIError("the admin API's answer has no body for \(id)") }
            let environment = ProcessInfo.processInfo.environment
            let secrets = configured.secrets.compactMap { reference -> VerificationDiagnostics.Secret? in
                guard case .success(let text) = reference.resolve(environment: environment, baseDirectory: config.baseDirectory) else { return nil }
                return VerificationDiagnostics.Secret(label: reference.label, text: text)
            }
            let request = IncomingRequest(method: entry.method, path: entry.path, query: entry.query,
                                          headers: HTTPHeaderList(entry.headers.filter { $0.count == 2 }.map { ($0[0], $0[1]) }), body: body,
                                          peer: entry.peer.flatMap { IPAddress($0) }, receivedAt: RFC3339.parse(entry.receivedAt) ?? 0)
            let diagnosis = VerificationDiagnostics.explain(request, source: source, secrets: secrets, now: SystemClock().now())
            if access.json {
                let object: [String: Any] = ["id": id, "source": entry.source, "refused_as": entry.reason, "outcome_now": diagnosis.outcomeNow,
                                             "layer": diagnosis.layer.rawValue, "finding": diagnosis.finding, "tried": diagnosis.tried]
                print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
                return
            }
            print("quarantine \(id): source \(entry.source) (\(entry.provider)), refused as \(entry.reason) at \(entry.receivedAt)")
            print("today: \(diagnosis.outcomeNow)")
            print("layer: \(diagnosis.layer.rawValue)")
            print(diagnosis.finding)
            if !diagnosis.tried.isEmpty { print("tried: \(diagnosis.tried.joined(separator: "; "))") }
        }
    }
}
