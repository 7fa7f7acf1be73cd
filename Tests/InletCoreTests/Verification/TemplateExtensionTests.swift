import Crypto
import Foundation
import InletConfig
import InletCore
import InletTesting
import Testing

/// The small template extensions of the provider catalog (issue 15), each declared in a profile and checked with known
/// answers computed here independently (swift-crypto's HMAC and SHA-256, Foundation's base64), apart from the
/// shipped profiles' fixtures (catalog_more_fixtures.json).
@Suite("Template extensions")
struct TemplateExtensionTests {
    static let now: EpochMillis = 1_767_225_600_000

    func profile(_ signature: String, extra: String = "") throws -> ProviderProfile {
        try ProfileLoader.parse("""
        name = "t"
        confidence = "docs"
        reference = "test"
        \(extra)
        [[signature]]
        \(signature)
        """, file: "t.toml")
    }

    func key(_ p: ProviderProfile, _ secret: String) -> VerificationKey { p.makeKey(label: secret, secret: secret)! }

    func hmac(_ key: String, _ message: String) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Array(message.utf8), using: SymmetricKey(data: Array(key.utf8))))
    }

    func request(_ headers: [(String, String)], body: String, query: String? = nil, method: String = "POST") -> IncomingRequest {
        IncomingRequest(method: method, path: "/hooks/t", query: query, headers: HTTPHeaderList(headers), body: Array(body.utf8), peer: nil, receivedAt: Self.now)
    }

    func verify(_ p: ProviderProfile, _ r: IncomingRequest, _ secrets: [String], publicURL: String? = nil, legacy: Bool = false) -> Result<VerifiedSignature, VerificationFailure> {
        var options = VerificationOptions(allowLegacySignatures: legacy, publicURL: publicURL)
        options.toleranceSeconds = nil
        return p.verify(r, keys: secrets.map { key(p, $0) }, options: options, now: Self.now)
    }

    // MARK: base64url

    @Test func base64urlEncodesWithoutPaddingInTheURLAlphabet() {
        // 0xfb 0xff: standard base64 "+/8=", URL-safe "-_8".
        #expect(String(decoding: ByteEncoding.base64url.encode([0xFB, 0xFF]), as: UTF8.self) == "-_8")
        #expect(ByteEncoding.base64url.decode("-_8") == [0xFB, 0xFF])
        #expect(ByteEncoding.base64url.decode("-_8=") == [0xFB, 0xFF])
        #expect(ByteEncoding.base64url.matches(expected: Array("-_8".utf8), candidate: Array("-_8=".utf8)))
        #expect(!ByteEncoding.base64url.matches(expected: Array("-_8".utf8), candidate: Array("+/8=".utf8)))
        #expect(!ByteEncoding.base64url.matches(expected: Array("-_8".utf8), candidate: Array("-_".utf8)))
        #expect(!ByteEncoding.base64url.matches(expected: Array("-_8".utf8), candidate: Array("-_8==x".utf8)))
    }

    @Test func aBase64urlProfileVerifiesSanitysToolkitVector() throws {
        // sanity-io/webhook-toolkit test/signature.test.ts: secret "test", payload {"_id":"resume"}.
        let p = try profile("""
        headers = ["sig"]
        format = "key-value"
        signature_keys = ["v1"]
        algorithm = "hmac-sha256"
        encoding = "base64url"
        signed_content = "{header:ts}.{body}"
        """)
        let ok = request([("sig", "t=1,v1=tLa470fx7qkLLEcMOcEUFuBbRSkGujyskxrNXcoh0N0"), ("ts", "1633519811129")], body: #"{"_id":"resume"}"#)
        #expect((try? verify(p, ok, ["test"]).get()) != nil)
        let other = request([("sig", "t=1,v1=tLa470fx7qkLLEcMOcEUFuBbRSkGujyskxrNXcoh0N0"), ("ts", "1633519811128")], body: #"{"_id":"resume"}"#)
        #expect(verify(p, other, ["test"]) == .failure(.signatureMismatch))
    }

    // MARK: case-insensitive hex

    @Test func hexAnyCaseFoldsOnlyHexLetters() {
        let expected = Array("0a1b2c3d4e5f".utf8)
        #expect(ByteEncoding.hexAnyCase.matches(expected: expected, candidate: Array("0A1B2C3D4E5F".utf8)))
        #expect(ByteEncoding.hexAnyCase.matches(expected: expected, candidate: Array("0a1B2c3D4e5F".utf8)))
        #expect(!ByteEncoding.hexAnyCase.matches(expected: expected, candidate: Array("0a1b2c3d4e5g".utf8)))
        // '@' (0x40) and '`' (0x60) differ by the case bit but are not hex letters: never folded onto one another.
        #expect(!ByteEncoding.hexAnyCase.matches(expected: Array("`".utf8), candidate: Array("@".utf8)))
        // Plain hex stays exact.
        #expect(!ByteEncoding.hex.matches(expected: expected, candidate: Array("0A1B2C3D4E5F".utf8)))
        #expect(ByteEncoding.hexAnyCase.decode("0A1b") == [0x0A, 0x1B])
    }

    // MARK: positional

    @Test func positionalHeadersNameTheirLeadingItems() throws {
        let format = SignatureHeaderFormat.positional(separator: ",", leadingFields: ["t"])
        let p = try SignatureHeaderParser.parse("1767225600000,aa, bb", format: format).get()
        #expect(p.fields["t"] == "1767225600000")
        #expect(p.signatures == [Array("aa".utf8), Array("bb".utf8)])
        #expect(SignatureHeaderParser.parse("1767225600000", format: format) == .failure(.malformedSignature))
        #expect(SignatureHeaderParser.parse(" , ,", format: format) == .failure(.malformedSignature))
        let none = SignatureHeaderFormat.positional(separator: ",", leadingFields: [])
        #expect(try SignatureHeaderParser.parse("aa,bb", format: none).get().signatures.count == 2)
    }

    @Test func aPositionalProfileReadsItsTimestampAndAnyOfItsSignatures() throws {
        let p = try profile("""
        headers = ["recurly-signature"]
        format = "positional"
        leading_fields = ["t"]
        algorithm = "hmac-sha256"
        encoding = "hex"
        signed_content = "{timestamp}.{body}"
        """, extra: """
        [timestamp]
        sources = ["signature:t"]
        unit = "milliseconds"
        tolerance_seconds = 300
        """)
        let body = #"{"id":"e1"}"#
        let ts = String(Self.now)
        let good = Hex.string(hmac("k", "\(ts).\(body)"))
        #expect((try? verify(p, request([("recurly-signature", "\(ts),\(Hex.string(hmac("old", "\(ts).\(body)"))),\(good)")], body: body), ["k"]).get())?.timestamp == Self.now)
        #expect(verify(p, request([("recurly-signature", "\(Self.now - 301_000),\(good)")], body: body), ["k"]) == .failure(.signatureMismatch))
        let stale = String(Self.now - 301_000)
        #expect(verify(p, request([("recurly-signature", "\(stale),\(Hex.string(hmac("k", "\(stale).\(body)")))")], body: body), ["k"])
                == .failure(.timestampOutsideTolerance(skewSeconds: -301)))
        // What the profile signs, it verifies (send-test, benchmarks).
        let headers = p.sign(body: Array(body.utf8), key: Array("k".utf8), timestampSeconds: Self.now / 1000, id: "x")
        #expect(headers.first { $0.0 == "recurly-signature" }?.1 == "\(ts),\(good)")
    }

    // MARK: optional manifest parts

    @Test func optionalGroupsAreSignedOnlyWhenEveryValueInThemIsPresent() throws {
        let p = try profile("""
        headers = ["x-signature"]
        format = "key-value"
        signature_keys = ["v1"]
        algorithm = "hmac-sha256"
        signed_content = "{?id:{query:data.id};}{?request-id:{header:x-request-id};}ts:{timestamp};"
        """, extra: """
        [timestamp]
        sources = ["signature:ts"]
        tolerance_seconds = 300
        """)
        let ts = Self.now / 1000
        func sig(_ manifest: String) -> String { "ts=\(ts),v1=" + Hex.string(hmac("k", manifest)) }
        let both = request([("x-signature", sig("id:42;request-id:r1;ts:\(ts);")), ("x-request-id", "r1")], body: "{}", query: "data.id=42")
        #expect((try? verify(p, both, ["k"]).get()) != nil)
        let noID = request([("x-signature", sig("request-id:r1;ts:\(ts);")), ("x-request-id", "r1")], body: "{}")
        #expect((try? verify(p, noID, ["k"]).get()) != nil)
        let emptyID = request([("x-signature", sig("request-id:r1;ts:\(ts);")), ("x-request-id", "r1")], body: "{}", query: "data.id=")
        #expect((try? verify(p, emptyID, ["k"]).get()) != nil)
        let neither = request([("x-signature", sig("ts:\(ts);"))], body: "{}")
        #expect((try? verify(p, neither, ["k"]).get()) != nil)
        // Dropping a part that was signed does not verify.
        let dropped = request([("x-signature", sig("id:42;request-id:r1;ts:\(ts);")), ("x-request-id", "r1")], body: "{}")
        #expect(verify(p, dropped, ["k"]) == .failure(.signatureMismatch))
    }

    @Test func optionalGroupsParseStrictly() throws {
        let t = try SignedContentTemplate("a{?b{body}c}d")
        #expect(t.segments == [.literal(Array("a".utf8)), .optional([.literal(Array("b".utf8)), .body, .literal(Array("c".utf8))]), .literal(Array("d".utf8))])
        #expect(throws: SignedContentTemplate.ParseError.nestedOptional) { try SignedContentTemplate("{?a{?{body}}}") }
        #expect(throws: SignedContentTemplate.ParseError.emptyOptional) { try SignedContentTemplate("{?abc}") }
        #expect(throws: SignedContentTemplate.ParseError.unterminated) { try SignedContentTemplate("{?a{body}") }
        #expect(try SignedContentTemplate("{?{timestamp}.}{body}").usesTimestamp)
        // Crisp's literal brackets are not groups.
        #expect(try SignedContentTemplate("[{timestamp};{body}]").segments.count == 5)
    }

    // MARK: keyed plain hash

    @Test func keyedHashesDigestTheSecretThenTheContent() throws {
        let body = #"{"n":1}"#
        let sha = try profile("headers = [\"h\"]\nalgorithm = \"keyed-sha256\"\nencoding = \"hex\"")
        let digest = Hex.string(SHA256.hash(data: Array("secret".utf8) + Array(body.utf8)))
        #expect((try? verify(sha, request([("h", digest)], body: body), ["secret"]).get()) != nil)
        #expect(verify(sha, request([("h", Hex.string(hmac("secret", body)))], body: body), ["secret"]) == .failure(.signatureMismatch))
        #expect(verify(sha, request([("h", digest)], body: body + " "), ["secret"]) == .failure(.signatureMismatch))
        let md5 = try profile("headers = [\"h\"]\nalgorithm = \"keyed-md5\"\nencoding = \"hex\"")
        let md5Digest = Hex.string(Insecure.MD5.hash(data: Array("secret".utf8) + Array(body.utf8)))
        #expect((try? verify(md5, request([("h", md5Digest)], body: body), ["secret"]).get()) != nil)
        #expect(sha.sign(body: Array(body.utf8), key: Array("secret".utf8), timestampSeconds: 0, id: "x").first?.1 == digest)
    }

    @Test func maxiosLegacyMD5IsAcceptedOnlyWhenTheSourceAllowsLegacySignatures() throws {
        let maxio = try #require(Repo.profiles["maxio"])
        let body = "id=1&event=signup_success"
        let legacy = request([("X-Chargify-Webhook-Signature", Hex.string(Insecure.MD5.hash(data: Array("site-key\(body)".utf8))))], body: body)
        #expect(verify(maxio, legacy, ["site-key"]) == .failure(.legacySignatureRefused))
        #expect((try? verify(maxio, legacy, ["site-key"], legacy: true).get()) != nil)
    }

    // MARK: one header per key

    @Test func everyHeaderGathersSignaturesFromEachHeaderPresent() throws {
        let p = try profile("""
        headers = ["s-1", "s-2", "s-3"]
        every_header = true
        algorithm = "hmac-sha256"
        encoding = "base64"
        """)
        let body = #"{"n":1}"#
        let r = request([("s-1", Base64.encode(hmac("k1", body))), ("s-3", Base64.encode(hmac("k3", body)))], body: body)
        #expect((try? verify(p, r, ["k3"]).get())?.keyIndex == 0)
        #expect((try? verify(p, r, ["k9", "k1"]).get())?.keyIndex == 1)
        #expect(verify(p, r, ["k2"]) == .failure(.signatureMismatch))
        // Without every_header only the first header present counts.
        let first = try profile("headers = [\"s-1\", \"s-3\"]\nalgorithm = \"hmac-sha256\"\nencoding = \"base64\"")
        #expect(verify(first, r, ["k3"]) == .failure(.signatureMismatch))
        #expect(throws: ConfigError.self) { try profile("headers = [\"s-1\"]\nevery_header = true\nalgorithm = \"hmac-sha256\"") }
    }

    // MARK: Plivo V3

    @Test func plivoV3SignsTheURLSortedParametersAndNonce() throws {
        let plivo = try #require(Repo.profiles["plivo"])
        let url = "https://h.example/cb"
        // construct_post_url: base + '?' + sorted query + '.' + sorted name+value params; then '.' + nonce.
        let body = "To=2&From=1&Digits=9&Digits=1"
        let message = "https://h.example/cb?a=1&b=2.Digits1Digits9From1To2.n0nce"
        let sig = Base64.encode(hmac("token", message))
        let r = request([("X-Plivo-Signature-V3", "other," + sig), ("X-Plivo-Signature-V3-Nonce", "n0nce")], body: body, query: "b=2&a=1")
        #expect((try? verify(plivo, r, ["token"], publicURL: url).get()) != nil)
        #expect(verify(plivo, r, ["token"]) == .failure(.publicURLNotConfigured))
        #expect(verify(plivo, r, ["other"], publicURL: url) == .failure(.signatureMismatch))
        let noNonce = request([("X-Plivo-Signature-V3", sig)], body: body, query: "b=2&a=1")
        #expect(verify(plivo, noNonce, ["token"], publicURL: url) == .failure(.malformedSignature))
        // No query: base + '?' + params. A GET signs the URL and its query only.
        let plain = Base64.encode(hmac("token", "https://h.example/cb?Digits1Digits9From1To2.n0nce"))
        #expect((try? verify(plivo, request([("X-Plivo-Signature-V3", plain), ("X-Plivo-Signature-V3-Nonce", "n0nce")], body: body), ["token"], publicURL: url).get()) != nil)
        let get = Base64.encode(hmac("token", "https://h.example/cb?a=1&b=2.n0nce"))
        let getRequest = request([("X-Plivo-Signature-V3", get), ("X-Plivo-Signature-V3-Nonce", "n0nce")], body: "", query: "b=2&a=1", method: "GET")
        #expect((try? verify(plivo, getRequest, ["token"], publicURL: url).get()) != nil)
        // What the profile signs, it verifies.
        let signed = plivo.sign(body: Array(body.utf8), key: Array("token".utf8), timestampSeconds: 0, id: "n0nce", publicURL: url + "?b=2&a=1")
        #expect(signed.first { $0.0 == "X-Plivo-Signature-V3" }?.1 == Base64.encode(hmac("token", message)))
    }
}

