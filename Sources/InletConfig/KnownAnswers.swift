import Foundation
import InletCore

/// One known-answer case shipped with the profiles (`providers/fixtures/*.json`): a request, the receiver's secrets,
/// clock and source options, and what the gateway must answer. The same files drive the test suite and
/// `inlet providers test NAME`, so an operator can prove a profile with the checks its authors ran.
public struct KnownAnswerCase: Decodable, Sendable {
    /// A handshake's expected answer.
    public struct Response: Decodable, Sendable {
        public let status: Int
        public let contentType: String?
        public let body: String
        enum CodingKeys: String, CodingKey { case status, body, contentType = "content_type" }
    }

    public let provider: String
    public let `case`: String
    /// `accepted`, `handshake`, or a rejection reason code (`signature_mismatch`, …).
    public let expected: String
    public let headers: [String: String]
    public let body: String
    /// The receiver's clock, in Unix seconds.
    public let now: Int64
    public let secrets: [String]?
    public let method: String?
    public let query: String?
    public let publicURL: String?
    public let verifyToken: String?
    /// The provider's key set, standing in for its JWKS host.
    public let jwks: String?
    public let jwksURL: String?
    public let jwtAudience: [String]?
    public let jwtClaims: [String: [String]]?
    /// The provider's key API, by key id: the answer its key host gives (a key id it lacks answers 404), for profiles
    /// that fetch keys by id (`[key_fetch]`).
    public let keyServer: [String: String]?
    public let expectedEventId: String?
    public let expectedEventType: String?
    public let expectedResponse: Response?
    /// What the fixture was made with (the official SDK and its version, or the documented scheme).
    public let sdk: String?

    enum CodingKeys: String, CodingKey {
        case provider, `case`, expected, headers, body, now, secrets, method, query, jwks, sdk
        case publicURL = "public_url", verifyToken = "verify_token", jwksURL = "jwks_url", jwtAudience = "jwt_audience"
        case jwtClaims = "jwt_claims", keyServer = "key_server", expectedEventId = "expected_event_id", expectedEventType = "expected_event_type"
        case expectedResponse = "expected_response"
    }
}

/// The shipped known-answer cases and how one is run through the real admission path.
public enum KnownAnswers {
    /// Where the fixtures ship, relative to a providers directory.
    public static func directory(forProviders providers: String) -> String { (providers as NSString).appendingPathComponent("fixtures") }

