import Crypto
import Foundation
import InletConfig
import InletCore
import InletTesting
import Testing

/// `authenticity` on admitted events: derived from what verified the request, through the shipped profiles.
@Suite("Authenticity of admitted events")
struct AuthenticityTests {
    func source(_ provider: String, secrets: [String], publicURL: String? = nil) throws -> ResolvedSource {
        let profile = try #require(Repo.profiles[provider])
        let keys = try secrets.enumerated().map { n, s in try #require(profile.makeKey(label: "k\(n)", secret: s)) }
        return ResolvedSource(name: provider, path: "/hooks/\(provider)", profile: profile, keys: keys,
                              verification: VerificationOptions(publicURL: publicURL), destinations: ["svc"])
    }

    func admitted(_ decision: AdmissionDecision) throws -> AdmittedEvent {
        guard case .admit(let a) = decision else { throw Refused(decision: "\(decision)") }
        return a
    }
    struct Refused: Error { let decision: String }

    /// A request signed as the profile's provider signs (its first variant), at time 1767225600.
    func signed(_ provider: String, secret: String, body: String) throws -> IncomingRequest {
        let profile = try #require(Repo.profiles[provider])
        let key = try #require(profile.makeKey(label: "k", secret: secret)).keyBytes
        let headers = profile.sign(body: Array(body.utf8), key: key, timestampSeconds: 1_767_225_600, id: "msg_1")
        return IncomingRequest(method: "POST", path: "/", headers: HTTPHeaderList(headers), body: Array(body.utf8), peer: nil,
                               receivedAt: 1_767_225_600_000)
    }

    @Test(arguments: ["stripe", "github", "standard-webhooks", "shopify", "slack"])
    func anHMACOverTheBodyIsBodySigned(_ provider: String) throws {
        let secret = provider == "standard-webhooks" ? "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" : "s3cret"
        let src = try source(provider, secrets: [secret])
        let a = try admitted(src.admit(try signed(provider, secret: secret, body: #"{"id":"e1","type":"t"}"#), now: 1_767_225_600_000))
        #expect(a.authenticity == .bodySigned)
        #expect(a.secretLabel == "k0")
    }

    @Test func aSharedTokenAuthenticatesTheSenderOnly() throws {
        let src = try source("gitlab", secrets: ["tok3n"])
        let a = try admitted(src.admit(makeRequest(headers: ["X-Gitlab-Token": "tok3n", "X-Gitlab-Event": "Push Hook"], body: "{}"), now: 0))
        #expect(a.authenticity == .senderAuthenticated)
    }

    /// Signatures that do not cover the body's bytes: Mailgun signs a timestamp and token inside the body, Twilio's
    /// form signature concatenates pairs, SNS signs canonical fields, PayPal a CRC-32.
    @Test func signaturesOverOtherFieldsDoNotBindTheBody() throws {
        func spec(_ p: String) throws -> SignatureSpec { try #require(Repo.profiles[p]?.signatures.first) }
        let form = makeRequest(headers: ["Content-Type": "application/x-www-form-urlencoded"], body: "a=1")
        #expect(try spec("mailgun").bindsBody(of: form) == false)
        #expect(try spec("twilio").bindsBody(of: form) == false)
        #expect(try spec("twilio").bindsBody(of: makeRequest(headers: [:], body: "{}", query: "bodySHA256=abc")) == true)
        #expect(try spec("aws-sns").bindsBody(of: form) == false)
        #expect(try spec("paypal").bindsBody(of: form) == false)
        #expect(try spec("gitlab").bindsBody(of: form) == false)
        #expect(try spec("stripe").bindsBody(of: form) == true)
        #expect(try spec("discord").bindsBody(of: form) == true)
        // A keyed plain hash (Recharge's sha256(secret ‖ body)) can be extended past a genuine body without the secret;
        // Adyen's per-item signatures cover listed fields; Moov and Mercado Pago sign headers and IDs, not the body.
        #expect(try spec("recharge").bindsBody(of: form) == false)
        #expect(try #require(Repo.profiles["adyen"]?.signatures.last).bindsBody(of: form) == false)
        #expect(try spec("moov").bindsBody(of: form) == false)
        #expect(try spec("mercadopago").bindsBody(of: form) == false)
        #expect(try spec("sanity").bindsBody(of: form) == true)

        // Mailgun end to end: verified, yet only the sender is authenticated.
        let ts = "1767225600", token = "tok"
        let mac = Hex.string(HMAC<SHA256>.authenticationCode(for: Array((ts + token).utf8), using: SymmetricKey(data: Array("mg-key".utf8))))
        let body = #"{"signature":{"timestamp":"\#(ts)","token":"\#(token)","signature":"\#(mac)"},"event-data":{"id":"x","event":"delivered"}}"#
        let a = try admitted(try source("mailgun", secrets: ["mg-key"]).admit(makeRequest(headers: [:], body: body, receivedAt: 1_767_225_600_000),
                                                                             now: 1_767_225_600_000))
        #expect(a.authenticity == .senderAuthenticated)
    }

    /// JWT fixtures: a checked body-hash claim binds the body (QStash, MessageBird, FusionAuth); Google Pub/Sub's
    /// OIDC token does not.
    @Test func aJWTBindsTheBodyOnlyWhenItsBodyHashWasChecked() throws {
        var seen: Set<String> = []
        for f in JWTFixture.all where f.expected == "accepted" {
            guard case .admit(let a) = try f.decide() else { Issue.record("\(f) not admitted"); continue }
            switch f.provider {
            case "qstash", "messagebird", "fusionauth", "wise", "fireblocks": #expect(a.authenticity == .bodySigned, "\(f)")
            case "google-pubsub": #expect(a.authenticity == .senderAuthenticated, "\(f)")
            default: continue
            }
            seen.insert(f.provider)
        }
        #expect(seen.isSuperset(of: ["qstash", "google-pubsub"]))
    }

    @Test func aSourceThatOptsOutIsUnverifiedOrAuthenticatedByAddressOnly() throws {
        var src = try source("stripe", secrets: [])
        src.verifiesSignatures = false
        let unsigned = makeRequest(headers: [:], body: #"{"id":"evt_1","type":"invoice.paid"}"#)
        let a = try admitted(src.admit(unsigned, now: 0))
        #expect(a.authenticity == .unverified)
        #expect(a.secretLabel == nil)
        #expect(a.eventKey == "evt_1" && a.eventType == "invoice.paid" && a.destinations == ["svc"])

        src.allowlist = IPAllowlist(allowed: [try #require(CIDR("10.0.0.0/8"))], trustedProxies: [])
        var fromInside = unsigned
        fromInside.peer = IPAddress("10.1.2.3")
        #expect(try admitted(src.admit(fromInside, now: 0)).authenticity == .senderAuthenticated)
        var fromOutside = unsigned
        fromOutside.peer = IPAddress("192.0.2.1")
        #expect(src.admit(fromOutside, now: 0) == .reject(.ipNotAllowed))
    }
}
