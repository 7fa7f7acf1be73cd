@preconcurrency import Crypto
import Foundation
import InletConfig
import InletCore
import InletTesting
import Testing

/// The key-by-id profiles' shipped cases (providers/fixtures/key_by_id_fixtures.json, made by
/// Fixtures/generate_key_by_id_fixtures.py), loaded as `inlet providers test` loads them.
enum KeyByIDFixture {
    static let all: [KnownAnswerCase] = {
        do { return try JSONDecoder().decode([KnownAnswerCase].self, from: Repo.fixture("key_by_id_fixtures.json")) } catch {
            fatalError("key_by_id_fixtures.json: \(error)")
        }
    }()
}

@Suite("Key by id: Circle, eBay, Plaid")
struct KeyByIDTests {
    @Test(arguments: KeyByIDFixture.all.map { "\($0.provider)/\($0.case)" })
    func shippedCaseAnswersAsExpected(_ name: String) throws {
        let c = try #require(KeyByIDFixture.all.first { "\($0.provider)/\($0.case)" == name })
        let profile = try #require(Repo.profiles[c.provider])
        let outcome = KnownAnswers.run(c, profile: profile)
        #expect(outcome.passed, "\(name): expected \(c.expected), got \(outcome.answer) \(outcome.problem ?? "")")
    }

    @Test func everyProviderHasTheForgeryMatrix() {
        let byProvider = Dictionary(grouping: KeyByIDFixture.all, by: \.provider).mapValues { Set($0.map(\.case)) }
        #expect(Set(byProvider.keys) == ["circle", "ebay", "plaid"])
        for (provider, cases) in byProvider {
            #expect(cases.isSuperset(of: ["valid", "wrong_secret", "unknown_kid", "missing_signature"]), "\(provider): \(cases)")
            #expect(cases.contains { $0.contains("injection") }, "\(provider) has no key-id injection case")
        }
        #expect(byProvider["plaid"]!.isSuperset(of: ["body_hash_mismatch", "expired_timestamp", "alg_none", "hs256_with_public_key"]))
        #expect(byProvider["ebay"]!.isSuperset(of: ["sdk_vector", "challenge_code"]))
        // eBay's own vector, and every eBay case, was judged by the SDK's steps under node as Inlet judges it.
        for c in KeyByIDFixture.all where c.provider == "ebay" && c.sdk?.contains("steps under node") == true && c.expected != "handshake" {
            #expect(c.sdk!.contains(": accepted") == (c.expected == "accepted"), "\(c.case): \(c.sdk!)")
        }
    }

    /// What was verified: each scheme's signature covers the exact body (eBay's and Circle's signatures, Plaid's
    /// body-hash claim), so the events say `body_signed`; the secret label says the key was fetched.
    @Test func validCasesAreBodySignedWithAFetchedKey() throws {
        for c in KeyByIDFixture.all where c.expected == "accepted" {
            let s = try source(c.provider)
            let request = IncomingRequest(method: "POST", path: "/hooks/src", headers: HTTPHeaderList(c.headers.map { ($0.key, $0.value) }),
                                          body: Array(c.body.utf8), peer: nil, receivedAt: c.now * 1000)
            guard case .needsCertificate(let text) = s.decide(request, now: c.now * 1000), let kid = KeySetLocator(text)?.keyID,
                  let answer = c.keyServer?[kid], let plan = s.keyFetchPlan else { Issue.record("\(c.case): no key asked"); continue }
            guard case .admit(let event) = s.decide(request, now: c.now * 1000, certificate: .key(try plan.parseKey(Array(answer.utf8), kid: kid))) else {
                Issue.record("\(c.provider)/\(c.case) refused"); continue
            }
            #expect(event.authenticity == .bodySigned && event.secretLabel == "fetched-key", "\(c.provider)/\(c.case)")
            // Without the key (the host down) the same request is not admitted.
            #expect(s.decide(request, now: c.now * 1000, certificate: .unavailable) == .reject(.certificateUnavailable))
        }
    }

