import Crypto
import Foundation
import InletConfig
import InletCore
import Testing
import InletTesting

/// The hardening issue's forgery and replay items (4-8) at the admission level: each test is a request an attacker
/// can build from a genuine one, and what the gateway must answer.
@Suite("Forgery and replay")
struct ForgeryTests {
    static let now: EpochMillis = 1_767_225_600_000

    func source(_ toml: String) throws -> ResolvedSource {
        try GatewayConfig.parse("[sources.src]\n" + toml, file: "t.toml").resolve(environment: [:], profiles: Repo.profiles, now: Self.now).sources[0]
    }

    func hexHMAC(_ key: String, _ message: String) -> String {
        Hex.string(HMAC<SHA256>.authenticationCode(for: Array(message.utf8), using: SymmetricKey(data: Array(key.utf8))))
    }

    func request(_ body: String, _ headers: [(String, String)] = []) -> IncomingRequest {
        IncomingRequest(method: "POST", path: "/hooks/src", headers: HTTPHeaderList(headers), body: Array(body.utf8), peer: IPAddress("127.0.0.1"), receivedAt: Self.now)
    }

    // MARK: 4. SNS topics

    @Test func anSNSSourceMustListItsTopics() throws {
        do {
            _ = try source(#"provider = "aws-sns""#)
            Issue.record("an aws-sns source without topic_arns was accepted")
        } catch let error as ConfigError {
            #expect(error.key.contains("topic_arns") && error.key.contains("src"), "\(error)")
        }
        #expect(throws: ConfigError.self) { try source("provider = \"aws-sns\"\ntopic_arns = [\"arn:aws:sns:us-east-1:*:orders\"]") }
        #expect(throws: ConfigError.self) { try source("provider = \"github\"\nsecrets = [\"s\"]\ntopic_arns = [\"arn:aws:sns:us-east-1:123456789012:orders\"]") }
        let ok = try source("provider = \"aws-sns\"\ntopic_arns = [\"arn:aws:sns:us-east-1:123456789012:orders\", \"arn:aws:sns:*:123456789012:audit\"]")
        #expect(ok.topicARNs.count == 2)
    }

    @Test func anSNSMessageForAnotherTopicIsRefusedBeforeItsSignatureIsChecked() throws {
        let sns = try source("provider = \"aws-sns\"\ntopic_arns = [\"arn:aws:sns:us-east-1:123456789012:orders\"]")
        func message(_ topic: String?, type: String = "Notification") -> IncomingRequest {
            var fields = [("Type", type), ("MessageId", "m-1"), ("Message", "hi"), ("Timestamp", "2026-01-01T00:00:00.000Z"),
                          ("SignatureVersion", "2"), ("Signature", "AAAA"), ("SigningCertURL", "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem")]
            if let topic { fields.append(("TopicArn", topic)) }
            return request("{" + fields.map { JSONString.quoted($0.0) + ":" + JSONString.quoted($0.1) }.joined(separator: ",") + "}")
        }
        // Another account's topic: AWS signed it genuinely, so only the topic check stops it (and before any fetch).
        #expect(sns.screen(message("arn:aws:sns:us-east-1:210987654321:orders")) == .topicNotAllowed)
        #expect(sns.admit(message("arn:aws:sns:us-east-1:210987654321:orders"), now: Self.now) == .reject(.topicNotAllowed))
        #expect(sns.admit(message("arn:aws:sns:us-east-1:210987654321:orders", type: "SubscriptionConfirmation"), now: Self.now) == .reject(.topicNotAllowed))
        #expect(sns.screen(message(nil)) == .topicNotAllowed)
        // The listed topic goes on to the certificate and the signature.
        #expect(sns.screen(message("arn:aws:sns:us-east-1:123456789012:orders")) == nil)
        #expect(RejectionReason.topicNotAllowed.httpStatus == 403)
    }

    // MARK: 5. Duplicate keys

    func mailgunBody(token: String = "tok-1", eventData: String, key: String = "mg-key", extra: String = "") -> String {
        let ts = Self.now / 1000
        return #"{"signature":{"timestamp":"\#(ts)","token":"\#(token)","signature":"\#(hexHMAC(key, "\(ts)\(token)"))"},"event-data":\#(eventData)\#(extra)}"#
    }

    @Test func aSignedMailgunBlockWithAnAppendedEventIsRefused() throws {
        let mailgun = try source("provider = \"mailgun\"\nsecrets = [\"mg-key\"]")
        let genuine = mailgunBody(eventData: #"{"id":"e-1","event":"delivered"}"#)
        guard case .admit = mailgun.admit(request(genuine), now: Self.now) else { Issue.record("the genuine request was refused"); return }
        // A consumer's parser reads the last "event-data": the forged one.
        let forged = mailgunBody(eventData: #"{"id":"e-1","event":"delivered"}"#, extra: #","event-data":{"id":"e-2","event":"failed"}"#)
        #expect(mailgun.admit(request(forged), now: Self.now) == .reject(.duplicateJSONKey))
        #expect(RejectionReason.duplicateJSONKey.httpStatus == 400 && !RejectionReason.duplicateJSONKey.isQuarantinable)
    }

    @Test func aSignedBodyWhoseFieldsDisagreeBetweenParsersIsRefused() throws {
        // Stripe signs the raw bytes, but the gateway's type (first "type") and the consumer's (last) would differ.
        let stripe = try source("provider = \"stripe\"\nsecrets = [\"whsec_test\"]")
        let body = #"{"id":"evt_1","type":"invoice.paid","data":{},"type":"charge.refunded"}"#
        let ts = Self.now / 1000
        let signed = request(body, [("Stripe-Signature", "t=\(ts),v1=\(hexHMAC("whsec_test", "\(ts).\(body)"))")])
        #expect(stripe.admit(signed, now: Self.now) == .reject(.duplicateJSONKey))
    }

    @Test func bodiesAreCheckedWhereTheGatewayReadsAField() throws {
        let body = #"{"action":"opened","action":"closed"}"#
        let headers = [("X-Hub-Signature-256", "sha256=" + hexHMAC("gh", body)), ("X-GitHub-Delivery", "d-1"), ("X-GitHub-Event", "issues")]
        // GitHub reads nothing from the body and signs its raw bytes: nothing here can disagree with the consumer.
        guard case .admit = try source("provider = \"github\"\nsecrets = [\"gh\"]").admit(request(body, headers), now: Self.now) else {
            Issue.record("refused a body the gateway does not read"); return
        }
        // A route filter reads the body: then the route and the consumer must see the same value.
        let routed = try GatewayConfig.parse("""
            [destinations.d]
            url = "http://127.0.0.1:9/"
            secrets = ["whsec_ZGV2ZWxvcG1lbnQtb25seS1zaW5rLXNlY3JldCEhIQ=="]
            [sources.src]
            provider = "github"
            secrets = ["gh"]
            routes = [{ destination = "d", where = [{ pointer = "/action", equals = "opened" }] }]
            """, file: "t.toml").resolve(environment: [:], profiles: Repo.profiles, now: Self.now).sources[0]
        #expect(routed.admit(request(body, headers), now: Self.now) == .reject(.duplicateJSONKey))
    }

    // MARK: 6. Mailgun replays

    @Test func aMailgunSignatureBlockReplaysAsADuplicateWhateverTheEventData() throws {
        let mailgun = try source("provider = \"mailgun\"\nsecrets = [\"mg-key\"]")
        guard case .admit(let first) = mailgun.admit(request(mailgunBody(eventData: #"{"id":"e-1","event":"delivered"}"#)), now: Self.now),
              case .admit(let replay) = mailgun.admit(request(mailgunBody(eventData: #"{"id":"e-forged","event":"failed"}"#)), now: Self.now)
        else { Issue.record("refused"); return }
        // The same signed token: one event, whatever event-data carries (it is not signed).
        #expect(first.eventKey == "tok-1" && replay.eventKey == first.eventKey)
        guard case .admit(let other) = mailgun.admit(request(mailgunBody(token: "tok-2", eventData: #"{"id":"e-1","event":"delivered"}"#)), now: Self.now) else {
            Issue.record("refused"); return
        }
        #expect(other.eventKey == "tok-2")
    }

    // MARK: 8. Fresh delivery headers

    @Test func aReplayWithAFreshDeliveryHeaderIsTheSameEvent() throws {
        let body = #"{"ref":"refs/heads/main","after":"a1b2"}"#
        func delivery(_ id: String) -> IncomingRequest {
            request(body, [("X-Hub-Signature-256", "sha256=" + hexHMAC("gh", body)), ("X-GitHub-Delivery", id), ("X-GitHub-Event", "push")])
        }
        let github = try source("provider = \"github\"\nsecrets = [\"gh\"]")
        guard case .admit(let first) = github.admit(delivery("d-1"), now: Self.now), case .admit(let replay) = github.admit(delivery("d-2"), now: Self.now) else {
            Issue.record("refused"); return
        }
        #expect(first.eventKey == sha256Hex(Array(body.utf8)) && first.keyOrigin == .bodyHash)
        #expect(replay.eventKey == first.eventKey)
        // A source can go back to the provider's ID (accepting the replay risk), per source.
        let byHeader = try source("provider = \"github\"\nsecrets = [\"gh\"]\ndedup_on_body_hash = false")
        guard case .admit(let a) = byHeader.admit(delivery("d-1"), now: Self.now), case .admit(let b) = byHeader.admit(delivery("d-2"), now: Self.now) else {
            Issue.record("refused"); return
        }
        #expect(a.eventKey == "d-1" && b.eventKey == "d-2" && a.keyOrigin == .provider)
        // And a profile with a signed timestamp can opt in.
        #expect(try source("provider = \"stripe\"\nsecrets = [\"whsec_x\"]\ndedup_on_body_hash = true").dedupOnBodyHash)
    }

    @Test func profilesWithNothingSignedThatIsFreshDeduplicateOnTheBody() {
        for (name, profile) in Repo.profiles {
            let idFromHeader: Bool
            if case .header? = profile.event.idSources.first { idFromHeader = true } else { idFromHeader = false }
            let signedID = profile.signatures.contains { $0.signedContent.usesID }
            // No signed timestamp and an unsigned header for the ID: a replay with a fresh header looks new.
            let exposed = profile.timestamp == nil && idFromHeader && !signedID
            #expect(profile.dedupOnBodyHash == exposed, "\(name): dedup_on_body_hash should be \(exposed)")
        }
    }

    // MARK: 7. PayPal hosts

    @Test func paypalSandboxHostsNeedASandboxSource() throws {
        let live = try source("provider = \"paypal\"\nwebhook_id = \"WH\"")
        let sandbox = try source("provider = \"paypal\"\nwebhook_id = \"WH\"\nsandbox = true")
        func cert(_ url: String) -> IncomingRequest { request("{}", [("PAYPAL-CERT-URL", url)]) }
        let sandboxURL = "https://api.sandbox.paypal.com/v1/notifications/certs/CERT-1"
        #expect(live.certificateURL(in: cert(sandboxURL)) == .failure(.certificateURLNotAllowed))
        #expect(sandbox.certificateURL(in: cert(sandboxURL)) == .success(sandboxURL))
        #expect(live.certificateURL(in: cert("https://api.paypal.com/v1/notifications/certs/CERT-1")) == .success("https://api.paypal.com/v1/notifications/certs/CERT-1"))
        #expect(live.certificateURL(in: cert("https://user@api.paypal.com/v1/notifications/certs/CERT-1")) == .failure(.certificateURLNotAllowed))
        #expect(live.certificateRequirement == SigningCertificateRequirement(chainToTrustedRoot: true, commonNames: ["messageverificationcerts.paypal.com"]))
        #expect(sandbox.certificateRequirement.commonNames.contains("messageverificationcerts.sandbox.paypal.com"))
        #expect(throws: ConfigError.self) { try source("provider = \"stripe\"\nsecrets = [\"whsec_x\"]\nsandbox = true") }
    }
}
