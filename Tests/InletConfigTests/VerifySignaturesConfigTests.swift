import InletConfig
import InletCore
import InletTesting
import Testing

/// `verify_signatures = false`: a source that opts out of verification (its events record `unverified`).
@Suite("Sources that opt out of verification")
struct VerifySignaturesConfigTests {
    static let config = """
    providers_dir = "providers"

    [destinations.svc]
    url = "http://127.0.0.1:9000/hook"
    secrets = ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]

    [sources.plain]
    provider = "generic-hmac"
    verify_signatures = false
    destinations = ["svc"]
    """

    @Test func verifySignaturesFalseNeedsNoSecretAndRefusesOne() throws {
        let resolved = try GatewayConfig.parse(Self.config, file: "t.toml").resolve(environment: [:], profiles: Repo.profiles)
        #expect(resolved.sources[0].verifiesSignatures == false)
        let withSecret = try GatewayConfig.parse(Self.config + "\nsecrets = [\"x\"]\n", file: "t.toml")
        let error = #expect(throws: ConfigError.self) { try withSecret.resolve(environment: [:], profiles: Repo.profiles) }
        #expect(error?.key == "sources.plain.secrets")
        // The default verifies, and needs a secret.
        let defaulted = try GatewayConfig.parse(Self.config.replacingOccurrences(of: "verify_signatures = false\n", with: ""), file: "t.toml")
        #expect(throws: ConfigError.self) { try defaulted.resolve(environment: [:], profiles: Repo.profiles) }
    }
}
