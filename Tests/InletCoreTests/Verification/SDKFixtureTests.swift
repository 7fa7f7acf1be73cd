import Foundation
import InletConfig
import InletCore
import Testing
import InletTesting

/// A known-answer fixture: a request, the receiver's secrets and clock, and what Inlet must answer.
/// - `sdk_fixtures.json` (Fixtures/generate_sdk_fixtures.py): made with the official SDKs (stripe, standardwebhooks,
///   svix, slack-sdk), each recording what the SDK decided.
/// - `more_fixtures.json` (Fixtures/generate_more_fixtures.py): the rest of the catalog, handshakes included, made with
///   svix (Clerk, Resend), PyNaCl (Discord) and Python's hmac per the documented scheme.
/// - `catalog_fixtures.json` (Fixtures/generate_catalog_fixtures.py): the profiles added from the provider catalog, made
///   with Python's hmac per each profile's reference and PyNaCl (Telnyx), cross-checked with the official SDK's verify
///   where it imports (standardwebhooks, razorpay, gocardless-pro, pusher; recorded in `sdk` and `sdk_accepts`).
/// - `catalog_more_fixtures.json` (Fixtures/generate_catalog_more_fixtures.py): the second batch of catalog profiles and
///   the template extensions they need (base64url, case-insensitive hex, positional headers, optional manifest parts,
///   Plivo V3, keyed hashes, one header per key), cross-checked with mercadopago, plivo, box-sdk-gen and smartcar, and
///   Sanity's own toolkit vectors.
struct KnownAnswerFixture: Decodable, CustomTestStringConvertible, Sendable {
    struct Expected: Decodable, Sendable {
        let status: Int
        let contentType: String?
        let body: String
        enum CodingKeys: String, CodingKey { case status, body, contentType = "content_type" }
    }

    let provider: String
    let `case`: String
    let secrets: [String]
    let headers: [String: String]
    let body: String
    let now: Int64
    let expected: String
    let expectedEventId: String?
    let expectedEventType: String?
    let method: String?
    let query: String?
    let publicURL: String?
    let verifyToken: String?
    let expectedResponse: Expected?
    /// What the official SDK decided for this request, where it was run (null otherwise).
    let sdkAccepts: Bool?

    enum CodingKeys: String, CodingKey {
        case provider, `case`, secrets, headers, body, now, expected, method, query, sdkAccepts = "sdk_accepts"
        case expectedEventId = "expected_event_id", expectedEventType = "expected_event_type", publicURL = "public_url"
        case verifyToken = "verify_token", expectedResponse = "expected_response"
    }

    var testDescription: String { "\(provider)/\(self.case)" }

    static func load(_ file: String) -> [KnownAnswerFixture] {
        do { return try JSONDecoder().decode([KnownAnswerFixture].self, from: Repo.fixture(file)) } catch {
            fatalError("\(file): \(error)")
        }
    }

    static let sdk = load("sdk_fixtures.json")
    static let more = load("more_fixtures.json")
    static let catalog = load("catalog_fixtures.json")
    static let catalogMore = load("catalog_more_fixtures.json")
    /// Asana, Microsoft Graph and Azure Event Grid (Fixtures/generate_handshake_profile_fixtures.py).
    static let handshakeProfiles = load("handshake_profile_fixtures.json")
    static let all = sdk + more + catalog + catalogMore + handshakeProfiles
}

@Suite("Known-answer fixtures")
struct KnownAnswerFixtureTests {
    @Test func officialSDKsCoverEveryIssueTwoProvider() {
        #expect(Set(KnownAnswerFixture.sdk.map(\.provider)) == ["stripe", "standard-webhooks", "svix", "slack", "github", "shopify"])
        #expect(KnownAnswerFixture.sdk.count >= 100)
    }

    @Test func everyProfileHasKnownAnswers() {
        // Profiles covered by provider_vectors.json, the two fixture files, or (SNS, PayPal) a local CA.
        let covered = Set(KnownAnswerFixture.all.map(\.provider))
            .union(ProviderVector.covered.compactMap(\.profileName)).union(["aws-sns", "paypal"])
            .union(JWTFixture.all.map(\.provider))  // jwt_fixtures.json (JWTSchemeTests.swift)
            .union(KeyByIDFixture.all.map(\.provider))  // key_by_id_fixtures.json (KeyByIDTests.swift)
            .union(FieldSchemeTests.cases.map(\.provider))  // field_scheme_fixtures.json (FieldSchemeTests.swift)
        #expect(Set(Repo.profiles.keys).subtracting(covered).isEmpty, "no known-answer test: \(Set(Repo.profiles.keys).subtracting(covered))")
    }

    @Test func everyCatalogProfileHasTheStandardCases() {
        // Each profile added from the catalog: accepted when valid, refused when tampered (tokens: a wrong token), with
        // the wrong secret and without a signature; timestamped ones also refuse a timestamp past their tolerance.
        // Schemes that do not sign the body (Moov, Mercado Pago) show it with a `body_not_signed` case instead.
        for (provider, fixtures) in Dictionary(grouping: KnownAnswerFixture.catalog + KnownAnswerFixture.catalogMore + KnownAnswerFixture.handshakeProfiles,
                                                 by: \.provider) {
            let cases = Set(fixtures.map(\.case))
            #expect(cases.isSuperset(of: ["valid", "wrong_secret", "missing_signature"]), "\(provider): \(cases)")
            #expect(cases.contains("tampered_body") || cases.contains("wrong_token") || cases.contains("body_not_signed"), "\(provider): \(cases)")
            if let profile = Repo.profiles[provider], profile.timestamp != nil {
                #expect(cases.contains("expired_timestamp"), "\(provider) checks a timestamp but has no expired case")
            }
        }
        // Where the official SDK was run, it agreed with the expected answer.
        for f in KnownAnswerFixture.catalog + KnownAnswerFixture.catalogMore where f.sdkAccepts != nil {
            #expect(f.sdkAccepts == (f.expected == "accepted"), "\(f.testDescription): the SDK said \(f.sdkAccepts!)")
        }
    }

