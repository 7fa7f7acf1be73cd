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

struct Secrets: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Generate secrets and the config entries for rotating them.", subcommands: [Generate.self, Rotate.self])

    /// A new random secret in the format `profile` expects (`whsec_` + base64 for Standard Webhooks style).
    static func generate(for profile: ProviderProfile?, bytes: Int) -> String {
        var g = SystemRandomNumberGenerator()
        let raw = (0..<bytes).map { _ in UInt8.random(in: 0...255, using: &g) }
        switch profile?.secretEncoding ?? .base64(stripPrefix: "whsec_") {
        case .base64(let prefix): return prefix + Base64.encode(raw)
        case .hex: return Hex.string(raw)
        case .utf8, .pem, .keyPair: return Base64.encode(raw).replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        }
    }

    struct Generate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a strong random secret (default: whsec_<base64>, for destinations and Standard Webhooks).")
        @Option(help: "Format the secret as this provider expects.") var provider: String?
        @Option(help: "Providers directory.") var dir: String = "providers"
        @Option(help: "Random bytes in the secret.") var bytes: Int = 32

        func run() async throws {
            guard (24...64).contains(bytes) else { throw CLIError("--bytes must be 24…64") }
            var profile: ProviderProfile?
            if let provider {
                do { profile = try ProfileLoader.loadDirectory(dir)[provider] } catch { throw CLIError(error.description) }
                guard let p = profile else { throw CLIError("no profile '\(provider)'") }
                if p.signatures.first.map({ $0.algorithm.usesPublicKey || $0.algorithm.usesSigningCertificate }) == true {
                    throw CLIError("\(provider) verifies with the provider's key: there is no shared secret to generate")
                }
            }
            print(Secrets.generate(for: profile, bytes: bytes))
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the secrets entry for a rotation with an overlap window.")
        @OptionGroup var options: ConfigOption
        @Option(help: "Rotate a source's secret (the provider issues the new one).") var source: String?
        @Option(help: "Rotate a destination's signing secret (generated here).") var destination: String?
        @Option(help: "Days both secrets stay valid.") var overlapDays: Int = 7

        func run() async throws {
            guard (1...3650).contains(overlapDays) else { throw CLIError("--overlap-days must be 1…3650") }
            let config = try options.load()
            let now = SystemClock().now() / 1000 * 1000  // whole seconds: the printed times are for people
            let retireAt = RFC3339.format(now + Int64(overlapDays) * 86_400_000).replacingOccurrences(of: ".000Z", with: "Z")
            let label = String(RFC3339.format(now).prefix(10))
            let refs: [SecretReference]
            let owner: String
            var newValue: String?
            if let source {
                guard let s = config.sources.first(where: { $0.name == source }) else { throw CLIError("no source '\(source)'") }
                refs = s.secrets; owner = "sources.\(source)"
            } else if let destination {
                guard let d = config.destinations[destination] else { throw CLIError("no destination '\(destination)'") }
                refs = d.secrets; owner = "destinations.\(destination)"
                newValue = Secrets.generate(for: nil, bytes: 32)
            } else {
                throw CLIError("name --source or --destination")
            }
            let env = "INLET_" + owner.uppercased().replacingOccurrences(of: ".", with: "_").replacingOccurrences(of: "-", with: "_") + "_" + label.replacingOccurrences(of: "-", with: "")
            print("# In [\(owner)]: the new secret verifies from now; the old ones keep working until \(retireAt).")
            print("secrets = [")
            print("  { label = \"\(label)\", value = \"env:\(env)\" },")
            for r in refs {
                let expiry = r.expiresAt.map { min($0, now + Int64(overlapDays) * 86_400_000) }.map { RFC3339.format($0).replacingOccurrences(of: ".000Z", with: "Z") } ?? retireAt
                print("  { label = \"\(r.label)\", value = \"\(SecretReference.isIndirect(r.reference) ? r.reference : "<the current secret>")\", expires_at = \(expiry) },")
            }
            print("]")
            if let newValue {
                print("# Set before reloading, and give the same secret to the service behind the destination:")
                print("export \(env)='\(newValue)'")
            } else {
                print("# Set \(env) to the new secret the provider shows you, then switch the provider to it.")
            }
        }
    }
}
