import Foundation
import InletConfig
import InletCore
import InletTesting
import Testing

/// Handshakes as data (`[[handshake]]`): one test per shape, through the admission core with the shipped profiles
/// that declare them. Known answers computed apart with Python's hmac/hashlib.
@Suite("Declared handshakes")
struct HandshakeRuleTests {
    static let profiles: [String: ProviderProfile] = (try? HandshakeTestProfiles.profiles()) ?? [:]

    func source(_ name: String, secrets: [String] = [], verifyToken: String? = nil, publicURL: String? = nil) throws -> ResolvedSource {
        let profile = try #require(Self.profiles[name] ?? Repo.profiles[name], "\(name)")
        let keys = try secrets.enumerated().map { n, s in try #require(profile.makeKey(label: "k\(n)", secret: s)) }
        return ResolvedSource(name: name, path: "/hooks/\(name)", profile: profile, keys: keys,
                              verification: VerificationOptions(publicURL: publicURL, verifyToken: verifyToken), destinations: ["svc"])
    }

    func request(_ method: String, query: String? = nil, headers: [(String, String)] = [], body: String = "") -> IncomingRequest {
        IncomingRequest(method: method, path: "/", query: query, headers: HTTPHeaderList(headers), body: Array(body.utf8), peer: nil, receivedAt: 0)
    }

    func answer(_ d: AdmissionDecision) throws -> HandshakeResponse {
        guard case .handshake(let a) = d else { Issue.record("not a handshake: \(d)"); throw Refused() }
        return a
    }
    struct Refused: Error {}

    func text(_ a: HandshakeResponse) -> String { String(decoding: a.body, as: UTF8.self) }

    @Test func everyTestProfileLoads() {
        #expect(Self.profiles.count == HandshakeTestProfiles.toml.count)
    }

    // MARK: echo a query parameter as text, with a header (Dropbox)

    @Test func queryEchoAsText() throws {
        let s = try source("dropbox", secrets: ["app-secret"])
        let a = try answer(s.admit(request("GET", query: "challenge=abc%20123"), now: 0))
        #expect(a == {
            var r = HandshakeResponse(status: 200, contentType: "text/plain", body: Array("abc 123".utf8))
            r.headers = [("X-Content-Type-Options", "nosniff")]
            return r
        }())
        // A GET without the parameter is not a handshake: 405 as before.
        #expect(s.admit(request("GET"), now: 0) == .reject(.methodNotAllowed))
        #expect(s.accepts(method: "GET") && !s.accepts(method: "PUT"))
    }

    // MARK: HMAC of a challenge with the secret (X CRC, LinkedIn, Smartcar, Braintree)

    @Test func xCRCAnswersWithTheBase64HMAC() throws {
        let s = try source("x-twitter", secrets: ["consumer-secret"])
        let a = try answer(s.admit(request("GET", query: "crc_token=crcT0ken&nonce=1"), now: 0))
        #expect(text(a) == #"{"response_token":"sha256=t/ElKtUOPFToOIR3HotkZhz5DLLshAkt+k4AC5rMoio="}"#)
        #expect(a.contentType == "application/json")
    }

    /// The provider signs its events with the same key: an HMAC of caller-chosen text would sign a forged body. Only
    /// token-like challenges are answered; a body-shaped one is refused, and so is a source with no secret.
    @Test func anHMACIsNeverComputedOverABodyShapedChallenge() throws {
        let s = try source("x-twitter", secrets: ["consumer-secret"])
        for forged in [#"{"tweet_create_events":[]}"#, "v0:1:{}", "a b", String(repeating: "a", count: 513), ""] {
            let q = "crc_token=" + (forged.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
            #expect(s.admit(request("GET", query: q), now: 0) == .reject(.handshakeRefused), "\(forged)")
        }
        #expect(try source("x-twitter").admit(request("GET", query: "crc_token=abc"), now: 0) == .reject(.handshakeRefused))
    }

    @Test func linkedInAnswersWithTheChallengeAndItsHexHMAC() throws {
        let a = try answer(try source("linkedin", secrets: ["li-secret"]).admit(request("GET", query: "challengeCode=ch4llenge"), now: 0))
        #expect(text(a) == #"{"challengeCode":"ch4llenge","challengeResponse":"2b29c65eed74c2ad8a13840dd35646b8cbde6a657bdae2f9c1559db427737ed3"}"#)
    }

    @Test func smartcarVerifyIsAValidationEventAnsweredWithAJSONField() throws {
        let s = try source("smartcar", secrets: ["amt-token"])
        let body = #"{"version":"2.0","webhookId":"w1","eventName":"verify","payload":{"challenge":"c7a1ef"}}"#
        let a = try answer(s.admit(request("POST", body: body), now: 0))
        #expect(text(a) == #"{"challenge":"de316a582d3b81f5dc7a28f52bbac4e23359c9f0820ada11cd3a1191cec3b118"}"#)
        let v4 = #"{"eventId":"52f6e0bb","eventType":"VERIFY","data":{"challenge":"c7a1ef"},"meta":{"version":"4.0"}}"#
        #expect(try answer(s.admit(request("POST", body: v4), now: 0)) == a)
        // Another event name is an ordinary event, verified as such (here: unsigned, so refused).
        #expect(s.admit(request("POST", body: #"{"eventName":"schedule","payload":{}}"#), now: 0) == .reject(.missingSignature))
    }

    @Test func braintreeAnswersWithThePublicKeyAndTheHMAC() throws {
        // The shipped profile; the answer is braintree 4.48.0's WebhookNotificationGateway.verify for this key pair.
        let s = try source("braintree", secrets: ["fixturepublickey1:0f3b9c2d4e5a6b7c8d9e0f1a2b3c4d5e"])
        let a = try answer(s.admit(request("GET", query: "bt_challenge=20f9f8ed05f77439fe955c977e4c8a53"), now: 0))
        #expect(text(a) == "fixturepublickey1|ed30b12b6d7ac06e5a768655500c1dfdaff46505")
        // The SDK answers only 20 to 32 lower-case hex digits: anything else (a payload-shaped challenge) is refused.
        for bad in ["20F9F8ED05F77439FE955C977E4C8A53", "abc", String(repeating: "a", count: 33), "PD94bWwgdmVyc2lvbj0iMS4wIj8+"] {
            #expect(s.admit(request("GET", query: "bt_challenge=\(bad)"), now: 0) == .reject(.handshakeRefused), "\(bad)")
        }
    }

    // MARK: a digest of the challenge with the source's values (eBay)

    @Test func ebayHashesTheChallengeWithTheTokenAndTheEndpoint() throws {
        let s = try source("ebay", verifyToken: "my-verification-token-0123456789", publicURL: "https://hooks.example.com/ebay")
        let a = try answer(s.admit(request("GET", query: "challenge_code=cc123"), now: 0))
        #expect(text(a) == #"{"challengeResponse":"811d51ea9e8d759e27cc5ffa5e461a5c3396760260b8f606b273c668b2a2833c"}"#)
        // Without the source's token the answer cannot be made: refused rather than hashed with nothing.
        let bare = try source("ebay")
        #expect(bare.admit(request("GET", query: "challenge_code=cc123"), now: 0) == .reject(.handshakeRefused))
    }

    // MARK: a token the source knows (Oura; Meta in its own profile)

    @Test func ouraChecksTheVerificationToken() throws {
        let s = try source("oura", secrets: ["x"], verifyToken: "oura-token")
        let a = try answer(s.admit(request("GET", query: "verification_token=oura-token&challenge=ch1"), now: 0))
        #expect(text(a) == #"{"challenge":"ch1"}"#)
        #expect(s.admit(request("GET", query: "verification_token=wrong&challenge=ch1"), now: 0) == .reject(.handshakeRefused))
        #expect(s.admit(request("GET", query: "challenge=ch1"), now: 0) == .reject(.handshakeRefused))
    }

    // MARK: POST echoes before any signature (Microsoft Graph; WooCommerce's ping)

    @Test func graphValidationTokenIsEchoedAsText() throws {
        let s = try source("microsoft-graph", secrets: ["client-state"])
        let a = try answer(s.admit(request("POST", query: "validationToken=Validation%3A%20Testing%20client%20application%20reachability"), now: 0))
        #expect(text(a) == "Validation: Testing client application reachability" && a.contentType == "text/plain")
        // A notification (no validationToken) is verified on its clientState.
        guard case .admit(let e) = s.admit(request("POST", body: #"{"value":[{"clientState":"client-state","changeType":"created"}]}"#), now: 0) else {
            Issue.record("notification not admitted"); return
        }
        #expect(e.authenticity == .senderAuthenticated)
        #expect(s.admit(request("POST", body: #"{"value":[{"clientState":"guess"}]}"#), now: 0) == .reject(.signatureMismatch))
    }

    @Test func wooCommercePingIsAnsweredOnlyWhenUnsignedAndAForm() throws {
        let s = try source("woocommerce", secrets: ["wc-secret"])
        let ping = request("POST", headers: [("Content-Type", "application/x-www-form-urlencoded")], body: "webhook_id=42")
        #expect(text(try answer(s.admit(ping, now: 0))) == #"{"status":"handshake"}"#)
        // With a signature header it is an event like any other, and a wrong signature is refused.
        let signed = request("POST", headers: [("X-WC-Webhook-Signature", "AAAA")], body: "webhook_id=42")
        #expect(s.admit(signed, now: 0) == .reject(.signatureMismatch))
        #expect(s.admit(request("POST", body: #"{"id":1}"#), now: 0) == .reject(.missingSignature))
    }

    // MARK: HEAD and OPTIONS

    @Test func trelloHEADGets200() throws {
        let s = try source("trello", secrets: ["t"])
        #expect(try answer(s.admit(request("HEAD"), now: 0)) == HandshakeResponse(status: 200, contentType: nil, body: []))
        #expect(s.accepts(method: "HEAD") && !s.accepts(method: "GET"))
    }

    @Test func cloudEventsOPTIONSEchoesTheOrigin() throws {
        let s = try source("azure-event-grid", secrets: ["eg-code"])
        let a = try answer(s.admit(request("OPTIONS", headers: [("WebHook-Request-Origin", "eventgrid.azure.net")]), now: 0))
        #expect(a.headers.map { [$0.0, $0.1] } == [["WebHook-Allowed-Origin", "eventgrid.azure.net"], ["WebHook-Allowed-Rate", "*"]])
        #expect(s.admit(request("OPTIONS"), now: 0) == .reject(.methodNotAllowed))
    }

    // MARK: a validation event in the body, verified first (Azure Event Grid)

    @Test func eventGridValidationEventIsVerifiedThenAnswered() throws {
        let s = try source("azure-event-grid", secrets: ["eg-code"])
        let body = #"[{"id":"2d1781af","eventType":"Microsoft.EventGrid.SubscriptionValidationEvent","data":{"validationCode":"512d38b6-c7b8-40c8-89fe-f46f9e9622b6"}}]"#
        let headers = [("aeg-event-type", "SubscriptionValidation")]
        let a = try answer(s.admit(request("POST", query: "code=eg-code", headers: headers, body: body), now: 0))
        #expect(text(a) == #"{"validationResponse":"512d38b6-c7b8-40c8-89fe-f46f9e9622b6"}"#)
        #expect(s.admit(request("POST", query: "code=wrong", headers: headers, body: body), now: 0) == .reject(.signatureMismatch))
    }

    // MARK: a handshake that hands over the secret (Asana, Notion)

    @Test func aHandedOverSecretIsTakenOnlyByAnOptedInSourceWithoutSecrets() throws {
        var s = try source("asana")
        let hello = request("POST", headers: [("X-Hook-Secret", "h00k-s3cret")])
        #expect(s.admit(hello, now: 0) == .reject(.handshakeRefused))  // not opted in
        s.acceptsHandshakeSecret = true
        let a = try answer(s.admit(hello, now: 0))
        #expect(a.headers.map { [$0.0, $0.1] } == [["X-Hook-Secret", "h00k-s3cret"]])  // the protocol requires the echo
        #expect(a.establishedSecret == EstablishedSecret(value: "h00k-s3cret", handshake: "asana-hook-secret"))
        #expect(!"\(a.establishedSecret!)".contains("h00k"))
        // Once a secret is configured (or stored), a second hand-over is refused.
        var keyed = try source("asana", secrets: ["already"])
        keyed.acceptsHandshakeSecret = true
        #expect(keyed.admit(hello, now: 0) == .reject(.handshakeRefused))

        var notion = try source("notion")
        notion.acceptsHandshakeSecret = true
        let n = try answer(notion.admit(request("POST", body: #"{"verification_token":"secret_tok3n"}"#), now: 0))
        #expect(n.establishedSecret?.value == "secret_tok3n")
        #expect(!text(n).contains("secret_tok3n"))  // the answer never carries it
    }

    // MARK: the profile format

    @Test func malformedHandshakesAreRefusedWithTheirKey() {
        func error(_ handshake: String) -> String {
            let text = """
            name = "t"
            confidence = "docs"
            reference = "r"
            [[signature]]
            headers = ["X-Sig"]
            algorithm = "hmac-sha256"
            [[handshake]]
            \(handshake)
            """
            do { _ = try ProfileLoader.parse(text, file: "t.toml"); return "" } catch { return "\(error)" }
        }
        #expect(error(#"name = "a""#).contains("needs a condition"))
        #expect(error("name = \"a\"\nmethod = \"PUT\"").contains("method"))
        #expect(error("name = \"a\"\nmethod = \"GET\"\nbody = \"{query:x\"").contains("no matching"))
        #expect(error("name = \"a\"\nmethod = \"GET\"\nbody = \"{secret}\"").contains("unknown placeholder"))
        #expect(error("name = \"a\"\nmethod = \"GET\"\nverify = \"verify_token\"").contains("verify_token_from"))
        #expect(error("name = \"a\"\nwhen = [\"header:X\"]\nestablishes_secret = \"header:X\"").contains(#"verify = "none""#))
        #expect(error("name = \"a\"\nmethod = \"GET\"\njson = [[\"a\"]]").contains("pair"))
        #expect(error("name = \"a\"\nmethod = \"GET\"\nbogus = 1").contains("unknown key"))
    }

    @Test func templatesNestDigestsAndListTheirValues() throws {
        let t = try HandshakeTemplate("sha256={hmac-sha256-base64({query:crc_token})}|{sha256-hex({header:A}{verify_token}{public_url})}")
        #expect(t.values == [.request(.query("crc_token")), .request(.header("A")), .verifyToken, .publicURL])
        let literal = try HandshakeTemplate(#"{{"type":{json:/t}}}"#)
        #expect(literal.parts == [.literal(#"{"type":"#), .value(.request(.json(JSONPointer("/t")!))), .literal("}")])
    }
}
