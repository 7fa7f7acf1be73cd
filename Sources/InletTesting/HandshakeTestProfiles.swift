import Foundation
import InletConfig
import InletCore

/// Minimal profiles for the catalog's handshakes (shared/providers-more.md), named `test-<provider>`: each has the
/// provider's handshake as declared data (`[[handshake]]`) and a plain HMAC or token scheme standing in for its
/// signature, so the handshakes are tested here while the providers' own profiles are written elsewhere. The
/// `[[handshake]]` blocks are what those profiles carry.
public enum HandshakeTestProfiles {
    public static let toml: [String: String] = [
        // Dropbox: GET ?challenge=X → X as text/plain (dropbox/mdwebhook@1b32d5a app.py).
        "test-dropbox": """
        name = "test-dropbox"
        confidence = "sdk"
        reference = "dropbox/mdwebhook@1b32d5a app.py"
        [[signature]]
        headers = ["X-Dropbox-Signature"]
        algorithm = "hmac-sha256"
        [[handshake]]
        name = "dropbox-challenge"
        method = "GET"
        when = ["query:challenge"]
        verify = "none"
        content_type = "text/plain"
        headers = [["X-Content-Type-Options", "nosniff"]]
        body = "{query:challenge}"
        """,
        // Asana: the first POST carries X-Hook-Secret; the answer echoes it, and it is the secret from then on.
        "test-asana": """
        name = "test-asana"
        confidence = "docs"
        reference = "developers.asana.com/docs/webhooks-guide"
        [[signature]]
        headers = ["X-Hook-Signature"]
        algorithm = "hmac-sha256"
        [[handshake]]
        name = "asana-hook-secret"
        when = ["header:X-Hook-Secret"]
        verify = "none"
        headers = [["X-Hook-Secret", "{header:X-Hook-Secret}"]]
        establishes_secret = "header:X-Hook-Secret"
        json = [["status", "handshake"]]
        """,
        // X (Twitter) Account Activity CRC: GET ?crc_token=T → {"response_token":"sha256=" + base64 HMAC-SHA256(secret, T)}.
        "test-x": """
        name = "test-x"
        confidence = "secondary"
        reference = "xdevplatform/account-activity-dashboard@565c0a5 helpers/security.js"
        [[signature]]
        headers = ["X-Twitter-Webhooks-Signature"]
        prefix = "sha256="
        algorithm = "hmac-sha256"
        encoding = "base64"
        [[handshake]]
        name = "x-crc"
        method = "GET"
        when = ["query:crc_token"]
        verify = "none"
        json = [["response_token", "sha256={hmac-sha256-base64({query:crc_token})}"]]
        """,
        // LinkedIn: GET ?challengeCode=C → {"challengeCode":C,"challengeResponse":hex HMAC-SHA256(secret, C)}.
        "test-linkedin": """
        name = "test-linkedin"
        confidence = "secondary"
        reference = "public receivers quoting LinkedIn's docs"
        [[signature]]
        headers = ["X-LI-Signature"]
        prefix = "hmacsha256="
        algorithm = "hmac-sha256"
        [[handshake]]
        name = "linkedin-challenge"
        method = "GET"
        when = ["query:challengeCode"]
        verify = "none"
        json = [["challengeCode", "{query:challengeCode}"], ["challengeResponse", "{hmac-sha256-hex({query:challengeCode})}"]]
        """,
        // Oura: GET ?verification_token=…&challenge=C → {"challenge":C} when the token is the source's verify_token.
        "test-oura": """
        name = "test-oura"
        confidence = "secondary"
        reference = "public receivers"
        [[signature]]
        headers = ["x-oura-signature"]
        algorithm = "hmac-sha256"
        [[handshake]]
        name = "oura-challenge"
        method = "GET"
        when = ["query:challenge"]
        verify = "verify_token"
        verify_token_from = "query:verification_token"
        json = [["challenge", "{query:challenge}"]]
        """,
        // Smartcar: a VERIFY event (v4 `eventType`/`data`, v2 `eventName`/`payload`) → {"challenge": hex HMAC-SHA256(management
        // token, challenge)} (smartcar.com/docs/integrations/webhooks/callback-verification; smartcar-python hash_challenge).
        "test-smartcar": """
        name = "test-smartcar"
        confidence = "sdk"
        reference = "smartcar-python smartcar/smartcar.py hash_challenge"
        [[signature]]
        headers = ["SC-Signature"]
        algorithm = "hmac-sha256"
        [[handshake]]
        name = "smartcar-verify"
        when = ["json:/data/challenge"]
        when_equals = [["json:/eventType", "VERIFY"]]
        verify = "none"
        json = [["challenge", "{hmac-sha256-hex({json:/data/challenge})}"]]
        [[handshake]]
        name = "smartcar-verify-v2"
        when = ["json:/payload/challenge"]
        when_equals = [["json:/eventName", "verify"]]
        verify = "none"
        json = [["challenge", "{hmac-sha256-hex({json:/payload/challenge})}"]]
        """,
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
        // Notion: the first POST carries {"verification_token": …}, the secret the events are signed with.
        "test-notion": """
        name = "test-notion"
        confidence = "secondary"
        reference = "developers.notion.com/reference/v2-webhooks"
        [[signature]]
        headers = ["X-Notion-Signature"]
        prefix = "sha256="
        algorithm = "hmac-sha256"
        [[handshake]]
        name = "notion-verification-token"
        when = ["json:/verification_token"]
        verify = "none"
        establishes_secret = "json:/verification_token"
        json = [["status", "handshake"]]
        """,
        // Trello: a HEAD when the webhook is created must get 200.
        "test-trello": """
        name = "test-trello"
        confidence = "docs"
        reference = "developer.atlassian.com/cloud/trello/guides/rest-api/webhooks"
        [[signature]]
        headers = ["X-Trello-Webhook"]
        algorithm = "hmac-sha1"
        encoding = "base64"
        [[handshake]]
        name = "trello-head"
        method = "HEAD"
        verify = "none"
        """,
        // WooCommerce: the creation ping is an unsigned form post `webhook_id=N` that must get 200.
        "test-woocommerce": """
        name = "test-woocommerce"
        confidence = "sdk"
        reference = "woocommerce/woocommerce@00e1bc4 includes/class-wc-webhook.php"
        [[signature]]
        headers = ["X-WC-Webhook-Signature"]
        algorithm = "hmac-sha256"
        encoding = "base64"
        [[handshake]]
        name = "woocommerce-ping"
        when = ["form:webhook_id"]
        when_absent = ["header:X-WC-Webhook-Signature"]
        verify = "none"
        json = [["status", "handshake"]]
        """,
        // Vercel log drains: the endpoint answers with x-vercel-verify: <the drain's verify code>.
        "test-vercel-log-drains": """
        name = "test-vercel-log-drains"
        confidence = "secondary"
        reference = "public receivers"
        [[signature]]
        headers = ["x-vercel-signature"]
        algorithm = "hmac-sha1"
        [[handshake]]
        name = "vercel-verify"
        method = "GET"
        verify = "none"
        headers = [["x-vercel-verify", "{verify_token}"]]
        json = [["status", "handshake"]]
        """,
        // Microsoft Graph: POST ?validationToken=T → 200 text/plain T (within 10 s); events carry clientState.
        "test-microsoft-graph": """
        name = "test-microsoft-graph"
        confidence = "docs"
        reference = "learn.microsoft.com/graph/change-notifications-delivery-webhooks"
        [[signature]]
        from = ["json:/value/0/clientState"]
        algorithm = "token"
        [[handshake]]
        name = "graph-validation-token"
        when = ["query:validationToken"]
        verify = "none"
        content_type = "text/plain"
        headers = [["X-Content-Type-Options", "nosniff"]]
        body = "{query:validationToken}"
        """,
        // Azure Event Grid: the validation event (Event Grid schema) and the CloudEvents OPTIONS abuse-protection check.
        "test-azure-event-grid": """
        name = "test-azure-event-grid"
        confidence = "docs"
        reference = "learn.microsoft.com/azure/event-grid/webhook-event-delivery"
        [[signature]]
        from = ["query:code"]
        algorithm = "token"
        [[handshake]]
        name = "event-grid-subscription-validation"
        when = ["json:/0/data/validationCode"]
        when_equals = [["header:aeg-event-type", "SubscriptionValidation"]]
        json = [["validationResponse", "{json:/0/data/validationCode}"]]
        [[handshake]]
        name = "cloudevents-webhook-validation"
        method = "OPTIONS"
        when = ["header:WebHook-Request-Origin"]
        verify = "none"
        headers = [["WebHook-Allowed-Origin", "{header:WebHook-Request-Origin}"], ["WebHook-Allowed-Rate", "*"]]
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
