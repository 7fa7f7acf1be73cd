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
