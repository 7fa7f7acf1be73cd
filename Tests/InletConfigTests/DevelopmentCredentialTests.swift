import Foundation
import InletConfig
import InletCore
import Testing

/// The default config's admin token and secrets are published: usable on this machine (with a warning), refused as
/// soon as something they guard is reachable from elsewhere.
@Suite("Development credentials")
struct DevelopmentCredentialTests {
    static let defaultConfig = Repo.root + "/config/inlet.toml"

    /// The default config with `replacements` applied, written beside a copy of nothing else (providers by absolute path).
    static func variant(_ replacements: [(String, String)]) throws -> String {
        var text = try String(contentsOfFile: defaultConfig, encoding: .utf8)
        text = text.replacingOccurrences(of: #"providers_dir = "../providers""#, with: #"providers_dir = "\#(Repo.root)/providers""#)
        for (a, b) in replacements {
            #expect(text.contains(a), "the default config no longer has \(a)")
            text = text.replacingOccurrences(of: a, with: b)
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("inlet-devcred-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = dir.appendingPathComponent("inlet.toml").path
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    static func resolve(_ file: String, environment: [String: String] = [:]) throws -> ResolvedConfig {
        try GatewayConfig.load(file: file).resolve(environment: environment, profiles: Repo.profiles)
    }

    /// Refused, naming the key that holds the published value.
    static func expectRefused(_ file: String, key: String, environment: [String: String] = [:]) {
        do {
            _ = try resolve(file, environment: environment)
            Issue.record("a published development credential guards a non-loopback listener, and the config was accepted")
        } catch let error as ConfigError {
            #expect(error.key == key && error.message.contains("refusing to start"), "\(error)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func theDefaultConfigRunsOnLoopbackAndSaysWhatIsPublished() throws {
        let resolved = try Self.resolve(try Self.variant([]))
        let uses = resolved.developmentCredentials
        #expect(Set(uses.map { $0.keyPath.joined(separator: ".") }) == ["admin.tokens", "sink.secrets", "destinations.log-sink.secrets", "sources.demo.secrets"])
        #expect(uses.allSatisfy { $0.loopbackOnly })
    }

    @Test func aPublishedCredentialOnAnExposedListenerIsRefused() throws {
        Self.expectRefused(try Self.variant([(#"listen = "127.0.0.1:8080""#, #"listen = "0.0.0.0:8080""#)]), key: "sources.demo.secrets")
        Self.expectRefused(try Self.variant([(#"listen = "127.0.0.1:9190""#, #"listen = "[::]:9190""#)]), key: "admin.tokens")
        Self.expectRefused(try Self.variant([(#"listen = "127.0.0.1:8091""#, #"listen = "10.1.2.3:8091""#)]), key: "sink.secrets")
        Self.expectRefused(try Self.variant([(#"url = "http://127.0.0.1:8091/events""#, #"url = "https://hooks.example.com/events""#)]),
                           key: "destinations.log-sink.secrets")
        // The same value through the environment is just as published.
        Self.expectRefused(try Self.variant([(#"listen = "127.0.0.1:9190""#, #"listen = "0.0.0.0:9190""#),
                                             (#"tokens = ["dev-admin-token"]"#, #"tokens = ["env:ADMIN_TOKEN"]"#)]),
                           key: "admin.tokens", environment: ["ADMIN_TOKEN": "dev-admin-token"])
    }

    @Test func ownCredentialsMayListenAnywhere() throws {
        let file = try Self.variant([(#"listen = "127.0.0.1:9190""#, #"listen = "0.0.0.0:9190""#),
                                     (#"tokens = ["dev-admin-token"]"#, #"tokens = ["env:ADMIN_TOKEN"]"#)])
        let resolved = try Self.resolve(file, environment: ["ADMIN_TOKEN": "a-token-of-our-own-7Qx2"])
        #expect(!resolved.developmentCredentials.contains { $0.keyPath == ["admin", "tokens"] })
    }

    /// Every literal credential in the default config is on the known list, so the list cannot fall behind the file.
    @Test func theKnownListCoversTheDefaultConfig() throws {
        let config = try GatewayConfig.load(file: Self.defaultConfig)
        var refs = (config.admin?.tokens ?? []) + (config.sink?.secrets ?? [])
        refs += config.destinations.values.flatMap(\.secrets) + config.sources.flatMap(\.secrets)
        let literals = refs.map(\.reference).filter { !$0.hasPrefix("env:") && !$0.hasPrefix("file:") }
        #expect(!literals.isEmpty)
        for value in literals { #expect(DevelopmentCredentials.origin(of: value) != nil, "\(value) is not on the known list") }
        // A whsec_ secret decodes the same without its prefix or padding.
        #expect(DevelopmentCredentials.origin(of: "ZGV2ZWxvcG1lbnQtb25seS1zaW5rLXNlY3JldCEhIQ") != nil)
        #expect(DevelopmentCredentials.isLoopback(host: "127.0.0.1") && DevelopmentCredentials.isLoopback(host: "::1")
                && DevelopmentCredentials.isLoopback(host: "localhost") && DevelopmentCredentials.isLoopback(host: "127.8.0.1"))
        #expect(!DevelopmentCredentials.isLoopback(host: "0.0.0.0") && !DevelopmentCredentials.isLoopback(host: "::")
                && !DevelopmentCredentials.isLoopback(host: "example.com"))
    }
}