    func source(_ provider: String) throws -> ResolvedSource {
        var s = ResolvedSource(name: "src", path: "/hooks/src", profile: try #require(Repo.profiles[provider]), keys: [])
        s.keyFetchCredentials = KeyFetchCredentials(clientID: "client-id-123", secret: "sk-very-secret-value")
        return s
    }

    /// A key id that is not plain text is refused before any fetch: `decide` never asks for a key.
    @Test(arguments: ["../public_key", "a/b", "%2e%2e", "a%2Fb", "..", ".hidden", "a b", "a?b", "a#b", "a\\b", String(repeating: "k", count: 129), "ключ", ""])
    func injectedKeyIDsAreRefusedWithoutFetching(_ kid: String) throws {
        let circle = try source("circle")
        let request = makeRequest(headers: ["X-Circle-Signature": "MEUCIQ==", "X-Circle-Key-Id": kid], body: "{}")
        let decision = circle.decide(request, now: 0)
        #expect(decision == .reject(kid.isEmpty ? .malformedSignature : .signingKeyUnknown), "\(kid): \(decision)")
        #expect(!KeyFetchSpec.isSafeKeyID(kid))

        let plaid = try source("plaid")
        let header = Base64URL.encode(Array(#"{"alg":"ES256","kid":\#(JSONString.quoted(kid))}"#.utf8))
        let token = header + "." + Base64URL.encode(Array(#"{"iat":1}"#.utf8)) + "." + Base64URL.encode([UInt8](repeating: 1, count: 64))
        let p = plaid.decide(makeRequest(headers: ["Plaid-Verification": token], body: "{}"), now: 0)
        #expect(p == .reject(kid.isEmpty ? .malformedSignature : .signingKeyUnknown), "\(kid): \(p)")
    }

    @Test func aPlainKeyIDBecomesTheKeyURLOnThePinnedHost() throws {
        let kid = "879dc113-5ca4-4ff7-a6b7-54652083fcf8"
        var circle = try source("circle")
        let request = makeRequest(headers: ["X-Circle-Signature": "MEUCIQ==", "X-Circle-Key-Id": kid], body: "{}")
        guard case .needsCertificate(let text) = circle.decide(request, now: 0) else { Issue.record("no fetch asked"); return }
        #expect(text == "https://api.circle.com/v2/notifications/publicKey/\(kid)#kid=\(kid.replacingOccurrences(of: "-", with: "%2D"))")
        #expect(circle.certificateRequirement.keyFetch?.source == "src")
        circle.keyFetchHost = "api-sandbox.circle.com"
        guard case .needsCertificate(let sandbox) = circle.decide(request, now: 0) else { Issue.record("no fetch asked"); return }
        #expect(sandbox.hasPrefix("https://api-sandbox.circle.com/v2/notifications/publicKey/\(kid)#"))
        // Refused before any fetch: an HS256 token (HS/ES confusion), alg none, no signature at all.
        let plaid = try source("plaid")
        for alg in ["HS256", "none", "RS256"] {
            let token = Base64URL.encode(Array(#"{"alg":"\#(alg)","kid":"k1"}"#.utf8)) + "." + Base64URL.encode(Array("{}".utf8)) + ".c2ln"
            #expect(plaid.decide(makeRequest(headers: ["Plaid-Verification": token], body: "{}"), now: 0) == .reject(.jwtAlgorithmRefused))
        }
        #expect(plaid.decide(makeRequest(headers: [:], body: "{}"), now: 0) == .reject(.missingSignature))
    }

    @Test func requestsCarryTheCredentialsAndNothingPrintsThem() throws {
        let kid = "bfbd5111-8e33-4643-8ced-b2e642a72f3c"
        let secret = "sk-very-secret-value"
        let plaid = try #require(try source("plaid").keyFetchPlan)
        let p = try #require(plaid.keyRequest(kid: kid))
        #expect(p.method == "POST" && p.url == "https://production.plaid.com/webhook_verification_key/get")
        #expect(String(decoding: p.body ?? [], as: UTF8.self) == #"{"client_id":"client-id-123","secret":"sk-very-secret-value","key_id":"\#(kid)"}"#)
        #expect(plaid.keyRequest(kid: "a\"b") == nil)  // never built for an unsafe id

        let circle = try #require(try source("circle").keyFetchPlan)
        let c = try #require(circle.keyRequest(kid: kid))
        #expect(c.method == "GET" && c.body == nil && c.headers.contains(.init(name: "Authorization", value: "Bearer " + secret)))

        let ebay = try #require(try source("ebay").keyFetchPlan)
        #expect(ebay.keyRequest(kid: kid) == nil)  // needs the application token first
        let token = try #require(ebay.tokenRequest())
        #expect(token.url == "https://api.ebay.com/identity/v1/oauth2/token" && token.method == "POST")
        #expect(token.headers.contains(.init(name: "Authorization", value: "Basic " + Base64.encode(Array("client-id-123:\(secret)".utf8)))))
        #expect(String(decoding: token.body ?? [], as: UTF8.self) == "grant_type=client_credentials&scope=https%3A%2F%2Fapi.ebay.com%2Foauth%2Fapi_scope")
        let k = try #require(ebay.keyRequest(kid: kid, token: "v^1.1#i^1"))
        #expect(k.url == "https://api.ebay.com/commerce/notification/v1/public_key/\(kid)")
        #expect(KeyFetchPlan.parseToken(Array(#"{"access_token":"v^1.1#i^1","expires_in":7200,"token_type":"Application Access Token"}"#.utf8))! == ("v^1.1#i^1", 7200))
        #expect(KeyFetchPlan.parseToken(Array(#"{"error":"invalid_client"}"#.utf8)) == nil)

        for printed in ["\(plaid)", "\(p)", "\(c)", "\(token)", "\(plaid.credentials)", "\(try source("plaid").keyFetchCredentials)"] {
            #expect(!printed.contains(secret) && !printed.contains("client-id-123"), "\(printed)")
        }
    }

    @Test func keyAnswersAreReadStrictly() throws {
        let key = P256.Signing.PrivateKey()
        let der = Base64.encode(key.publicKey.derRepresentation)
        let circle = try #require(try source("circle").keyFetchPlan)
        #expect(try circle.parseKey(Array(#"{"data":{"publicKey":"\#(der)"}}"#.utf8), kid: "k") == Array(key.publicKey.derRepresentation))
        let ebay = try #require(try source("ebay").keyFetchPlan)
        let oneLine = #"{"key":"-----BEGIN PUBLIC KEY-----\#(der)-----END PUBLIC KEY-----","algorithm":"ECDSA","digest":"SHA1"}"#
        #expect(try ebay.parseKey(Array(oneLine.utf8), kid: "k") == Array(key.publicKey.derRepresentation))
        for bad in [#"{"data":{}}"#, #"{"data":{"publicKey":"AAAA"}}"#, "<html>", #"{"data":{"publicKey":"\#(der)"},"data":{"publicKey":"x"}}"#,
                    #"{"data":{"publicKey":"\#(der)"}"# + String(repeating: " ", count: 70_000) + "}"] {
            #expect(throws: KeyResponseError.self) { try circle.parseKey(Array(bad.utf8), kid: "k") }
        }
        // Plaid: a JWK; one declaring another kid is refused, the JWT path gets a one-key JWKS under the asked kid.
        let plaid = try #require(try source("plaid").keyFetchPlan)
        let x963 = Array(key.publicKey.x963Representation)
        let jwk = #"{"alg":"ES256","crv":"P-256","kid":"K","kty":"EC","use":"sig","x":"\#(Base64URL.encode(x963[1..<33]))","y":"\#(Base64URL.encode(x963[33...]))"}"#
        let set = try JSONWebKeySet.parse(try plaid.parseKey(Array(#"{"key":\#(jwk),"request_id":"r"}"#.utf8), kid: "K"))
        #expect(set.keys.count == 1 && set.keys[0].keyID == "K")
        #expect(throws: KeyResponseError.wrongKeyID) { try plaid.parseKey(Array(#"{"key":\#(jwk)}"#.utf8), kid: "other") }
        #expect(throws: KeyResponseError.self) { try plaid.parseKey(Array(#"{"key":{"kty":"oct","k":"AAAA"}}"#.utf8), kid: "K") }
    }

    @Test func theBase64JSONHeaderIsParsedWithBounds() {
        let header = Base64.encode(Array(#"{"alg":"ecdsa","kid":"k-1","signature":"MEUC","digest":"SHA1"}"#.utf8))
        let format = SignatureHeaderFormat.base64JSON(signatureField: "signature", fields: ["kid", "digest"])
        guard case .success(let p) = SignatureHeaderParser.parse(header, format: format) else { Issue.record("not parsed"); return }
        #expect(p.signatures == [Array("MEUC".utf8)] && p.fields["kid"] == "k-1" && p.fields["digest"] == "SHA1" && p.fields["alg"] == nil)
        for bad in ["!!!", Base64.encode(Array("[1]".utf8)), Base64.encode(Array(#"{"kid":"k"}"#.utf8)),
                    Base64.encode(Array(#"{"signature":"a","signature":"b"}"#.utf8)), String(repeating: "A", count: 9000)] {
            #expect(SignatureHeaderParser.parse(bad, format: format) == .failure(.malformedSignature), "\(bad.prefix(40))")
        }
    }
}

@Suite("Key by id: profile and source configuration")
struct KeyFetchConfigTests {
    static let base = """
    name = "p"
    confidence = "docs"
    reference = "r"
    [[signature]]
    headers = ["X-Sig"]
    algorithm = "ecdsa-p256-sha256"
    encoding = "base64"

    """

    @Test func theKeyFetchTableIsChecked() throws {
        func load(_ table: String) throws(ConfigError) -> ProviderProfile { try ProfileLoader.parse(Self.base + "[key_fetch]\n" + table, file: "p.toml") }
        let ok = try load("url = \"https://keys.example.com/k/{kid}\"\nkey_id = \"header:X-Kid\"\nkey_pointer = \"/key\"\n")
        #expect(ok.keyFetch?.hosts == ["keys.example.com"] && ok.keyFetch?.method == .get && ok.keyFetch?.keyFormat == .spki)
        let refused: [(String, String)] = [
            ("url = \"http://keys.example.com/{kid}\"\nkey_id = \"header:X\"\nkey_pointer = \"/k\"\n", "url"),
            ("url = \"https://keys.example.com:8443/{kid}\"\nkey_id = \"header:X\"\nkey_pointer = \"/k\"\n", "url"),
            ("url = \"https://keys.example.com/{kid}\"\nhosts = [\"other.example.com\"]\nkey_id = \"header:X\"\nkey_pointer = \"/k\"\n", "hosts"),
            ("url = \"https://keys.example.com/k\"\nkey_id = \"header:X\"\nkey_pointer = \"/k\"\n", "url"),
            ("url = \"https://keys.example.com/{kid}\"\nkey_id = \"json:/kid\"\nkey_pointer = \"/k\"\n", "key_id"),
            ("url = \"https://keys.example.com/{kid}\"\nkey_pointer = \"/k\"\n", "key_id"),
            ("url = \"https://keys.example.com/k\"\nmethod = \"POST\"\nbody = '{\"id\":{kid}}'\nkey_id = \"header:X\"\nkey_pointer = \"/k\"\n", "body"),
            ("url = \"https://keys.example.com/{kid}\"\nauth = \"oauth-client-credentials\"\ntoken_url = \"https://evil.example.net/t\"\nkey_id = \"header:X\"\nkey_pointer = \"/k\"\n", "token_url"),
            ("url = \"https://keys.example.com/{kid}\"\nkey_id = \"header:X\"\n", "key_pointer"),
        ]
        for (table, key) in refused {
            #expect(throws: ConfigError.self, "\(table)") { try load(table) }
            do { _ = try load(table) } catch { #expect(error.key.hasSuffix(key), "\(table): \(error)") }
        }
    }

    func config(_ source: String, env: [String: String] = ["CIRCLE_KEY": "sk-circle-secret"]) throws(ConfigError) -> ResolvedConfig {
        let toml = """
        providers_dir = "\(Repo.root)/providers"
        [store]
        path = "/tmp/unused.sqlite"
        [destinations.svc]
        url = "http://127.0.0.1:9/"
        secrets = ["\(destinationSecret)"]
        [sources.c]
        provider = "circle"
        destinations = ["svc"]
        \(source)
        """
        return try GatewayConfig.parse(toml, file: "/tmp/kbi.toml").resolve(environment: env)
    }

    @Test func sourceCredentialsAreReferencesAndRequired() throws {
        let ok = try config("key_fetch_secret = \"env:CIRCLE_KEY\"")
        #expect(ok.sources[0].keyFetchCredentials.secret == "sk-circle-secret")
        let refusals: [(String, String)] = [
            ("key_fetch_secret = \"sk-circle-secret\"", "key_fetch_secret"),  // a literal value
            ("", "key_fetch_secret"),
            ("key_fetch_secret = \"env:NOT_SET\"", "key_fetch_secret"),
            ("key_fetch_secret = \"env:CIRCLE_KEY\"\nkey_fetch_client_id = \"env:CIRCLE_KEY\"", "key_fetch_client_id"),
            ("key_fetch_secret = \"env:CIRCLE_KEY\"\nkey_host = \"api.circle.com.evil.example\"", "key_host"),
            ("key_fetch_secret = \"env:CIRCLE_KEY\"\nsecrets = [\"x\"]", "secrets"),
        ]
        for (text, key) in refusals {
            do {
                _ = try config(text)
                Issue.record("accepted: \(text)")
            } catch {
                #expect(error.key.hasSuffix(key), "\(text): \(error)")
                #expect(!error.description.contains("sk-circle-secret"), "\(error)")
            }
        }
    }
}
