@preconcurrency import Crypto
import Foundation
import InletCore
import InletServer
import InletStore
import NIOHTTP1
import Testing

/// Providers through a running gateway: what each one's real request looks like on the wire.
@Suite("Providers end to end")
struct ProviderEndToEndTests {
    // Set once and only read; swift-crypto 3 does not mark its key types Sendable.
    nonisolated(unsafe) static let discordKey = Curve25519.Signing.PrivateKey()
    nonisolated(unsafe) static let sendgridKey = P256.Signing.PrivateKey()

    static var sources: String {
        """
        [sources.github]
        provider = "github"
        secrets = ["gh-secret"]
        destinations = ["svc"]

        [sources.slack]
        provider = "slack"
        secrets = ["slack-signing-secret"]
        destinations = ["svc"]

        [sources.discord]
        provider = "discord"
        secrets = ["\(Hex.string(discordKey.publicKey.rawRepresentation))"]
        destinations = ["svc"]

        [sources.twilio]
        provider = "twilio"
        secrets = ["twilio-auth-token"]
        destinations = ["svc"]
        public_url = "https://hooks.example.com/hooks/twilio"

        [sources.sendgrid]
        provider = "sendgrid"
        secrets = ["\(Base64.encode(sendgridKey.publicKey.derRepresentation))"]
        destinations = ["svc"]

        [sources.meta]
        provider = "meta"
        secrets = ["meta-app-secret"]
        verify_token = "meta-verify"
        destinations = ["svc"]
        """
    }

    func hmacHex(_ key: String, _ message: String) -> String {
        Hex.string(HMAC<SHA256>.authenticationCode(for: Array(message.utf8), using: SymmetricKey(data: Array(key.utf8))))
    }

