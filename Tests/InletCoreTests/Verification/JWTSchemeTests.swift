import Foundation
import InletConfig
import InletCore
import InletTesting
import Testing

/// A known-answer fixture of `jwt_fixtures.json` (Fixtures/generate_jwt_fixtures.py): a JWT or configured-public-key
/// request made with PyJWT / cryptography, checked at generation time with the provider's SDK (qstash 3.4.0,
/// messagebird 2.2.0, vonage-jwt 1.1.5), whose decision is recorded in `sdk`.
struct JWTFixture: Decodable, CustomTestStringConvertible, Sendable {
    let provider: String
    let `case`: String
    let expected: String
    let headers: [String: String]
    let body: String
    let now: Int64
    let sdk: String
    let secrets: [String]?
    let jwks: String?
    let jwksURL: String?
    let jwtAudience: [String]?
    let jwtClaims: [String: [String]]?
    let publicURL: String?
    let query: String?
    let expectedEventId: String?
    let expectedEventType: String?

    enum CodingKeys: String, CodingKey {
        case provider, `case`, expected, headers, body, now, sdk, secrets, jwks, query
        case jwtAudience = "jwt_audience", jwtClaims = "jwt_claims", publicURL = "public_url", jwksURL = "jwks_url"
        case expectedEventId = "expected_event_id", expectedEventType = "expected_event_type"
    }

    var testDescription: String { "\(provider)/\(self.case)" }

    static let all: [JWTFixture] = {
        do { return try JSONDecoder().decode([JWTFixture].self, from: Repo.fixture("jwt_fixtures.json")) } catch {
            fatalError("jwt_fixtures.json: \(error)")
        }
    }()

