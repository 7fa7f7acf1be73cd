import Crypto
import Foundation
import InletConfig
import InletCore
import Testing
import InletTesting

/// Schemes beyond HMAC and the handshakes, exercised through the shipped profiles with keys made here.
@Suite("Non-HMAC schemes and handshakes")
struct SchemeAndHandshakeTests {
    func policy(_ provider: String, secrets: [String], publicURL: String? = nil, verifyToken: String? = nil) throws -> ResolvedSource {
        let profile = try #require(Repo.profiles[provider])
        let keys = try secrets.enumerated().map { n, s in try #require(profile.makeKey(label: "k\(n)", secret: s)) }
        return ResolvedSource(name: provider, path: "/hooks/\(provider)", profile: profile, keys: keys,
                            verification: VerificationOptions(publicURL: publicURL, verifyToken: verifyToken), destinations: [])
    }

    func request(_ method: String = "POST", headers: [(String, String)], body: String, query: String? = nil) -> IncomingRequest {
        IncomingRequest(method: method, path: "/", query: query, headers: HTTPHeaderList(headers), body: Array(body.utf8), peer: nil, receivedAt: 0)
    }

    // MARK: Discord (Ed25519)

    let discordKey = Curve25519.Signing.PrivateKey()

    func discordRequest(_ body: String, key: Curve25519.Signing.PrivateKey? = nil, ts: String = "1767225600") throws -> IncomingRequest {
        let sig = try (key ?? discordKey).signature(for: Array((ts + body).utf8))
        return request(headers: [("X-Signature-Ed25519", Hex.string(sig)), ("X-Signature-Timestamp", ts)], body: body)
    }

    @Test func discordInteractionPingIsAnsweredOnlyWhenSigned() throws {
        let p = try policy("discord", secrets: [Hex.string(discordKey.publicKey.rawRepresentation)])
        #expect(p.admit(try discordRequest(#"{"type":1,"id":"1","application_id":"2","version":1}"#), now: 0)
                == .handshake(HandshakeResponse(status: 200, contentType: "application/json", body: Array(#"{"type":1}"#.utf8))))
        #expect(p.admit(try discordRequest(#"{"type":1}"#, key: Curve25519.Signing.PrivateKey()), now: 0) == .reject(.signatureMismatch))
        // Webhook-events PING: 204; a webhook event (type 1 with `event`) is an ordinary event.
        #expect(p.admit(try discordRequest(#"{"version":1,"application_id":"2","type":0}"#), now: 0) == .handshake(HandshakeResponse(status: 204, contentType: nil, body: [])))
        guard case .admit(let a) = p.admit(try discordRequest(#"{"version":1,"type":1,"event":{"type":"APPLICATION_AUTHORIZED","data":{}}}"#), now: 0) else {
            Issue.record("event not admitted"); return
        }
        #expect(a.eventType == "APPLICATION_AUTHORIZED")
        // The timestamp is signed: editing it breaks the signature.
        var edited = try discordRequest(#"{"type":2,"id":"9"}"#)
        edited.headers = HTTPHeaderList(edited.headers.entries.map { $0.name == "X-Signature-Timestamp" ? ($0.name, "1767225601") : $0 })
        #expect(p.admit(edited, now: 0) == .reject(.signatureMismatch))
    }

    @Test func discordRotationAcceptsEitherPublicKey() throws {
        let old = Curve25519.Signing.PrivateKey()
        let p = try policy("discord", secrets: [Hex.string(discordKey.publicKey.rawRepresentation), Hex.string(old.publicKey.rawRepresentation)])
        guard case .admit(let a) = p.admit(try discordRequest(#"{"type":2,"id":"42"}"#, key: old), now: 0) else { Issue.record("rejected"); return }
        #expect(a.secretLabel == "k1")
        #expect(a.eventKey == "42")
    }

    @Test func publicKeysThatDoNotParseAreRefusedAtConfigTime() throws {
        let profile = try #require(Repo.profiles["discord"])
        #expect(profile.makeKey(label: "x", secret: "abcd") == nil)
        #expect(try #require(Repo.profiles["sendgrid"]).makeKey(label: "x", secret: Base64.encode([1, 2, 3])) == nil)
    }

    // MARK: SendGrid (ECDSA P-256)

    @Test func sendgridECDSAVerifiesDERSignatures() throws {
        let key = P256.Signing.PrivateKey()
        let p = try policy("sendgrid", secrets: [Base64.encode(key.publicKey.derRepresentation)])
        let body = #"[{"email":"a@b.c","event":"delivered","sg_event_id":"sg-1"}]"# + "\r\n"
        let ts = "1767225600"
        let sig = try key.signature(for: Array((ts + body).utf8))
        let headers = [("X-Twilio-Email-Event-Webhook-Signature", Base64.encode(sig.derRepresentation)), ("X-Twilio-Email-Event-Webhook-Timestamp", ts)]
        guard case .admit(let a) = p.admit(request(headers: headers, body: body), now: 0) else { Issue.record("rejected"); return }
        #expect(a.eventKey == "sg-1" && a.eventType == "delivered")
        #expect(p.admit(request(headers: headers, body: body.trimmingCharacters(in: .newlines)), now: 0) == .reject(.signatureMismatch))
        let raw = [("X-Twilio-Email-Event-Webhook-Signature", Base64.encode(sig.rawRepresentation)), ("X-Twilio-Email-Event-Webhook-Timestamp", ts)]
        #expect(p.admit(request(headers: raw, body: body), now: 0) == .reject(.signatureMismatch))
    }

    // MARK: Twilio

    @Test func twilioFormBodyNeedsThePublicURLAndSortsParameters() throws {
        let token = "12345"
        let url = "https://example.com/hooks/twilio"
        let body = "To=%2B18005551212&From=%2B14158675309&Body=Hello+world&MessageSid=SM1&Digits=2&Digits=1"
        let signed = Array((url + "BodyHello worldDigits1Digits2From+14158675309MessageSidSM1To+18005551212").utf8)
        let sig = Base64.encode(Array(HMAC<Insecure.SHA1>.authenticationCode(for: signed, using: SymmetricKey(data: Array(token.utf8)))))
        let headers = [("X-Twilio-Signature", sig), ("Content-Type", "application/x-www-form-urlencoded")]
        let p = try policy("twilio", secrets: [token], publicURL: url)
        guard case .admit = p.admit(request(headers: headers, body: body), now: 0) else { Issue.record("rejected"); return }
        #expect(p.admit(request(headers: headers, body: body.replacingOccurrences(of: "SM1", with: "SM2")), now: 0) == .reject(.signatureMismatch))
        // Signed with :443 while configured without: accepted, as twilio-python does.
        let p443 = try policy("twilio", secrets: [token], publicURL: "https://example.com:443/hooks/twilio")
        guard case .admit = p443.admit(request(headers: headers, body: body), now: 0) else { Issue.record("port variant rejected"); return }
        // Without public_url the source is misconfigured (500), not silently open.
        let noURL = try policy("twilio", secrets: [token])
        #expect(noURL.admit(request(headers: headers, body: body), now: 0) == .reject(.sourceMisconfigured))
    }

    // MARK: Mailgun (signature inside the body)

    @Test func mailgunBodyEmbeddedSignature() throws {
        let key = "key-mailgun"
        func body(ts: Int, token: String = "tok123", sig: String? = nil) -> String {
            let s = sig ?? Hex.string(HMAC<SHA256>.authenticationCode(for: Array("\(ts)\(token)".utf8), using: SymmetricKey(data: Array(key.utf8))))
            return #"{"signature":{"timestamp":"\#(ts)","token":"\#(token)","signature":"\#(s)"},"event-data":{"id":"ev-1","event":"delivered"}}"#
        }
        let p = try policy("mailgun", secrets: [key])
        let now: EpochMillis = 1_767_225_600_000
        guard case .admit(let a) = p.admit(request(headers: [], body: body(ts: 1_767_225_600)), now: now) else { Issue.record("rejected"); return }
        #expect(a.eventKey == "tok123" && a.eventType == "delivered")  // keyed by the signed token, not the unsigned event-data.id
        #expect(p.admit(request(headers: [], body: body(ts: 1_767_225_600, sig: String(repeating: "0", count: 64))), now: now) == .reject(.signatureMismatch))
        #expect(p.admit(request(headers: [], body: body(ts: 1_767_225_299)), now: now) == .reject(.timestampOutsideTolerance))
        #expect(p.admit(request(headers: [], body: #"{"event-data":{}}"#), now: now) == .reject(.missingSignature))
    }

    // MARK: Tokens

    @Test func tokenSchemesCompareTheWholeToken() throws {
        let gitlab = try policy("gitlab", secrets: ["glpat-secret", "old-token"])
        guard case .admit(let a) = gitlab.admit(request(headers: [("X-Gitlab-Token", "old-token"), ("X-Gitlab-Event", "Push Hook"), ("X-Gitlab-Event-UUID", "u-1")], body: "{}"), now: 0) else {
            Issue.record("rejected"); return
        }
        // No signed timestamp and an unsigned ID header: keyed by the body's SHA-256 (dedup_on_body_hash).
        #expect(a.secretLabel == "k1" && a.eventType == "Push Hook" && a.eventKey == sha256Hex(Array("{}".utf8)))
        #expect(gitlab.admit(request(headers: [("X-Gitlab-Token", "glpat-secre")], body: "{}"), now: 0) == .reject(.signatureMismatch))
        #expect(gitlab.admit(request(headers: [], body: "{}"), now: 0) == .reject(.missingSignature))

        let generic = try policy("generic-token", secrets: ["t0k3n"])
        guard case .admit = generic.admit(request(headers: [], body: "{}", query: "token=t0k3n"), now: 0) else { Issue.record("query token rejected"); return }
        #expect(generic.admit(request(headers: [], body: "{}", query: "token=nope"), now: 0) == .reject(.signatureMismatch))
    }

    // MARK: Handshakes

    @Test func slackURLVerificationEchoesTheChallengeAfterVerifying() throws {
        let secret = "8f742231b10e8888abcd99yyyzzz85a5"
        let body = #"{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#
        let ts = "1767225600"
        let sig = "v0=" + Hex.string(HMAC<SHA256>.authenticationCode(for: Array("v0:\(ts):\(body)".utf8), using: SymmetricKey(data: Array(secret.utf8))))
        let p = try policy("slack", secrets: [secret])
        let headers = [("X-Slack-Signature", sig), ("X-Slack-Request-Timestamp", ts)]
        #expect(p.admit(request(headers: headers, body: body), now: 1_767_225_600_000)
                == .handshake(HandshakeResponse(status: 200, contentType: "application/json", body: Array(#"{"challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}"#.utf8))))
        #expect(p.admit(request(headers: [("X-Slack-Signature", "v0=00"), ("X-Slack-Request-Timestamp", ts)], body: body), now: 1_767_225_600_000) == .reject(.signatureMismatch))
    }

    @Test func zoomURLValidationReturnsTheEncryptedToken() throws {
        let secret = "zoom-secret-token"
        let body = #"{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1654503849680,"event":"endpoint.url_validation"}"#
        let ts = "1767225600"
        let sig = "v0=" + Hex.string(HMAC<SHA256>.authenticationCode(for: Array("v0:\(ts):\(body)".utf8), using: SymmetricKey(data: Array(secret.utf8))))
        let p = try policy("zoom", secrets: [secret])
        let encrypted = Hex.string(HMAC<SHA256>.authenticationCode(for: Array("qgg8vlvZRS6UYooatFL8Aw".utf8), using: SymmetricKey(data: Array(secret.utf8))))
        #expect(p.admit(request(headers: [("x-zm-signature", sig), ("x-zm-request-timestamp", ts)], body: body), now: 1_767_225_600_000)
                == .handshake(HandshakeResponse(status: 200, contentType: "application/json", body: Array(#"{"plainToken":"qgg8vlvZRS6UYooatFL8Aw","encryptedToken":"\#(encrypted)"}"#.utf8))))
    }

    @Test func twitchCallbackVerificationReturnsTheChallengeAsText() throws {
        let secret = "twitch-secret-0123456789"
        let id = "e76c6bd4-55c9-4987-8304-da1588d8988b", ts = "2026-01-01T00:00:00.123456789Z"
        let body = #"{"challenge":"pogchamp-kappa-360noscope-vohiyo","subscription":{"type":"channel.follow"}}"#
        let sig = "sha256=" + Hex.string(HMAC<SHA256>.authenticationCode(for: Array((id + ts + body).utf8), using: SymmetricKey(data: Array(secret.utf8))))
        let headers = [("Twitch-Eventsub-Message-Id", id), ("Twitch-Eventsub-Message-Timestamp", ts), ("Twitch-Eventsub-Message-Signature", sig),
                       ("Twitch-Eventsub-Message-Type", "webhook_callback_verification")]
        let p = try policy("twitch", secrets: [secret])
        #expect(p.admit(request(headers: headers, body: body), now: 1_767_225_600_000)
                == .handshake(HandshakeResponse(status: 200, contentType: "text/plain", body: Array("pogchamp-kappa-360noscope-vohiyo".utf8))))
        // Ten minutes' tolerance on the RFC 3339 timestamp.
        #expect(p.admit(request(headers: headers, body: body), now: 1_767_225_600_000 + 601_000) == .reject(.timestampOutsideTolerance))
    }

    @Test func metaGETVerificationChecksTheVerifyToken() throws {
        let p = try policy("meta", secrets: ["app-secret"], verifyToken: "my-verify-token")
        #expect(p.acceptsGET)
        #expect(p.admit(request("GET", headers: [], body: "", query: "hub.mode=subscribe&hub.verify_token=my-verify-token&hub.challenge=1158201444"), now: 0)
                == .handshake(HandshakeResponse(status: 200, contentType: "text/plain", body: Array("1158201444".utf8))))
        #expect(p.admit(request("GET", headers: [], body: "", query: "hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1"), now: 0) == .reject(.handshakeRefused))
        #expect(p.admit(request("GET", headers: [], body: ""), now: 0) == .reject(.methodNotAllowed))
    }

    @Test func oktaGETVerificationChecksAuthorization() throws {
        let p = try policy("okta", secrets: ["okta-shared-secret"])
        #expect(p.admit(request("GET", headers: [("Authorization", "okta-shared-secret"), ("X-Okta-Verification-Challenge", "abc123")], body: ""), now: 0)
                == .handshake(HandshakeResponse(status: 200, contentType: "application/json", body: Array(#"{"verification":"abc123"}"#.utf8))))
        #expect(p.admit(request("GET", headers: [("Authorization", "nope"), ("X-Okta-Verification-Challenge", "abc123")], body: ""), now: 0) == .reject(.signatureMismatch))
    }

    @Test func metaSourceWithoutVerifyTokenIsRefusedAtStartup() throws {
        let toml = """
        [sources.fb]
        provider = "meta"
        secrets = ["app-secret"]
        """
        let config = try GatewayConfig.parse(toml, file: "t.toml")
        let error = #expect(throws: ConfigError.self) { try config.resolve(environment: [:], profiles: Repo.profiles) }
        #expect(error?.key == "sources.fb.verify_token")
    }
}
