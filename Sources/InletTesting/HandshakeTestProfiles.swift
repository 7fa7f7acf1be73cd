import Foundation
import InletConfig
import InletCore

/// Test profiles for the catalog's handshakes whose providers have no shipped profile yet (eBay and Braintree need
/// signature schemes Inlet does not have): each has the provider's handshake as declared data (`[[handshake]]`) and a
/// plain HMAC standing in for its signature. Every other declared handshake is tested on its shipped profile.
public enum HandshakeTestProfiles {
    public static let toml: [String: String] = [
        // eBay: GET ?challenge_code=C → {"challengeResponse": hex SHA-256(C + verification token + endpoint URL)}.
        "test-ebay": """
        name = "test-ebay"
        confidence = "sdk"
        reference = "eBay/event-notification-nodejs-sdk@feaf337 lib/index.js"
        [[signature]]
        headers = ["x-ebay-signature"]
        algorithm = "hmac-sha256"
        [[handshake]]
        name = "ebay-challenge-code"
        method = "GET"
        when = ["query:challenge_code"]
        verify = "none"
        json = [["challengeResponse", "{sha256-hex({query:challenge_code}{verify_token}{public_url})}"]]
        """,
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
