import Foundation
import InletConfig
import InletCore
import Crypto
import Testing
import InletTesting

/// Known-answer vectors from the providers' own SDK test suites (shared/vectors, copied into Fixtures).
struct ProviderVector: Decodable, CustomTestStringConvertible, Sendable {
    let provider: String
    let scheme: String
    let secret: String?
    let publicKey: String?
    let url: String?
    let method: String?
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

    enum CodingKeys: String, CodingKey {
        case provider, scheme, secret, headers, body, timestamp, valid, note, url, method
        case bodySpec = "body_spec", publicKey = "public_key"
    }

    /// The receiver's key: the shared secret, or the provider's public key.
    var key: String? { secret ?? publicKey }

    /// The vector's URL split as Inlet sees it: the configured public URL and the request's query string.
    var publicURLAndQuery: (String?, String?) {
        guard let url else { return (nil, nil) }
        guard let q = url.firstIndex(of: "?") else { return (url, nil) }
        return (String(url[..<q]), String(url[url.index(after: q)...]))
    }

    func request(now: EpochMillis, bodySuffix: String = "") -> IncomingRequest {
        var r = makeRequest(headers: headers ?? [:], body: bodyText + bodySuffix, query: publicURLAndQuery.1, receivedAt: now)
        r.method = method ?? "POST"
        return r
    }

    /// The receiver's clock: the vector's own timestamp, in the profile's unit.
    func now(_ profile: ProviderProfile) -> EpochMillis {
        guard let t = timestamp.flatMap({ Int64($0) }) else { return 1_700_000_000_000 }
        return profile.timestamp?.unit == .milliseconds ? t : t * 1000
    }

    var options: VerificationOptions { VerificationOptions(publicURL: publicURLAndQuery.0) }

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
        case "twilio", "twilio_json": return "twilio"
        case "square": return "square"
        case "hubspot_v3": return "hubspot"
        case "sendgrid_ecdsa": return "sendgrid"
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
        let secret = try #require(v.key)
        let key = try #require(profile.makeKey(label: "k", secret: secret))
        let now = v.now(profile)
        let result = profile.verify(v.request(now: now), keys: [key], options: v.options, now: now)
        if v.valid {
            #expect(result == .success(VerifiedSignature(keyIndex: 0, timestamp: profile.timestamp == nil ? nil : v.now(profile))))
        } else {
            #expect(result == .failure(.signatureMismatch))
        }
    }

    @Test(arguments: ProviderVector.covered.filter(\.valid))
    func validVectorWithAnotherSecretIsAMismatch(_ v: ProviderVector) throws {
        let profile = try #require(Repo.profiles[v.profileName!])
        let now = v.now(profile)
        let wrong = try #require(profile.makeKey(label: "wrong", secret: otherKey(for: profile)))
        #expect(profile.verify(v.request(now: now), keys: [wrong], options: v.options, now: now) == .failure(.signatureMismatch))
    }

    @Test(arguments: ProviderVector.covered.filter(\.valid))
    func rotationAcceptsTheMatchingSecretInAnyPosition(_ v: ProviderVector) throws {
        let profile = try #require(Repo.profiles[v.profileName!])
        let key = try #require(profile.makeKey(label: "old", secret: v.key!))
        let now = v.now(profile)
        let keys = [try #require(profile.makeKey(label: "new", secret: otherKey(for: profile))), key]
        #expect(try profile.verify(v.request(now: now), keys: keys, options: v.options, now: now).get().keyIndex == 1)
    }

    @Test(arguments: ProviderVector.covered.filter(\.valid))
    func tamperedBodyIsAMismatch(_ v: ProviderVector) throws {
        let profile = try #require(Repo.profiles[v.profileName!])
        let key = try #require(profile.makeKey(label: "k", secret: v.key!))
        let now = v.now(profile)
        #expect(profile.verify(v.request(now: now, bodySuffix: "\n"), keys: [key], options: v.options, now: now) == .failure(.signatureMismatch))
    }
}

/// A well-formed key for `profile` that is not the vector's.
func otherKey(for profile: ProviderProfile) -> String {
    switch profile.signatures.first?.algorithm {
    case .ed25519?: return Hex.string(Curve25519.Signing.PrivateKey().publicKey.rawRepresentation)
    case .ecdsaP256SHA256?: return Base64.encode(P256.Signing.PrivateKey().publicKey.derRepresentation)
    default:
        if case .base64 = profile.secretEncoding { return "whsec_" + Base64.encode(Array("another-secret-entirely".utf8)) }
        return "not-the-secret"
    }
}
