import InletConfig
import InletServer

/// The destination secret every test gateway signs with (Standard Webhooks, `whsec_` + base64).
public let destinationSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
/// The Stripe source's signing secret in test configs.
public let stripeSecret = "whsec_test_secret"

public let stripeSource = """
[sources.stripe]
provider = "stripe"
secrets = ["\(stripeSecret)"]
destinations = ["svc"]
"""

public func destinationTOML(_ name: String, url: String, _ extra: String = "") -> String {
    // Quick retries for tests, unless `extra` sets its own.
    let defaults = ["timeout_seconds = 5", "initial_backoff_ms = 20", "max_backoff_ms = 100"]
        .filter { d in !extra.contains(d.split(separator: " ")[0] + " =") }
    return """
    [destinations.\(name)]
    url = "\(url)"
    secrets = ["\(destinationSecret)"]
    \(defaults.joined(separator: "\n"))
    \(extra)

    """
}

/// An admin listener on a free loopback port whose token is `t0k`.
public let adminSection = """
    [admin]
    listen = "127.0.0.1:0"
    tokens = ["t0k"]

    """

/// The config a gateway would run with, resolved from these TOML sections (no environment; the shipped profiles).
/// For tests of code that reads a snapshot without a running gateway.
public func resolvedSnapshot(_ sections: String) throws -> ConfigSnapshot {
    let toml = "providers_dir = \"\(Repo.root)/providers\"\n" + sections
    return ConfigSnapshot(try GatewayConfig.parse(toml, file: "/tmp/inlet-test.toml").resolve(environment: [:]))
}
