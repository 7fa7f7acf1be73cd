import Foundation
import InletConfig
@testable import InletCore
import InletTesting
import Testing

/// Signatures over fields and constructed texts (Braintree, Alipay, Hygraph) and a JWT as the body (Kinde): the shipped
/// known answers (`providers/fixtures/field_scheme_fixtures.json`, Fixtures/generate_field_scheme_fixtures.py, made with
/// braintree 4.48.0 and alipay-sdk-python 3.7.1411), the forgeries each scheme invites, and the pieces they are made of.
@Suite("Field schemes")
struct FieldSchemeTests {
    static let cases: [KnownAnswerCase] = {
        do { return try JSONDecoder().decode([KnownAnswerCase].self, from: Repo.fixture("field_scheme_fixtures.json")) } catch { fatalError("\(error)") }
    }()

    static func fixture(_ provider: String, _ name: String) -> KnownAnswerCase {
        guard let c = cases.first(where: { $0.provider == provider && $0.case == name }) else { fatalError("no case \(provider)/\(name)") }
        return c
    }

    func source(_ c: KnownAnswerCase) throws -> ResolvedSource {
        let profile = try #require(Repo.profiles[c.provider])
        let keys = try (c.secrets ?? []).enumerated().map { n, s in try #require(profile.makeKey(label: "k\(n)", secret: s)) }
        var options = VerificationOptions()
        options.jwksURL = c.jwksURL
        return ResolvedSource(name: c.provider, path: "/hooks/x", profile: profile, keys: keys, verification: options, destinations: ["svc"])
    }

    func request(_ c: KnownAnswerCase, body: String? = nil, headers: [String: String]? = nil) -> IncomingRequest {
        IncomingRequest(method: c.method ?? "POST", path: "/hooks/x", query: c.query, headers: HTTPHeaderList((headers ?? c.headers).sorted { $0.key < $1.key }.map { ($0.key, $0.value) }),
                        body: Array((body ?? c.body).utf8), peer: nil, receivedAt: c.now * 1000)
    }

    /// Admits `c` (answering a key-set fetch from the case's JWKS).
    func admit(_ c: KnownAnswerCase, body: String? = nil, headers: [String: String]? = nil) throws -> AdmissionDecision {
        let s = try source(c)
        let r = request(c, body: body, headers: headers)
        var d = s.decide(r, now: c.now * 1000)
        if case .needsCertificate(let text) = d {
            let locator = try #require(KeySetLocator(text))
            let set = try JSONWebKeySet.parse(Array(try #require(c.jwks).utf8))
            d = s.decide(r, now: c.now * 1000, certificate: .key(JSONWebKeySet(keys: set.keys(for: locator.keyID)).encoded))
        }
        return d
    }

    // MARK: the shipped cases

    @Test func everyCaseAnswersAsTheSDKDid() throws {
        #expect(Set(Self.cases.map(\.provider)) == ["braintree", "alipay", "kinde", "hygraph"])
        for c in Self.cases {
            let outcome = KnownAnswers.run(c, profile: try #require(Repo.profiles[c.provider]))
            #expect(outcome.passed, "\(c.provider)/\(c.case): \(outcome.answer) \(outcome.problem ?? "")")
            // Where the SDK ran, it decided the same.
            if let sdk = c.sdk, sdk.contains(": parse ") || sdk.contains("verify_with_rsa ") {
                #expect(sdk.hasSuffix("accepted") == (c.expected == "accepted") || sdk.contains("refused") == (c.expected != "accepted"), "\(c.case): \(sdk)")
            }
        }
    }

    @Test func authenticityIsWhatEachSchemeCovers() throws {
        func authenticity(_ provider: String, _ name: String, body: String? = nil) throws -> Authenticity {
            guard case .admit(let e) = try admit(Self.fixture(provider, name), body: body) else { throw Refused() }
            return e.authenticity
        }
        // Form fields, not the bytes: a value holding '&' and two fields sign alike.
        #expect(try authenticity("alipay", "trade notification (SDK get_sign_content + sign_with_rsa2)") == .senderAuthenticated)
        #expect(try authenticity("braintree", "sample notification (SDK WebhookTesting.sample_notification)") == .senderAuthenticated)
        // The JSON-string escaping of the body is one-to-one: every byte is covered.
        #expect(try authenticity("hygraph", "publish, compact JSON as Hygraph sends it") == .bodySigned)
        // The exact token as the body: every byte is covered. Anything around it is not a token.
        let kinde = Self.fixture("kinde", "user.created, RS256, key from the JWKS by kid")
        #expect(try authenticity("kinde", kinde.case) == .bodySigned)
        #expect(try admit(kinde, body: kinde.body + "\n") == .reject(.malformedSignature))
    }
    struct Refused: Error {}

    // MARK: Braintree

    @Test func braintreeChecksOnlyTheFirstPairWithItsPublicKey() throws {
        let c = Self.fixture("braintree", "sample notification (SDK WebhookTesting.sample_notification)")
        let form = try #require(FormFields.parse(Array(c.body.utf8)))
        let sig = String(decoding: try #require(form.value("bt_signature")), as: UTF8.self)
        let payload = String(decoding: try #require(form.value("bt_payload")), as: UTF8.self)
        func body(_ signature: String) -> String { "bt_signature=\(percent(signature))&bt_payload=\(percent(payload))" }
        // braintree-python takes the first pair naming its public key: a bad one placed before the good one fails.
        #expect(try admit(c, body: body("fixturepublickey1|\(String(repeating: "0", count: 40))&" + sig)) == .reject(.signatureMismatch))
        // A good pair after pairs for other keys, and after junk pieces, is found.
        guard case .admit = try admit(c, body: body("junk&a|b|c&other|00&" + sig)) else { Issue.record("not admitted"); return }
        // Field order in the form does not matter.
        guard case .admit = try admit(c, body: "bt_payload=\(percent(payload))&bt_signature=\(percent(sig))") else { Issue.record("not admitted"); return }
        // The same private key under another public key never checks this pair.
        let profile = try #require(Repo.profiles["braintree"])
        let renamed = try #require(profile.makeKey(label: "k", secret: "renamedpublickey:0f3b9c2d4e5a6b7c8d9e0f1a2b3c4d5e"))
        let s = ResolvedSource(name: "b", path: "/hooks/x", profile: profile, keys: [renamed], verification: .init(), destinations: ["svc"])
        #expect(s.admit(request(c), now: c.now * 1000) == .reject(.signatureMismatch))
    }

    @Test func braintreeSecretsAreKeyPairs() throws {
        let profile = try #require(Repo.profiles["braintree"])
        for bad in ["no-colon-here", ":private", "public:"] { #expect(profile.makeKey(label: "k", secret: bad) == nil, "\(bad)") }
        let key = try #require(profile.makeKey(label: "k", secret: "pub:priv:with:colons"))
        #expect(key.keyID == "pub" && key.keyBytes == Array(Insecure_SHA1("priv:with:colons")))
        // Nothing of the pair in a description.
        #expect(!"\(key)".contains("pub") && !"\(key)".contains("priv"))
    }

    func Insecure_SHA1(_ s: String) -> [UInt8] { HashFunction.sha1.digest(Array(s.utf8)) }

    @Test func xmlTextReadsOneLeafBoundedly() {
        func t(_ xml: String, _ path: [String] = ["notification", "kind"]) -> String? { XMLText.text(at: path, in: Array(xml.utf8)) }
        #expect(t("<?xml version=\"1.0\"?>\n<notification><timestamp type=\"datetime\">x</timestamp><kind>check</kind></notification>") == "check")
        #expect(t("<notification><!-- <kind>no</kind> --><kind a='>'>dispute_&amp;_won&#33;</kind></notification>") == "dispute_&_won!")
        #expect(t("<notification><subject><kind>nested</kind></subject></notification>") == nil)
        #expect(t("<notification><kind><b>x</b></kind></notification>") == nil)  // not a leaf
        #expect(t("<!DOCTYPE n [<!ENTITY e \"x\">]><notification><kind>&e;</kind></notification>") == nil)
        #expect(t("<notification><kind>&e;</kind></notification>") == nil)  // an undefined entity
        #expect(t("<notification><kind>x</other></notification>") == nil)  // unbalanced
        #expect(t(String(repeating: "<a>", count: 100) + "x" + String(repeating: "</a>", count: 100), Array(repeating: "a", count: 100)) == nil)
        #expect(t("<notification><kind><![CDATA[c<d]]></kind></notification>") == "c<d")
        #expect(t("<notification><kind") == nil)
    }

    // MARK: Alipay and forms

    @Test func formFieldsAreDecodedStrictly() throws {
        let f = try #require(FormFields.parse(Array("b=2&a=x+y%26z&c=&d".utf8)))
        #expect(f.value("a") == Array("x y&z".utf8) && f.value("c") == [] && f.value("d") == [])
        // Sorted by name, the excluded and the empty left out; values unescaped (so not one-to-one with the body).
        #expect(String(decoding: f.sorted(excluding: ["b"]), as: UTF8.self) == "a=x y&z")
        #expect(FormFields.parse(Array("a=1&a=2".utf8)) == nil)  // a name twice
        #expect(FormFields.parse(Array("a=%zz".utf8)) == nil && FormFields.parse(Array("a=%4".utf8)) == nil)
        #expect(FormFields.parse(Array("=1".utf8)) == nil)
        #expect(FormFields.parse(Array((0...FormFields.maxFields).map { "f\($0)=1" }.joined(separator: "&").utf8)) == nil)
        #expect(FormFields.parse(Array("&&a=1&".utf8))?.fields.count == 1)
    }

    @Test func alipayRefusesAmbiguityAndIgnoresOrder() throws {
        let c = Self.fixture("alipay", "trade notification (SDK get_sign_content + sign_with_rsa2)")
        // The same field percent-encoded differently is the same field.
        let recoded = c.body.replacingOccurrences(of: "trade_status=TRADE_SUCCESS", with: "trade%5Fstatus=TRADE%5FSUCCESS")
        guard case .admit(let e) = try admit(c, body: recoded) else { Issue.record("not admitted"); return }
        #expect(e.eventType == "TRADE_SUCCESS")
        // A second sign, before or after the first: ambiguous, refused.
        #expect(try admit(c, body: "sign=AAAA&" + c.body) == .reject(.malformedSignature))
        // sign_type is not signed (rsaCheckV1 drops it); RSA (SHA-1) signatures are not accepted, so this changes nothing.
        guard case .admit = try admit(c, body: c.body.replacingOccurrences(of: "sign_type=RSA2", with: "sign_type=RSA")) else {
            Issue.record("sign_type is outside the signature"); return
        }
    }

    // MARK: Hygraph and the template pieces

    @Test func jsonStringLiteralIsWrittenAsHygraphsHelperWritesIt() {
        // JSON.stringify("a\"b\\c\n\u{1}<&>é") then escapeHTMLChars, computed apart with Python's json.dumps.
        let out = JSONStringLiteral.goHTMLSafe(Array("a\"b\\c\n\u{1}<&>é".utf8))
        #expect(String(decoding: out, as: UTF8.self) == #""a\"b\\c\n\u0001\\u003c\\u0026\\u003eé""#)
    }

    @Test func templatesTakeLiteralBracesAndNestedJSONStrings() throws {
        let t = try SignedContentTemplate(#"{{"Body":{json-string:body},"T":{signature:t}}}"#)
        #expect(t.segments == [.literal(Array(#"{"Body":"#.utf8)), .jsonString(.body), .literal(Array(#","T":"#.utf8)), .signatureField("t"), .literal([UInt8(ascii: "}")])])
        #expect(throws: SignedContentTemplate.ParseError.unknownPlaceholder("json-string:json-string:body")) { try SignedContentTemplate("{json-string:json-string:body}") }
        #expect(throws: SignedContentTemplate.ParseError.unknownPlaceholder("json-string:form_sorted")) { try SignedContentTemplate("{json-string:form_sorted}") }
        // A lone '}' stays literal, as before.
        #expect(try SignedContentTemplate("a}b").segments == [.literal(Array("a}b".utf8))])
        #expect(try SignedContentTemplate("{json-string:timestamp}").usesTimestamp)
    }

    @Test func challengePatternsAreOneClassAndALength() throws {
        let p = try #require(CharacterPattern("[a-f0-9]{20,32}"))
        #expect(p.matches(String(repeating: "a", count: 20)) && p.matches(String(repeating: "9", count: 32)))
        #expect(!p.matches(String(repeating: "a", count: 19)) && !p.matches(String(repeating: "a", count: 33)) && !p.matches(String(repeating: "A", count: 20)))
        #expect(CharacterPattern("[ab]{3}")?.matches("aba") == true)
        for bad in ["a-f", "[a-f]", "[a-f]{0,2}", "[f-a]{1}", "[a-f]{3,2}", "[]{1}", "[a-f]{1,99999}"] { #expect(CharacterPattern(bad) == nil, "\(bad)") }
    }

    // MARK: what the loader refuses

    @Test func profilesThatCannotWorkDoNotLoad() {
        let base = "name = \"x\"\nconfidence = \"docs\"\nreference = \"r\"\n"
        func refused(_ text: String, _ key: String) {
            do { _ = try ProfileLoader.parse(base + text, file: "x.toml"); Issue.record("loaded: \(text)") } catch {
                #expect(error.key == key || error.key.hasSuffix("." + key), "\(text): \(error)")
            }
        }
        refused("[[signature]]\nfrom = [\"form:s\"]\nformat = \"keyed-pairs\"\nalgorithm = \"hmac-sha1\"\n", "secret_encoding")
        refused("secret_encoding = \"key-pair\"\n[[signature]]\nheaders = [\"S\"]\nalgorithm = \"hmac-sha1\"\n", "secret_encoding")
        refused("secret_digest = \"sha1\"\n[[signature]]\nheaders = [\"S\"]\nalgorithm = \"hmac-sha1\"\n", "secret_digest")
        refused("[[signature]]\nheaders = [\"S\"]\nalgorithm = \"hmac-sha1\"\nform_exclude = [\"sign\"]\n", "form_exclude")
        refused("[[signature]]\nfrom = [\"body\"]\nalgorithm = \"hmac-sha256\"\n", "from")
        refused("[[signature]]\nheaders = [\"S\"]\nalgorithm = \"rsa-sha256\"\nalternate_signed_content = [\"{body}\\n\"]\n", "alternate_signed_content")
        refused("ack_body = \"two\\nlines\"\n[[signature]]\nheaders = [\"S\"]\nalgorithm = \"hmac-sha1\"\n", "ack_body")
        refused("[[signature]]\nheaders = [\"S\"]\nalgorithm = \"hmac-sha1\"\n[[handshake]]\nname = \"h\"\nmethod = \"GET\"\nrequire_pattern = [[\"query:c\", \"abc\"]]\nbody = \"x\"\n", "require_pattern")
    }
}

private func percent(_ s: String) -> String {
    s.addingPercentEncoding(withAllowedCharacters: CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")) ?? s
}
