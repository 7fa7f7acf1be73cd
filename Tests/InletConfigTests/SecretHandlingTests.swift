import Foundation
import InletConfig
import InletCore
import Testing

/// How token secrets are kept out of stored requests and put back where a request must verify again: quarantine
/// re-admission (the matching current secret) and `replay --to --resign` (the source's current secret).
@Suite("Secret handling: redaction markers, re-admission, re-signing")
struct SecretHandlingTests {
    let gitlab = Repo.profiles["gitlab"]!
    let okta = Repo.profiles["okta"]!
    let generic = Repo.profiles["generic-token"]!
    let now: EpochMillis = 1_800_000_000_000

    func key(_ profile: ProviderProfile, _ secret: String, _ label: String = "current") -> VerificationKey {
        profile.makeKey(label: label, secret: secret)!
    }

    func request(_ headers: [(String, String)], query: String? = nil) -> IncomingRequest {
        IncomingRequest(method: "POST", path: "/hooks/x", query: query, headers: HTTPHeaderList(headers), body: Array("{}".utf8), peer: nil, receivedAt: now)
    }

    /// The parts to redact come from the profile's token variants; a signing profile has none.
    @Test func credentialSourcesAreTheTokenSchemesSources() {
        #expect(gitlab.credentialSources == [.header("X-Gitlab-Token")])
        #expect(okta.credentialSources == [.header("Authorization")])
        #expect(generic.credentialSources == [.header("X-Webhook-Token"), .query("token")])
        for (name, profile) in Repo.profiles where !profile.signatures.contains(where: { $0.algorithm == .token }) {
            #expect(profile.credentialSources.isEmpty, "\(name)")
        }
    }

    @Test func storedRequestsKeepAMarkerInsteadOfTheSecret() {
        let original = request([("X-Webhook-Token", "s3cret"), ("X-Event-Id", "e1"), ("x-webhook-token", "again")],
                               query: "a=1&token=s3cret%2Bx&token=&b=token")
        let stored = CredentialRedaction.redacting(original, profile: generic)
        #expect(stored.headers.entries.map(\.value) == [CredentialRedaction.marker, "e1", CredentialRedaction.marker])
        #expect(stored.query == "a=1&token=\(CredentialRedaction.marker)&token=\(CredentialRedaction.marker)&b=token")
        #expect(stored.body == original.body)
        // Not a token scheme: unchanged, byte for byte.
        let stripe = request([("Stripe-Signature", "t=1,v1=ab"), ("Authorization", "Bearer x")], query: "token=y")
        let kept = CredentialRedaction.redacting(stripe, profile: Repo.profiles["stripe"]!)
        #expect(kept.headers == stripe.headers && kept.query == stripe.query)
    }

