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

    /// Answered on GET, before any body or signature exists.
    public var isGET: Bool { self == .metaVerifyToken || self == .oktaVerification }
}

public struct HandshakeResponse: Sendable, Equatable {
    public var status: Int
    public var contentType: String?
    public var body: [UInt8]

    public init(status: Int, contentType: String?, body: [UInt8]) {
        self.status = status
        self.contentType = contentType
        self.body = body
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
    func answer(verified request: IncomingRequest, key: VerificationKey) -> HandshakeResponse? {
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
        case .metaVerifyToken, .oktaVerification:
            return nil
        }
    }
}
