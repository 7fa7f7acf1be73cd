import Foundation
import InletConfig
import InletCore

/// Test profiles for the catalog's handshakes whose providers have no shipped profile yet (Braintree needs a signature
/// scheme Inlet does not have): its handshake as declared data (`[[handshake]]`) and a plain HMAC standing in for its
/// signature. Every other declared handshake (eBay's included) is tested on its shipped profile.
public enum HandshakeTestProfiles {
    public static let toml: [String: String] = [
        // Braintree: GET ?bt_challenge=C → "<public key>|<hex HMAC-SHA1(SHA1(private key), C)>"; the source's secret is
        // the hex SHA-1 of the private key here, its verify_token the public key.
        "test-braintree": """
        name = "test-braintree"
        confidence = "sdk"
        reference = "braintree-python 4.48.0 braintree/webhook_notification_gateway.py verify"
        secret_encoding = "hex"
        [[signature]]
        headers = ["X-Test-Braintree-Signature"]
        algorithm = "hmac-sha1"
        [[handshake]]
        name = "braintree-bt-challenge"
        method = "GET"
        when = ["query:bt_challenge"]
        verify = "none"
        content_type = "text/plain"
        body = "{verify_token}|{hmac-sha1-hex({query:bt_challenge})}"
        """,
    ]

    /// Every test profile, parsed.
    public static func profiles() throws -> [String: ProviderProfile] {
        var out: [String: ProviderProfile] = [:]
        for (name, text) in toml { out[name] = try ProfileLoader.parse(text, file: name + ".toml") }
        return out
    }

    /// A providers directory with the shipped profiles and these: for gateways started in tests.
    public static func providersDirectory() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("inlet-providers-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let shipped = Repo.root + "/providers"
        for file in try FileManager.default.contentsOfDirectory(atPath: shipped) where file.hasSuffix(".toml") {
            try FileManager.default.copyItem(atPath: shipped + "/" + file, toPath: dir + "/" + file)
        }
        for (name, text) in toml { try text.write(toFile: dir + "/" + name + ".toml", atomically: true, encoding: .utf8) }
        return dir
    }
}