    @Test func everyProviderIsAdmittedOrAnsweredAsItExpects() async throws {
        let destination = try await TestDestination()
        let gw = try await RunningGateway.start(sourcesTOML: Self.sources, destinationURL: destination.url)
        let now = Int64(Date().timeIntervalSince1970)

        // GitHub: a push, deduplicated on the body hash (X-GitHub-Delivery is not signed).
        let push = #"{"ref":"refs/heads/main","commits":[{"message":"caf\u00e9"}]}"#
        let gh = try await post(gw.baseURL + "/hooks/github", body: push, headers: [
            ("X-Hub-Signature-256", "sha256=" + hmacHex("gh-secret", push)), ("X-GitHub-Event", "push"),
            ("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"), ("Content-Type", "application/json"),
        ])
        #expect(gh.json["status"] == "accepted")

        // Slack: url_verification answered by the gateway, never stored or forwarded.
        let challenge = #"{"token":"t","challenge":"ch4ll3ng3","type":"url_verification"}"#
        let slackHandshake = try await post(gw.baseURL + "/hooks/slack", body: challenge, headers: [
            ("X-Slack-Signature", "v0=" + hmacHex("slack-signing-secret", "v0:\(now):\(challenge)")), ("X-Slack-Request-Timestamp", "\(now)"),
        ])
        #expect(slackHandshake.status == 200)
        #expect(slackHandshake.body == #"{"challenge":"ch4ll3ng3"}"#)
        let forgedChallenge = try await post(gw.baseURL + "/hooks/slack", body: challenge, headers: [
            ("X-Slack-Signature", "v0=" + hmacHex("wrong", "v0:\(now):\(challenge)")), ("X-Slack-Request-Timestamp", "\(now)"),
        ])
        #expect(forgedChallenge.status == 401)
        // A Slack retry of the same event deduplicates on event_id.
        let slackEvent = #"{"type":"event_callback","event_id":"Ev01","event":{"type":"app_mention","text":"hi"}}"#
        var slackReplies: [Reply] = []
        for retry in 0..<2 {
            slackReplies.append(try await post(gw.baseURL + "/hooks/slack", body: slackEvent, headers: [
                ("X-Slack-Signature", "v0=" + hmacHex("slack-signing-secret", "v0:\(now):\(slackEvent)")), ("X-Slack-Request-Timestamp", "\(now)"),
                ("X-Slack-Retry-Num", "\(retry)"),
            ]))
        }
        #expect(slackReplies.map { $0.json["status"] } == ["accepted", "duplicate"])

        // Discord: interactions PING → PONG.
        let ping = #"{"type":1,"id":"1234","application_id":"5678","version":1}"#
        let ts = "\(now)"
        let discord = try await post(gw.baseURL + "/hooks/discord", body: ping, headers: [
            ("X-Signature-Ed25519", Hex.string(try Self.discordKey.signature(for: Array((ts + ping).utf8)))), ("X-Signature-Timestamp", ts),
        ])
        #expect(discord.status == 200)
        #expect(discord.body == #"{"type":1}"#)
        let badPing = try await post(gw.baseURL + "/hooks/discord", body: ping, headers: [
            ("X-Signature-Ed25519", Hex.string(try Curve25519.Signing.PrivateKey().signature(for: Array((ts + ping).utf8)))), ("X-Signature-Timestamp", ts),
        ])
        #expect(badPing.status == 401)

        // Twilio: a form post signed over the public URL and the sorted parameters.
        let form = "MessageSid=SM123&Body=Hello+there&From=%2B15551234567"
        let signed = "https://hooks.example.com/hooks/twilioBodyHello thereFrom+15551234567MessageSidSM123"
        let twilioSig = Base64.encode(HMAC<Insecure.SHA1>.authenticationCode(for: Array(signed.utf8), using: SymmetricKey(data: Array("twilio-auth-token".utf8))))
        let twilio = try await post(gw.baseURL + "/hooks/twilio", body: form, headers: [
            ("X-Twilio-Signature", twilioSig), ("Content-Type", "application/x-www-form-urlencoded"), ("I-Twilio-Idempotency-Token", "idem-1"),
        ])
        #expect(twilio.json["status"] == "accepted")

        // SendGrid: an ECDSA-signed batch of events.
        let events = #"[{"email":"a@example.com","event":"delivered","sg_event_id":"sg-e2e-1"}]"# + "\r\n"
        let sgSig = try Self.sendgridKey.signature(for: Array((ts + events).utf8))
        let sendgrid = try await post(gw.baseURL + "/hooks/sendgrid", body: events, headers: [
            ("X-Twilio-Email-Event-Webhook-Signature", Base64.encode(sgSig.derRepresentation)), ("X-Twilio-Email-Event-Webhook-Timestamp", ts),
            ("Content-Type", "application/json"),
        ])
        #expect(sendgrid.json["status"] == "accepted")

        // Meta: GET hub.challenge with the verify token.
        let meta = try await post(gw.baseURL + "/hooks/meta?hub.mode=subscribe&hub.verify_token=meta-verify&hub.challenge=1158201444", body: "", headers: [], method: .GET)
        #expect(meta.status == 200 && meta.body == "1158201444")
        let metaWrong = try await post(gw.baseURL + "/hooks/meta?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1", body: "", headers: [], method: .GET)
        #expect(metaWrong.status == 403 && metaWrong.json["reason"] == "handshake_refused")

        // Four events were admitted (GitHub, Slack, Twilio, SendGrid); handshakes and the duplicate were not forwarded.
        try await destination.waitForRequests(4)
        try await gw.stop()
        #expect(destination.requests.count == 4)
        let types = Set(destination.requests.compactMap { JSONScanner.scalarText(at: JSONPointer("/type")!, in: $0.body) })
        #expect(types == ["push", "app_mention", "twilio.webhook", "delivered"])
        // The Twilio form body travels as data_base64 with its content type.
        let twilioEvent = try #require(destination.requests.first { JSONScanner.scalarText(at: JSONPointer("/inletprovider")!, in: $0.body) == "twilio" })
        #expect(JSONScanner.scalarText(at: JSONPointer("/data_base64")!, in: twilioEvent.body) == Base64.encode(Array(form.utf8)))
        #expect(JSONScanner.scalarText(at: JSONPointer("/datacontenttype")!, in: twilioEvent.body) == "application/x-www-form-urlencoded")
        // Twilio signs no timestamp and its idempotency token is an unsigned header: the dedup key is the body hash.
        #expect(JSONScanner.scalarText(at: JSONPointer("/inleteventkey")!, in: twilioEvent.body) == sha256Hex(Array(form.utf8)))
        #expect(try gw.gateway.store.counts().events == 4)
        await destination.stop()
    }
}
