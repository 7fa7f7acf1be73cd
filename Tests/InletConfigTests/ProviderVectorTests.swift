import Foundation
import InletConfig
import InletCore
import Testing

/// Known-answer vectors from the providers' own SDK test suites (shared/vectors, copied into Fixtures).
struct ProviderVector: Decodable, CustomTestStringConvertible, Sendable {
    let provider: String
    let scheme: String
    let secret: String?
    let headers: [String: String]?
    let body: String?
    let timestamp: String?
    let valid: Bool
    let note: String?
    let bodySpec: BodySpec?

    struct BodySpec: Decodable, Sendable {
        let repeatChar: String
        let count: Int
        enum CodingKeys: String, CodingKey { case repeatChar = "repeat_char", count }
    }

    enum CodingKeys: String, CodingKey { case provider, scheme, secret, headers, body, timestamp, valid, note, bodySpec = "body_spec" }

    /// The exact body: inline, or generated from `body_spec` for the large-payload vectors.
    var bodyText: String {
        if let spec = bodySpec { return String(repeating: spec.repeatChar, count: spec.count) }
        return body ?? ""
    }

    var testDescription: String { "\(provider)/\(scheme) valid=\(valid) \(note?.prefix(40) ?? "")" }

    /// The shipped profile that implements this vector's scheme (nil: a scheme of a later issue).
    var profileName: String? {
        switch scheme {
        case "standard_webhooks": return provider == "Svix" ? "svix" : "standard-webhooks"
        case "hex_hmac_prefixed": return "github"
        case "slack_v0": return "slack"
        case "b64_hmac": return "shopify"
        case "paddle": return "paddle"
        case "pagerduty": return "pagerduty"
        case "hex_hmac": return "coinbase-commerce"
        default: return nil
        }
    }

    static let all: [ProviderVector] = (try? JSONDecoder().decode([ProviderVector].self, from: Repo.fixture("provider_vectors.json"))) ?? []
    static let covered: [ProviderVector] = all.filter { $0.profileName != nil }
}

@Suite("Provider known-answer vectors")
struct ProviderVectorTests {
    @Test func vectorsAreLoaded() {
        #expect(ProviderVector.all.count == 44)
        #expect(ProviderVector.covered.count >= 25)
    }

    @Test(arguments: ProviderVector.covered)
    func vectorVerifiesAsTheSDKDoes(_ v: ProviderVector) throws {
        let profile = try #require(Repo.profiles[v.profileName!])
        let secret = try #require(v.secret)
        let key = try #require(profile.secretEncoding.decode(secret))
        let now = v.timestamp.flatMap { Int64($0) }.map { $0 * 1000 } ?? 1_700_000_000_000
        let request = makeRequest(headers: v.headers ?? [:], body: v.bodyText, receivedAt: now)
        let result = profile.verify(request, keys: [VerificationKey(label: "k", keyBytes: key)], now: now)
        if v.valid {
            #expect(result == .success(VerifiedSignature(keyIndex: 0, timestamp: v.timestamp.flatMap { Int64($0) }.map { $0 * 1000 })))
        } else {
            #expect(result == .failure(.signatureMismatch))
        }
    }

    @Test(arguments: ProviderVector.covered.filter(\.valid))
    func validVectorWithAnotherSecretIsAMismatch(_ v: ProviderVector) throws {
        let profile = try #require(Repo.profiles[v.profileName!])
        let now = v.timestamp.flatMap { Int64($0) }.map { $0 * 1000 } ?? 0
        let request = makeRequest(headers: v.headers ?? [:], body: v.bodyText, receivedAt: now)
        let wrong = VerificationKey(label: "wrong", keyBytes: Array("not-the-secret".utf8))
        #expect(profile.verify(request, keys: [wrong], now: now) == .failure(.signatureMismatch))
    }

    @Test(arguments: ProviderVector.covered.filter(\.valid))
    func rotationAcceptsTheMatchingSecretInAnyPosition(_ v: ProviderVector) throws {
        let profile = try #require(Repo.profiles[v.profileName!])
        let key = try #require(profile.secretEncoding.decode(v.secret!))
        let now = v.timestamp.flatMap { Int64($0) }.map { $0 * 1000 } ?? 0
        let request = makeRequest(headers: v.headers ?? [:], body: v.bodyText, receivedAt: now)
        let keys = [VerificationKey(label: "new", keyBytes: Array("new-secret-xyz".utf8)), VerificationKey(label: "old", keyBytes: key)]
        #expect(try profile.verify(request, keys: keys, now: now).get().keyIndex == 1)
    }

    @Test(arguments: ProviderVector.covered.filter(\.valid))
    func tamperedBodyIsAMismatch(_ v: ProviderVector) throws {
        let profile = try #require(Repo.profiles[v.profileName!])
        let key = try #require(profile.secretEncoding.decode(v.secret!))
        let now = v.timestamp.flatMap { Int64($0) }.map { $0 * 1000 } ?? 0
        let request = makeRequest(headers: v.headers ?? [:], body: v.bodyText + "\n", receivedAt: now)
        #expect(profile.verify(request, keys: [VerificationKey(label: "k", keyBytes: key)], now: now) == .failure(.signatureMismatch))
    }
}