    /// Every case in every `*.json` file of `directory`, in file order.
    public static func load(directory: String) throws(ConfigError) -> [KnownAnswerCase] {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: directory) } catch {
            throw ConfigError(file: directory, line: nil, key: "", message: "cannot read the fixture directory: \(error.localizedDescription)")
        }
        var out: [KnownAnswerCase] = []
        for file in names.sorted() where file.hasSuffix(".json") {
            let path = (directory as NSString).appendingPathComponent(file)
            guard let data = FileManager.default.contents(atPath: path) else { throw ConfigError(file: path, line: nil, key: "", message: "cannot read file") }
            do { out += try JSONDecoder().decode([KnownAnswerCase].self, from: data) } catch {
                throw ConfigError(file: path, line: nil, key: "", message: "not a list of known-answer cases: \(error)")
            }
        }
        return out
    }

    /// What running a case found: whether the gateway answered as expected, and what it answered.
    public struct Outcome: Sendable, Equatable {
        public let passed: Bool
        /// The gateway's answer (`accepted id=… type=…`, `rejected signature_mismatch`, `handshake 200 …`).
        public let answer: String
        /// Why the case failed, when it did.
        public let problem: String?
    }

    /// Runs `c` through `ResolvedSource.decide`, as the ingress does: the case's secrets become the source's keys
    /// (a secret that does not decode fails the case), a key set request is answered from the case's `jwks`.
    /// Sources deduplicate on the provider's event ID here (`dedup_on_body_hash` off), which is what the cases check.
    public static func run(_ c: KnownAnswerCase, profile: ProviderProfile) -> Outcome {
        var keys: [VerificationKey] = []
        for (n, secret) in (c.secrets ?? []).enumerated() {
            guard let key = profile.makeKey(label: "s\(n)", secret: secret) else {
                return Outcome(passed: false, answer: "-", problem: "secret \(n) does not decode as \(profile.keyDescription)")
            }
            keys.append(key)
        }
        var options = VerificationOptions(publicURL: c.publicURL, verifyToken: c.verifyToken)
        options.jwtAudiences = c.jwtAudience ?? []
        options.jwtClaims = c.jwtClaims ?? [:]
        options.jwksURL = c.jwksURL
        var source = ResolvedSource(name: "fixture", path: "/hooks/fixture", profile: profile, keys: keys, verification: options)
        source.dedupOnBodyHash = false
        let headers = HTTPHeaderList(c.headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        let request = IncomingRequest(method: c.method ?? "POST", path: "/hooks/fixture", query: c.query, headers: headers,
                                      body: Array(c.body.utf8), peer: IPAddress("127.0.0.1"), receivedAt: c.now * 1000)
        var decision = source.decide(request, now: c.now * 1000)
        if case .needsCertificate(let locatorText) = decision, let plan = source.keyFetchPlan {
            // The key API answered offline, from the case, through the parser the server uses.
            guard let locator = KeySetLocator(locatorText), let kid = locator.keyID, let server = c.keyServer else {
                return Outcome(passed: false, answer: "needs \(locatorText)", problem: "the case carries no key_server for \(locatorText)")
            }
            let key: [UInt8]
            if let answer = server[kid] {
                do { key = try plan.parseKey(Array(answer.utf8), kid: kid) } catch {
                    return Outcome(passed: false, answer: "needs \(locatorText)", problem: "the case's key_server answer for \(kid): \(error)")
                }
            } else {
                key = plan.forJWT ? JSONWebKeySet(keys: []).encoded : []  // 404: no such key
            }
            decision = source.decide(request, now: c.now * 1000, certificate: .key(key))
        }
        if case .needsCertificate(let locatorText) = decision {
            // Only a key set can be answered offline, from the case itself.
            guard let locator = KeySetLocator(locatorText), let text = c.jwks, let set = try? JSONWebKeySet.parse(Array(text.utf8)) else {
                return Outcome(passed: false, answer: "needs \(locatorText)", problem: "the case carries no key set for \(locatorText)")
            }
            decision = source.decide(request, now: c.now * 1000, certificate: .key(JSONWebKeySet(keys: set.keys(for: locator.keyID)).encoded))
        }
        switch decision {
        case .admit(let admitted):
            let answer = "accepted id=\(admitted.eventKey) type=\(admitted.eventType ?? "-")"
            guard c.expected == "accepted" else { return Outcome(passed: false, answer: answer, problem: "expected \(c.expected)") }
            if let id = c.expectedEventId, id != admitted.eventKey { return Outcome(passed: false, answer: answer, problem: "expected event ID \(id)") }
            if let type = c.expectedEventType, type != admitted.eventType { return Outcome(passed: false, answer: answer, problem: "expected type \(type)") }
            return Outcome(passed: true, answer: answer, problem: nil)
        case .reject(let reason):
            let answer = "rejected \(reason.rawValue)"
            return Outcome(passed: reason.rawValue == c.expected, answer: answer, problem: reason.rawValue == c.expected ? nil : "expected \(c.expected)")
        case .handshake(let response):
            let body = String(decoding: response.body, as: UTF8.self)
            let answer = "handshake \(response.status) \(response.contentType ?? "-") \(body)"
            guard c.expected == "handshake" else { return Outcome(passed: false, answer: answer, problem: "expected \(c.expected)") }
            if let want = c.expectedResponse, want.status != response.status || want.contentType != response.contentType || want.body != body {
                return Outcome(passed: false, answer: answer, problem: "expected handshake \(want.status) \(want.contentType ?? "-") \(want.body)")
            }
            return Outcome(passed: true, answer: answer, problem: nil)
        case .needsCertificate(let url):
            return Outcome(passed: false, answer: "needs \(url)", problem: "a certificate scheme cannot be proven offline")
        }
    }
}
