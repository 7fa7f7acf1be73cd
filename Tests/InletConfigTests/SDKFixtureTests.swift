import Foundation
import InletConfig
import InletCore
import Testing

/// Fixtures generated with the providers' official SDKs (stripe, standardwebhooks, svix, slack-sdk) by
/// Fixtures/generate_sdk_fixtures.py: each says what the SDK decided and what Inlet must answer.
struct SDKFixture: Decodable, CustomTestStringConvertible, Sendable {
    let provider: String
    let sdk: String
    let `case`: String
    let secrets: [String]
    let headers: [String: String]
    let body: String
    let now: Int64
    let sdkAccepts: Bool?
    let expected: String
    let expectedEventId: String?
    let expectedEventType: String?

    enum CodingKeys: String, CodingKey {
        case provider, sdk, `case`, secrets, headers, body, now, expected
        case sdkAccepts = "sdk_accepts", expectedEventId = "expected_event_id", expectedEventType = "expected_event_type"
    }

    var testDescription: String { "\(provider)/\(self.case)" }

    static let all: [SDKFixture] = {
        do { return try JSONDecoder().decode([SDKFixture].self, from: Repo.fixture("sdk_fixtures.json")) } catch {
            fatalError("sdk_fixtures.json: \(error)")
        }
    }()
}

@Suite("Official SDK fixtures")
struct SDKFixtureTests {
    @Test func everyIssueTwoProviderIsCovered() {
        let providers = Set(SDKFixture.all.map(\.provider))
        #expect(providers == ["stripe", "standard-webhooks", "svix", "slack", "github", "shopify"])
        #expect(SDKFixture.all.count >= 100)
    }

    @Test(arguments: SDKFixture.all)
    func inletAnswersAsExpected(_ f: SDKFixture) throws {
        let profile = try #require(Repo.profiles[f.provider])
        let keys = try f.secrets.enumerated().map { n, s in
            VerificationKey(label: "s\(n)", keyBytes: try #require(profile.secretEncoding.decode(s)))
        }
        let policy = SourcePolicy(name: "src", path: "/hooks/src", profile: profile, keys: keys, destinations: [])
        let request = makeRequest(headers: f.headers, body: f.body, receivedAt: f.now * 1000)
        switch policy.admit(request, now: f.now * 1000) {
        case .admit(let admitted):
            #expect(f.expected == "accepted", "Inlet accepted, expected \(f.expected)")
            if let id = f.expectedEventId { #expect(admitted.eventKey == id) }
            if let type = f.expectedEventType { #expect(admitted.eventType == type) }
        case .reject(let reason):
            #expect(reason.rawValue == f.expected)
        case .handshake:
            #expect(f.expected == "handshake")
        }
    }
}

/// Independent known-answer fixtures for the profiles without SDK-suite vectors (Fixtures/generate_more_fixtures.py:
/// svix for Clerk and Resend, PyNaCl for Discord, Python's hmac per the documented scheme for the rest), handshakes
/// included.
struct MoreFixture: Decodable, CustomTestStringConvertible, Sendable {
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

    enum CodingKeys: String, CodingKey {
        case provider, `case`, secrets, headers, body, now, expected, method, query
        case expectedEventId = "expected_event_id", expectedEventType = "expected_event_type", publicURL = "public_url"
        case verifyToken = "verify_token", expectedResponse = "expected_response"
    }

    var testDescription: String { "\(provider)/\(self.case)" }

    static let all: [MoreFixture] = {
        do { return try JSONDecoder().decode([MoreFixture].self, from: Repo.fixture("more_fixtures.json")) } catch {
            fatalError("more_fixtures.json: \(error)")
        }
    }()
}

@Suite("Independent fixtures for the rest of the catalog")
struct MoreFixtureTests {
    @Test func everyProfileHasKnownAnswers() {
        // Profiles covered by provider_vectors.json, sdk_fixtures.json, this file, or (SNS, PayPal) a local CA.
        let covered = Set(MoreFixture.all.map(\.provider)).union(SDKFixture.all.map(\.provider))
            .union(ProviderVector.covered.compactMap(\.profileName)).union(["aws-sns", "paypal"])
        #expect(Set(Repo.profiles.keys).subtracting(covered).isEmpty, "no known-answer test: \(Set(Repo.profiles.keys).subtracting(covered))")
    }

    @Test(arguments: MoreFixture.all)
    func inletAnswersAsExpected(_ f: MoreFixture) throws {
        let profile = try #require(Repo.profiles[f.provider])
        let keys = try f.secrets.enumerated().map { n, s in try #require(profile.makeKey(label: "s\(n)", secret: s)) }
        let policy = SourcePolicy(name: "src", path: "/hooks/src", profile: profile, keys: keys,
                                  verification: VerificationOptions(publicURL: f.publicURL, verifyToken: f.verifyToken), destinations: [])
        var request = makeRequest(headers: f.headers, body: f.body, query: f.query, receivedAt: f.now * 1000)
        request.method = f.method ?? "POST"
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
        }
    }
}
