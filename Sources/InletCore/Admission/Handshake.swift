import Crypto

/// A request a provider sends to check that the endpoint is really its receiver, answered by the gateway itself
/// and never stored or forwarded. Each kind is verified (signature or token) before it is answered.
public enum Handshake: String, Sendable, Equatable, CaseIterable {
    /// Slack: signed POST with JSON `type` = `url_verification` → `{"challenge":"…"}`.
    case slackURLVerification = "slack-url-verification"
    /// Discord: interactions PING (`type` 1, no `event`) → `{"type":1}`; webhook-events PING (`type` 0) → 204.
    case discordPing = "discord-ping"
    /// Zoom: `endpoint.url_validation` → `{"plainToken":"…","encryptedToken":hex(HMAC-SHA256(secret, plainToken))}`.
    case zoomURLValidation = "zoom-url-validation"
    /// Twitch EventSub: `Twitch-Eventsub-Message-Type: webhook_callback_verification` → the challenge, text/plain.
    case twitchCallbackVerification = "twitch-callback-verification"
    /// Meta: `GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…` → the challenge, when the token is the
    /// source's `verify_token`.
    case metaVerifyToken = "meta-verify-token"
    /// Okta event hooks: `GET` with `X-Okta-Verification-Challenge` → `{"verification":"…"}` (Authorization checked).
    case oktaVerification = "okta-verification"
    /// AWS SNS: a verified `SubscriptionConfirmation` is confirmed by a GET of its `SubscribeURL` (host checked),
    /// only when the source sets `sns_auto_confirm`; otherwise it is acknowledged and logged for an operator.
    case snsSubscriptionConfirmation = "sns-subscription-confirmation"

    /// Answered on GET, before any body or signature exists.
    public var isGET: Bool { self == .metaVerifyToken || self == .oktaVerification }
}

public struct HandshakeResponse: Sendable, Equatable {
    public var status: Int
    public var contentType: String?
    public var body: [UInt8]
    /// A URL the gateway must GET to complete the handshake (SNS subscription confirmation).
    public var followUpGET: String?

    public init(status: Int, contentType: String?, body: [UInt8], followUpGET: String? = nil) {
        self.status = status
        self.contentType = contentType
        self.body = body
        self.followUpGET = followUpGET
    }

    static func json(_ pairs: [(String, String)]) -> HandshakeResponse {
        var out: [UInt8] = [UInt8(ascii: "{")]
        for (n, (k, v)) in pairs.enumerated() {
            if n > 0 { out.append(UInt8(ascii: ",")) }
            JSONString.append(k, to: &out)
            out.append(UInt8(ascii: ":"))
            JSONString.append(v, to: &out)
        }
        out.append(UInt8(ascii: "}"))
        return HandshakeResponse(status: 200, contentType: "application/json", body: out)
    }
}

extension Handshake {
    /// The answer to a verified POST, or nil when the request is an ordinary event.
    func answer(verified request: IncomingRequest, key: VerificationKey, options: VerificationOptions) -> HandshakeResponse? {
        func json(_ p: String) -> String? { JSONScanner.scalarText(at: JSONPointer(p)!, in: request.body) }
        switch self {
        case .slackURLVerification:
            guard json("/type") == "url_verification", let challenge = json("/challenge") else { return nil }
            return .json([("challenge", challenge)])
        case .discordPing:
            // Webhook events: type 0 is the PING, type 1 an event (it has `event`). Interactions: type 1 is the PING.
            switch json("/type") {
            case "0": return HandshakeResponse(status: 204, contentType: nil, body: [])
            case "1" where (try? JSONScanner.find(JSONPointer("/event")!, in: request.body)) == nil:
                return HandshakeResponse(status: 200, contentType: "application/json", body: Array(#"{"type":1}"#.utf8))
            default: return nil
            }
        case .zoomURLValidation:
            guard json("/event") == "endpoint.url_validation", let plain = json("/payload/plainToken") else { return nil }
            let mac = HashFunction.sha256.mac(key: key.keyBytes, message: Array(plain.utf8))
            return .json([("plainToken", plain), ("encryptedToken", Hex.string(mac))])
        case .twitchCallbackVerification:
            guard request.headers.first("Twitch-Eventsub-Message-Type") == "webhook_callback_verification", let challenge = json("/challenge") else { return nil }
            return HandshakeResponse(status: 200, contentType: "text/plain", body: Array(challenge.utf8))
        case .snsSubscriptionConfirmation:
            let type = json("/Type")
            guard type == "SubscriptionConfirmation" || type == "UnsubscribeConfirmation" else { return nil }
            guard type == "SubscriptionConfirmation", options.snsAutoConfirm,
                  let url = json("/SubscribeURL") ?? json("/SubscribeUrl"), CertificateSchemes.isAllowedSNSURL(url, requirePEM: false)
            else {
                return .json([("status", "handshake"), ("confirmed", "false")])
            }
            var r = HandshakeResponse.json([("status", "handshake"), ("confirmed", "true")])
            r.followUpGET = url
            return r
        case .metaVerifyToken, .oktaVerification:
            return nil
        }
    }
}