    @Test(arguments: KnownAnswerFixture.all)
    func inletAnswersAsExpected(_ f: KnownAnswerFixture) throws {
        let profile = try #require(Repo.profiles[f.provider])
        let keys = try f.secrets.enumerated().map { n, s in try #require(profile.makeKey(label: "s\(n)", secret: s)) }
        var policy = ResolvedSource(name: "src", path: "/hooks/src", profile: profile, keys: keys,
                                  verification: VerificationOptions(publicURL: f.publicURL, verifyToken: f.verifyToken), destinations: [])
        var request = makeRequest(headers: f.headers, body: f.body, query: f.query, receivedAt: f.now * 1000)
        request.method = f.method ?? "POST"
        if profile.dedupOnBodyHash, case .admit(let byDefault) = policy.admit(request, now: f.now * 1000) {
            #expect(byDefault.eventKey == sha256Hex(request.body) && byDefault.keyOrigin == .bodyHash)
        }
        policy.dedupOnBodyHash = false  // the fixtures check the provider's event ID the profile extracts
        switch policy.admit(request, now: f.now * 1000) {
        case .admit(let admitted):
            #expect(f.expected == "accepted", "Inlet accepted, expected \(f.expected)")
            if let id = f.expectedEventId { #expect(admitted.eventKey == id) }
            if let type = f.expectedEventType { #expect(admitted.eventType == type) }
        case .reject(let reason):
            #expect(reason.rawValue == f.expected)
        case .handshake(let answer):
            #expect(f.expected == "handshake")
            let want = try #require(f.expectedResponse)
            #expect(answer.status == want.status && answer.contentType == want.contentType)
            #expect(String(decoding: answer.body, as: UTF8.self) == want.body)
        case .needsCertificate(let url):
            Issue.record("the fixtures use no certificate scheme, yet admission asks for \(url)")
        }
    }
}

/// The fixtures as `inlet providers test` runs them (`KnownAnswers`, library code): every shipped case, JWT and
/// handshake cases included, passes through `ResolvedSource.decide`.
@Suite("Shipped known answers")
struct ShippedKnownAnswerTests {
    static let cases: [KnownAnswerCase] = {
        do { return try KnownAnswers.load(directory: KnownAnswers.directory(forProviders: Repo.root + "/providers")) } catch { fatalError("\(error)") }
    }()

    @Test func everyProfileShipsKnownAnswers() {
        // provider_vectors.json (test-only) and the local CA (SNS, PayPal) cover a few more; these ship.
        let shipped = Set(Self.cases.map(\.provider))
        let missing = Set(Repo.profiles.keys).subtracting(shipped).subtracting(["aws-sns", "paypal"])
        #expect(missing.isEmpty, "profiles without shipped fixtures: \(missing.sorted())")
        #expect(Self.cases.count >= KnownAnswerFixture.all.count + JWTFixture.all.count)
    }

    @Test func everyShippedCasePasses() throws {
        for c in Self.cases {
            let profile = try #require(Repo.profiles[c.provider], "\(c.provider) has fixtures but no profile")
            let outcome = KnownAnswers.run(c, profile: profile)
            #expect(outcome.passed, "\(c.provider)/\(c.case): expected \(c.expected), got \(outcome.answer) \(outcome.problem ?? "")")
        }
    }
}

@Suite("README providers table")
struct ProviderTableTests {
    @Test func theREADMEListsEveryProfileAsTheProfilesSay() throws {
        let readme = try String(contentsOfFile: Repo.root + "/README.md", encoding: .utf8)
        let table = try #require(ProviderTable.current(in: readme), "the README has no providers table")
        #expect(table == ProviderTable.markdown(Repo.profiles), "README's providers table is stale: run `swift run inlet providers table --readme README.md`")
        for name in Repo.profiles.keys { #expect(table.contains("| `\(name)` |"), "\(name) is not in the README's table") }
    }

    @Test func rowsSayWhatTheProfileDoes() throws {
        let rows = ProviderTable.markdown(Repo.profiles).components(separatedBy: "\n")
        func row(_ name: String) throws -> String { try #require(rows.first { $0.hasPrefix("| `\(name)` |") }) }
        #expect(try row("stripe").contains("| body `id` | body `type` | — | 5 min past, 1 h ahead² | none | sdk |"))
        #expect(try row("github").contains("| body SHA-256 (`X-GitHub-Delivery` with `dedup_on_body_hash = false`) |"))
        #expect(try row("github").contains("| after retention¹ | sdk |"))
        // The last column: the published sender list's size and date, and whether update-ips can refresh it.
        let github = try #require(Repo.profiles["github"]?.sourceIPs)
        #expect(try row("github").hasSuffix("| sdk | \(github.ranges.count), \(github.asOf) (update-ips) |"))
        #expect(try row("slack").hasSuffix("| — |"))
        #expect(try row("slack").contains("| slack-url-verification |"))
        #expect(try row("recurly").contains("| 5 min past, 1 h ahead² (ms) |"))
        #expect(try row("persona").contains("| not checked (1 year) |"))
        #expect(try row("qstash").contains("| JWT `exp`/`nbf` |"))
        // A '|' inside a description does not split the row.
        #expect(ProviderTable.cell("a|b") == "a\\|b")
    }
}