    func policy() throws -> ResolvedSource {
        let profile = try #require(Repo.profiles[provider])
        let keys = try (secrets ?? []).enumerated().map { n, s in try #require(profile.makeKey(label: "s\(n)", secret: s), "secret \(n) of \(self)") }
        var options = VerificationOptions(publicURL: publicURL)
        options.jwtAudiences = jwtAudience ?? []
        options.jwtClaims = jwtClaims ?? [:]
        options.jwksURL = jwksURL
        var policy = ResolvedSource(name: "src", path: "/hooks/src", profile: profile, keys: keys, verification: options)
        policy.dedupOnBodyHash = false  // the fixtures check the provider's event ID the profile extracts
        return policy
    }

    var request: IncomingRequest { makeRequest(headers: headers, body: body, query: query, receivedAt: now * 1000) }

    /// Admission as the gateway runs it, with this fixture's JWKS standing in for the provider's host: the key set
    /// is asked for by `decide`, and handed back filtered by kid as `KeySetCache` does.
    func decide() throws -> AdmissionDecision {
        let policy = try policy()
        let first = policy.decide(request, now: now * 1000)
        guard case .needsCertificate(let locatorText) = first else { return first }
        let locator = try #require(KeySetLocator(locatorText))
        #expect(locator.url == policy.keySetURL)
        let set = try JSONWebKeySet.parse(Array(try #require(jwks, "\(self) needs a key set").utf8))
        return policy.decide(request, now: now * 1000, certificate: .key(JSONWebKeySet(keys: set.keys(for: locator.keyID)).encoded))
    }
}

@Suite("JWT and public-key schemes: known answers")
struct JWTKnownAnswerTests {
    @Test func everyNewProfileHasAcceptedAndRefusedCases() {
        for provider in ["qstash", "messagebird", "vonage", "google-pubsub", "fusionauth", "wise", "fireblocks"] {
            let cases = JWTFixture.all.filter { $0.provider == provider }
            #expect(cases.contains { $0.expected == "accepted" } && cases.contains { $0.expected != "accepted" }, "\(provider)")
        }
        // The SDK and Inlet disagree only where Inlet checks what the SDK does not (a body hash the token carries).
        let differ = JWTFixture.all.filter { $0.sdk.contains(": accepted") != ($0.expected == "accepted") }.map(\.testDescription)
        #expect(Set(differ) == ["vonage/payload-hash-mismatch", "fusionauth/body-tampered"])
    }

    @Test(arguments: JWTFixture.all)
    func inletAnswersAsExpected(_ f: JWTFixture) throws {
        switch try f.decide() {
        case .admit(let admitted):
            #expect(f.expected == "accepted", "Inlet accepted, expected \(f.expected)")
            if let id = f.expectedEventId { #expect(admitted.eventKey == id) }
            if let type = f.expectedEventType { #expect(admitted.eventType == type) }
        case .reject(let reason):
            #expect(reason.rawValue == f.expected)
        case .handshake, .needsCertificate:
            Issue.record("unexpected decision for \(f)")
        }
    }

    @Test func aKeySetSourceAsksForTheTokensKidAndNothingForARefusedAlgorithm() throws {
        let valid = try #require(JWTFixture.all.first { $0.provider == "google-pubsub" && $0.case == "valid" })
        let policy = try valid.policy()
        guard case .needsCertificate(let text) = policy.decide(valid.request, now: valid.now * 1000) else { Issue.record("no fetch asked"); return }
        #expect(text == "https://www.googleapis.com/oauth2/v3/certs#kid=7d680d8c70d44e947133cbd499ebc1a61c3d5abc")
        #expect(policy.certificateRequirement.keySet)
        // alg none, or HS256 where only RS256 is accepted: refused before any fetch.
        for name in ["alg-none", "hs256-with-public-key-as-secret"] {
            let f = try #require(JWTFixture.all.first { $0.provider == "google-pubsub" && $0.case == name })
            #expect(policy.decide(f.request, now: f.now * 1000) == .reject(.jwtAlgorithmRefused))
        }
        // The host down: the caller reports the key set unavailable, and the provider is asked to retry.
        #expect(policy.decide(valid.request, now: valid.now * 1000, certificate: .unavailable) == .reject(.certificateUnavailable))
        #expect(RejectionReason.certificateUnavailable.httpStatus == 503 && RejectionReason.signingKeyUnknown.httpStatus == 401)
    }
}

@Suite("JWT bearer tokens are not stored")
struct JWTRedactionTests {
    @Test func aTokenThatDoesNotBindTheBodyIsReplacedInStoredEventsButKeptForQuarantine() throws {
        let pubsub = try #require(JWTFixture.all.first { $0.provider == "google-pubsub" && $0.case == "valid" })
        let profile = try #require(Repo.profiles["google-pubsub"])
        let stored = CredentialRedaction.redactingStoredEvent(pubsub.request, profile: profile)
        #expect(stored.headers.first("Authorization") == CredentialRedaction.marker)
        #expect(stored.body == pubsub.request.body)
        // Quarantine keeps what re-admission must verify again.
        #expect(CredentialRedaction.redacting(pubsub.request, profile: profile, salt: [1, 2, 3]).headers.first("Authorization") == pubsub.headers["Authorization"])
        // A token bound to the body (QStash's body claim) proves nothing for another body: it is kept.
        let qstash = try #require(JWTFixture.all.first { $0.provider == "qstash" && $0.case == "current-key" })
        let kept = CredentialRedaction.redactingStoredEvent(qstash.request, profile: try #require(Repo.profiles["qstash"]))
        #expect(kept.headers.first("Upstash-Signature") == qstash.headers["Upstash-Signature"])
        #expect(Repo.profiles["vonage"]?.bearerTokenSources == [.header("Authorization")])
    }
}

@Suite("JWT and public-key schemes: configuration")
struct JWTConfigurationTests {
    static let now: EpochMillis = 1_767_225_600_000

    func resolve(_ source: String) throws -> ResolvedSource {
        try GatewayConfig.parse("[sources.src]\n" + source, file: "t.toml").resolve(environment: [:], profiles: Repo.profiles, now: Self.now).sources[0]
    }

    func refusal(_ source: String) -> String {
        do { _ = try resolve(source); return "" } catch { return "\(error)" }
    }

    static let rsaPEM: String = {
        JWTFixture.all.first { $0.provider == "wise" }!.secrets![0]
    }()

    @Test func googlePubSubNeedsItsAudienceAndServiceAccount() throws {
        #expect(refusal("provider = \"google-pubsub\"\njwt_claims = { email = [\"a@b\"] }\n").contains("jwt_audience"))
        #expect(refusal("provider = \"google-pubsub\"\njwt_audience = [\"https://x\"]\n").contains("email"))
        #expect(refusal("provider = \"google-pubsub\"\njwt_audience = [\"https://x\"]\njwt_claims = { email = [\"a@b\"] }\nsecrets = [\"s\"]\n").contains("do not apply"))
        #expect(refusal("provider = \"google-pubsub\"\njwt_audience = [\"https://x\"]\njwt_claims = { email = [\"a@b\"] }\njwks_url = \"https://evil.example/jwks\"\n").contains("fixes its key set"))
        let ok = try resolve("provider = \"google-pubsub\"\njwt_audience = [\"https://x\"]\njwt_claims = { email = [\"a@b\"] }\n")
        #expect(ok.keySetURL == "https://www.googleapis.com/oauth2/v3/certs" && ok.keys.isEmpty)
    }

    @Test func aPublicKeyIsNeverAnHMACSecret() throws {
        // QStash verifies HS256 only: a PEM public key configured as its secret is refused, not used as HMAC bytes.
        let pem = Self.rsaPEM.replacingOccurrences(of: "\n", with: "\\n")
        #expect(refusal("provider = \"qstash\"\nsecrets = [\"\(pem)\"]\n").contains("does not decode"))
        // FusionAuth accepts both: the PEM becomes an RSA key, which never computes an HMAC.
        let fa = try resolve("provider = \"fusionauth\"\nsecrets = [\"\(pem)\"]\n")
        guard case .rsa = fa.keys[0].material else { Issue.record("expected an RSA key"); return }
    }

    @Test func sourceKeySetURLsArePinnedByConfigurationOnly() throws {
        #expect(refusal("provider = \"fusionauth\"\njwks_url = \"http://auth.example.com/.well-known/jwks.json\"\n").contains("https"))
        #expect(refusal("provider = \"fusionauth\"\njwks_url = \"https://auth.example.com/jwks?x=1\"\n").contains("https"))
        #expect(refusal("provider = \"github\"\nsecrets = [\"s\"]\njwks_url = \"https://auth.example.com/jwks\"\n").contains("only applies"))
        let fa = try resolve("provider = \"fusionauth\"\njwks_url = \"https://auth.example.com/.well-known/jwks.json\"\n")
        #expect(fa.keySetURL == "https://auth.example.com/.well-known/jwks.json")
        #expect(refusal("provider = \"messagebird\"\nsecrets = [\"k\"]\n").contains("public_url"))
    }

    @Test func profilesRefuseAlgNoneAndUnknownTables() {
        let base = "name = \"x\"\n[[signature]]\nheaders = [\"A\"]\nalgorithm = \"jwt\"\n"
        #expect(throws: ConfigError.self) { try ProfileLoader.parse(base + "[jwt]\nalgorithms = [\"none\"]\n", file: "x.toml") }
        #expect(throws: ConfigError.self) { try ProfileLoader.parse(base, file: "x.toml") }
        #expect(throws: ConfigError.self) { try ProfileLoader.parse(base + "[jwt]\nalgorithms = [\"RS256\"]\njwks_url = \"http://x/keys\"\n", file: "x.toml") }
        #expect(throws: ConfigError.self) { try ProfileLoader.parse(base + "[jwt]\nalgorithms = [\"HS256\"]\nbody_hash_encoding = \"hex\"\n", file: "x.toml") }
    }
}

/// Nothing from outside may crash the process: random and mutated bytes through every parser the new schemes add.
@Suite("JWT and public-key schemes: hostile input")
struct JWTHostileInputTests {
    struct Rng: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 { state &+= 0x9E37_79B9_7F4A_7C15; var z = state; z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9; z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB; return z ^ (z >> 31) }
    }

    @Test func randomAndMutatedInputIsRefusedNotTrappedOn() throws {
        var rng = Rng(state: 0x1A2B_3C4D)
        let seeds = JWTFixture.all.filter { $0.expected == "accepted" }
        var refused = 0
        for round in 0..<3_000 {
            let f = seeds[round % seeds.count]
            let policy = try f.policy()
            var headers = f.headers
            let name = headers.keys.first { !["Upstash-Message-Id", "X-Delivery-Id"].contains($0) }!
            var bytes = Array(headers[name]!.utf8)
            switch round % 4 {
            case 0: bytes = (0..<Int.random(in: 0..<200, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            case 1: for _ in 0..<3 where !bytes.isEmpty { bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 32...126, using: &rng) }
            case 2: bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &rng)))
            default:
                // Swap in a header or claims part of random JSON-ish text, base64url-encoded.
                var parts = String(decoding: bytes, as: UTF8.self).split(separator: ".", omittingEmptySubsequences: false).map(String.init)
                if parts.count == 3 {
                    let junk = (0..<Int.random(in: 0..<64, using: &rng)).map { _ in "{}[]\":,0a\\ ".randomElement(using: &rng)! }
                    parts[Int.random(in: 0..<2, using: &rng)] = Base64URL.encode(Array(String(junk).utf8))
                    bytes = Array(parts.joined(separator: ".").utf8)
                }
            }
            headers[name] = String(decoding: bytes, as: UTF8.self)
            let request = makeRequest(headers: headers, body: f.body, query: f.query, receivedAt: f.now * 1000)
            var decision = policy.decide(request, now: f.now * 1000)
            if case .needsCertificate = decision {
                decision = policy.decide(request, now: f.now * 1000, certificate: .key((0..<Int.random(in: 0..<300, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }))
            }
            if case .reject = decision { refused += 1 }
        }
        #expect(refused > 2_500)
    }

    @Test func garbageKeysAndKeySetsAreRefused() {
        var rng = Rng(state: 42)
        for n in 0..<2_000 {
            let junk = (0..<(n % 400)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            #expect(PublicKeys.parse(der: junk).map { _ in true } != true || junk.count > 64)
            _ = PublicKeys.derFromPEMOrBase64(String(decoding: junk, as: UTF8.self))
            #expect((try? JSONWebKeySet.parse(junk)) == nil)
            _ = CompactJWT.parse(String(decoding: junk, as: UTF8.self))
        }
        // A DER header claiming more bytes than there are, nested or not.
        #expect(PublicKeys.parse(der: [0x30, 0x83, 0xFF, 0xFF, 0xFF, 0x02]).map { _ in true } == nil)
        #expect(PublicKeys.parse(der: [0x30, 0x04, 0x02, 0x82, 0xFF, 0xFF]).map { _ in true } == nil)
        // A key set with a key whose modulus is too short or whose exponent is even: skipped, then no key left.
        #expect((try? JSONWebKeySet.parse(Array(#"{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"},{"kty":"RSA","n":"\#(String(repeating: "A", count: 342))","e":"AQAA"}]}"#.utf8))) == nil)
        // A huge token is refused before it is decoded.
        #expect(CompactJWT.parse(String(repeating: "a", count: CompactJWT.maxLength + 1)).isFailure)
    }
}

extension Result {
    var isFailure: Bool { if case .failure = self { return true }; return false }
}