/// Signatures over selected fields (Adyen, per notification item) and signed-header lists named by the request
/// (Hook0 / Coinbase CDP, Contentful), with known answers computed here and forgeries.
@Suite("Field and signed-header schemes")
struct FieldAndSignedHeaderTests {
    let t = TemplateExtensionTests()

    func adyenItem(_ psp: String, key: [UInt8], signature: String? = nil, value: Int = 1000) -> String {
        let signing = "\(psp)::Acct:ref-\(psp):\(value):EUR:AUTHORISATION:true"
        let sig = signature ?? Base64.encode(HMAC<SHA256>.authenticationCode(for: Array(signing.utf8), using: SymmetricKey(data: key)))
        return #"{"NotificationRequestItem":{"additionalData":{"hmacSignature":"\#(sig)"},"amount":{"currency":"EUR","value":\#(value)},"eventCode":"AUTHORISATION","merchantAccountCode":"Acct","merchantReference":"ref-\#(psp)","pspReference":"\#(psp)","success":"true"}}"#
    }

    @Test func everyAdyenItemMustCarryItsOwnSignature() throws {
        let adyen = try #require(Repo.profiles["adyen"])
        let hexKey = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
        let key = try #require(Hex.decode(hexKey))
        let other = Array(repeating: UInt8(7), count: 32)
        func body(_ items: [String]) -> String { #"{"live":"false","notificationItems":["# + items.joined(separator: ",") + "]}" }
        #expect((try? t.verify(adyen, t.request([], body: body([adyenItem("1", key: key)])), [hexKey]).get()) != nil)
        #expect((try? t.verify(adyen, t.request([], body: body([adyenItem("1", key: key), adyenItem("2", key: key)])), [hexKey]).get()) != nil)
        #expect(t.verify(adyen, t.request([], body: body([adyenItem("1", key: key), adyenItem("2", key: other)])), [hexKey]) == .failure(.signatureMismatch))
        // An item's signed field changed after signing; an item's signature moved onto another item.
        let moved = adyenItem("1", key: key).replacingOccurrences(of: #""value":1000"#, with: #""value":1"#)
        #expect(t.verify(adyen, t.request([], body: body([moved])), [hexKey]) == .failure(.signatureMismatch))
        #expect(t.verify(adyen, t.request([], body: body([adyenItem("1", key: key, signature: "")])), [hexKey]) == .failure(.missingSignature))
        #expect(t.verify(adyen, t.request([], body: #"{"notificationItems":[]}"#), [hexKey]) == .failure(.missingSignature))
        // A batch longer than the bound is refused before any item is verified.
        let bound = ProviderProfile.maxItems
        let many = body(Array(repeating: adyenItem("1", key: key), count: bound + 1))
        #expect(t.verify(adyen, t.request([], body: many), [hexKey]) == .failure(.malformedSignature))
        #expect((try? t.verify(adyen, t.request([], body: body(Array(repeating: adyenItem("1", key: key), count: bound))), [hexKey]).get()) != nil)
    }

    @Test func hook0SignsTheHeadersItNamesInTheOrderNamed() throws {
        let hook0 = try #require(Repo.profiles["hook0"])
        let ts = TemplateExtensionTests.now / 1000, body = #"{"n":1}"#
        func signature(_ names: String, _ message: String) -> String { "t=\(ts),h=\(names),v1=" + Hex.string(t.hmac("s", message)) }
        let headers = [("X-Event-Id", "e1"), ("x-event-type", "user.created")]
        let good = t.request(headers + [("X-Hook0-Signature", signature("x-event-id x-event-type", "\(ts).x-event-id x-event-type.e1.user.created.\(body)"))], body: body)
        #expect((try? t.verify(hook0, good, ["s"]).get()) != nil)
        // Names are lower-cased as the client does; the order is the one named.
        let upper = t.request(headers + [("X-Hook0-Signature", signature("X-Event-Id x-event-type", "\(ts).x-event-id x-event-type.e1.user.created.\(body)"))], body: body)
        #expect((try? t.verify(hook0, upper, ["s"]).get()) != nil)
        let reordered = t.request(headers + [("X-Hook0-Signature", signature("x-event-type x-event-id", "\(ts).x-event-id x-event-type.e1.user.created.\(body)"))], body: body)
        #expect(t.verify(hook0, reordered, ["s"]) == .failure(.signatureMismatch))
        // A named header the request lacks is refused before any MAC; no list at all signs '{t}..{body}'.
        let missing = t.request([("X-Hook0-Signature", signature("x-event-id", "\(ts).x-event-id.e1.\(body)"))], body: body)
        #expect(t.verify(hook0, missing, ["s"]) == .failure(.malformedSignature))
        let none = t.request([("X-Hook0-Signature", "t=\(ts),v1=" + Hex.string(t.hmac("s", "\(ts)...\(body)")))], body: body)
        #expect((try? t.verify(hook0, none, ["s"]).get()) != nil)
        let tooMany = (0...64).map { "h\($0)" }.joined(separator: " ")
        #expect(t.verify(hook0, t.request([("X-Hook0-Signature", signature(tooMany, "x"))], body: body), ["s"]) == .failure(.malformedSignature))
    }

    @Test func contentfulSignsTheSortedNamedHeadersAndThePathCalled() throws {
        let contentful = try #require(Repo.profiles["contentful"])
        let ts = String(TemplateExtensionTests.now), body = #"{"sys":{"id":"e1"}}"#
        let list = "x-contentful-crn,x-contentful-signed-headers,x-contentful-timestamp,x-contentful-topic"
        let canonical = "POST\n/hooks/cf\nx-contentful-crn:crn:1;x-contentful-signed-headers:\(list);x-contentful-timestamp:\(ts);x-contentful-topic:Entry.publish\n\(body)"
        let headers = [("x-contentful-crn", "crn:1"), ("x-contentful-topic", "Entry.publish"), ("x-contentful-timestamp", ts),
                       ("x-contentful-signed-headers", "x-contentful-topic,x-contentful-crn"), ("x-contentful-signature", Hex.string(t.hmac("s", canonical)))]
        let url = "https://gateway.example/hooks/cf"
        #expect((try? t.verify(contentful, t.request(headers, body: body), ["s"], publicURL: url).get()) != nil)
        #expect(t.verify(contentful, t.request(headers, body: body), ["s"], publicURL: "https://gateway.example/other") == .failure(.signatureMismatch))
        let changed = headers.map { $0.0 == "x-contentful-topic" ? ($0.0, "Entry.delete") : $0 }
        #expect(t.verify(contentful, t.request(changed, body: body), ["s"], publicURL: url) == .failure(.signatureMismatch))
        // The same request with the request's own path when no public URL is set.
        var direct = t.request(headers, body: body)
        direct.path = "/hooks/cf"
        #expect((try? t.verify(contentful, direct, ["s"]).get()) != nil)
    }

    @Test func aSignedHeaderListMustBeDeclaredExactlyWhenTheTemplateUsesIt() throws {
        #expect(throws: ConfigError.self) { try t.profile("headers = [\"h\"]\nalgorithm = \"hmac-sha256\"\nsigned_content = \"{signed_headers}\"") }
        #expect(throws: ConfigError.self) { try t.profile("headers = [\"h\"]\nalgorithm = \"hmac-sha256\"\nsigned_headers_from = \"signature:h\"") }
        #expect(throws: ConfigError.self) { try t.profile("from = [\"json:/s\"]\nfor_each = \"/items\"\nalgorithm = \"ed25519\"") }
        #expect(throws: ConfigError.self) { try t.profile("headers = [\"h\"]\nfor_each = \"/items\"\nalgorithm = \"hmac-sha256\"") }
    }
}
