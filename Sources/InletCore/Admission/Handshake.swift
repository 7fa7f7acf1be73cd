import Crypto

/// A handshake whose answer is more than data can say, coded here. Every other handshake is declared in its profile
/// (`[[handshake]]`, `HandshakeRule`).
public enum Handshake: String, Sendable, Equatable, CaseIterable {
    /// AWS SNS: a verified `SubscriptionConfirmation` is confirmed by a GET of its `SubscribeURL` (host checked),
    /// only when the source sets `sns_auto_confirm`; otherwise it is acknowledged and logged for an operator.
    case snsSubscriptionConfirmation = "sns-subscription-confirmation"
}

public struct HandshakeResponse: Sendable, Equatable {
    public var status: Int
    public var contentType: String?
    public var body: [UInt8]
    /// A URL the gateway must GET to complete the handshake (SNS subscription confirmation).
    public var followUpGET: String?
    /// Response headers beside `Content-Type` (Asana's `X-Hook-Secret` echo, Event Grid's `WebHook-Allowed-Origin`).
    public var headers: [(String, String)] = []
    /// A secret the handshake hands over: the server stores it (when the source opts in) before it answers.
    public var establishedSecret: EstablishedSecret?

    public init(status: Int, contentType: String?, body: [UInt8], followUpGET: String? = nil) {
        self.status = status
        self.contentType = contentType
        self.body = body
        self.followUpGET = followUpGET
    }

    public static func == (a: HandshakeResponse, b: HandshakeResponse) -> Bool {
        a.status == b.status && a.contentType == b.contentType && a.body == b.body && a.followUpGET == b.followUpGET
            && a.headers.map { [$0.0, $0.1] } == b.headers.map { [$0.0, $0.1] } && a.establishedSecret == b.establishedSecret
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
    func answer(verified request: IncomingRequest, options: VerificationOptions) -> HandshakeResponse? {
        func json(_ p: String) -> String? { JSONScanner.scalarText(at: JSONPointer(p)!, in: request.body) }
        switch self {
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
        }
    }
}