    /// A quarantine entry's commitment verifies only once the secret it was made from is configured; no other secret
    /// can take its place, and the stored form shows no secret.
    @Test(arguments: ["header", "query"])
    func readmissionRestoresOnlyTheMatchingCurrentSecret(carrier: String) throws {
        let token = "tok/en+with=odd chars"
        let original = carrier == "header"
            ? request([("X-Webhook-Token", token)])
            : request([], query: "token=" + token.addingPercentEncoding(withAllowedCharacters: .alphanumerics)! + "&x=1")
        let salt = Array(repeating: UInt8(7), count: 16)
        let stored = CredentialRedaction.redacting(original, profile: generic, salt: salt)
        let storedText = stored.headers.entries.map(\.value).joined() + (stored.query ?? "")
        // "with" cannot occur in the hex of a marker.
        #expect(!storedText.contains("with") && storedText.contains("inlet-redacted.hmac-sha256."))
        #expect(throws: VerificationFailure.signatureMismatch) { try generic.verify(stored, keys: [key(generic, token)], now: now).get() }

        let wrong = CredentialRedaction.restoring(stored, profile: generic, keys: [key(generic, "another-token")])
        #expect(throws: VerificationFailure.signatureMismatch) { try generic.verify(wrong, keys: [key(generic, "another-token")], now: now).get() }
        let keys = [key(generic, "another-token", "old"), key(generic, token, "new")]
        let restored = CredentialRedaction.restoring(stored, profile: generic, keys: keys)
        #expect(try generic.verify(restored, keys: keys, now: now).get().keyIndex == 1)
        if carrier == "query" { #expect(restored.query?.hasSuffix("&x=1") == true) }
    }

    @Test func equalTokensGiveUnrelatedMarkers() {
        let r = request([("X-Gitlab-Token", "same")])
        let a = CredentialRedaction.redacting(r, profile: gitlab, salt: CredentialRedaction.randomSalt())
        let b = CredentialRedaction.redacting(r, profile: gitlab, salt: CredentialRedaction.randomSalt())
        #expect(a.headers.first("X-Gitlab-Token") != b.headers.first("X-Gitlab-Token"))
    }

    /// `replay --to` sends the marker as stored; `--resign` replaces it with the source's current secret, so the copy
    /// verifies, and only then does a secret leave the gateway.
    @Test(arguments: ["gitlab", "okta", "generic-token"])
    func resignPutsTheCurrentSecretBack(provider: String) throws {
        let profile = try #require(Repo.profiles[provider])
        let header: String = { if case .header(let h) = profile.credentialSources[0] { return h }; return "" }()
        let stored = [(header, CredentialRedaction.marker), ("X-Event-Id", "e1"), ("Content-Type", "application/json")]
        let current = key(profile, "current-secret")
        let plain = RawResend.headers(original: stored, body: Array("{}".utf8), method: "POST", url: "http://127.0.0.1:3000", resign: nil)
        #expect(plain.first { $0.0 == header }?.1 == CredentialRedaction.marker)
        #expect(!plain.contains { $0.1.contains("current-secret") })
        #expect(throws: VerificationFailure.self) { try profile.verify(request(plain), keys: [current], now: now).get() }

        let resigned = RawResend.headers(original: stored, body: Array("{}".utf8), method: "POST", url: "http://127.0.0.1:3000",
                                         resign: .init(profile: profile, key: current.keyBytes, eventID: "e1", nowSeconds: now / 1000))
        #expect(resigned.filter { $0.0.lowercased() == header.lowercased() }.map(\.1) == ["current-secret"])
        #expect(try profile.verify(request(resigned), keys: [current], now: now).get().keyIndex == 0)
    }

    /// `providers update-ips` refuses a downloaded list with a network no provider sends from: it would make
    /// `allow_provider_ips` allow everyone.
    @Test func publishedListsWithHugePrefixesAreRefused() throws {
        for text in ["0.0.0.0/0", "::/0", "1.2.3.4\n10.0.0.0/7", "2001:db8::/23", "128.0.0.0/1"] {
            #expect(throws: (any Error).self, "\(text)") { try PublishedIPRanges.parse(Array(text.utf8), format: .text) }
        }
        #expect(throws: (any Error).self) { try PublishedIPRanges.parse(Array(#"{"hooks":["192.30.252.0/22","0.0.0.0/0"]}"#.utf8), format: .githubMeta) }
        #expect(throws: (any Error).self) { try PublishedIPRanges.parse(Array(#"{"WEBHOOKS":["::/0"]}"#.utf8), format: .stripeJSON) }
        #expect(try PublishedIPRanges.parse(Array("10.0.0.0/8\n2001:db8::/24\n203.0.113.7".utf8), format: .text).count == 3)
    }

    @Test func tooBroadNamesTheRange() {
        #expect(throws: PublishedIPRanges.ParseError.tooBroad("0.0.0.0/0")) { try PublishedIPRanges.parse(Array("0.0.0.0/0".utf8), format: .text) }
        do {
            _ = try ProfileLoader.parse("""
                name = "x"
                [[signature]]
                headers = ["X-Sig"]
                algorithm = "hmac-sha256"
                [source_ips]
                as_of = "2026-01-01"
                ranges = ["::/0"]
                """, file: "x.toml")
            Issue.record("a profile listing ::/0 as its senders loaded")
        } catch {
            #expect(error.key == "source_ips.ranges" && error.message.contains("too broad"), "\(error)")
        }
    }
}
