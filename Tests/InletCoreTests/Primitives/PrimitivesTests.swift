import InletCore
import Testing

@Suite("CIDR and client address")
struct CIDRTests {
    @Test func ipv4() {
        let net = CIDR("192.168.0.0/16")!
        #expect(net.contains(IPAddress("192.168.255.1")!))
        #expect(!net.contains(IPAddress("192.169.0.1")!))
        #expect(CIDR("10.1.2.3/8")!.contains(IPAddress("10.200.0.0")!))
        #expect(CIDR("0.0.0.0/0")!.contains(IPAddress("8.8.8.8")!))
        #expect(!CIDR("0.0.0.0/0")!.contains(IPAddress("2001:db8::1")!))
        #expect(CIDR("1.2.3.4")!.contains(IPAddress("1.2.3.4")!))
        #expect(!CIDR("1.2.3.4")!.contains(IPAddress("1.2.3.5")!))
    }

    @Test func ipv6AndMapped() {
        let net = CIDR("2001:db8::/32")!
        #expect(net.contains(IPAddress("2001:db8:ffff::1")!))
        #expect(!net.contains(IPAddress("2001:db9::1")!))
        #expect(CIDR("10.0.0.0/8")!.contains(IPAddress("::ffff:10.9.8.7")!))
        #expect(CIDR("::1/128")!.contains(IPAddress("[::1]")!))
        #expect(CIDR("fe80::/10")!.contains(IPAddress("fe80::1%eth0")!))
    }

    @Test(arguments: ["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.4/33", "::1/129", "1:2:3:4:5:6:7:8:9", "1::2::3", "g::1", "1.2.3.4/", "1.2.3.4/-1", "x/8"])
    func garbageIsRefused(_ text: String) {
        #expect(CIDR(text) == nil)
    }

    @Test func forwardedForOnlyFromTrustedProxies() {
        let list = IPAllowlist(allowed: [CIDR("203.0.113.0/24")!], trustedProxies: [CIDR("10.0.0.0/8")!])
        // Untrusted peer: its X-Forwarded-For is ignored.
        #expect(list.clientAddress(peer: IPAddress("198.51.100.7"), forwardedFor: ["203.0.113.5"]) == IPAddress("198.51.100.7"))
        // Trusted proxy: right-most untrusted hop wins; a client-supplied left-most entry is not believed.
        #expect(list.clientAddress(peer: IPAddress("10.0.0.2"), forwardedFor: ["203.0.113.9, 198.51.100.1, 10.0.0.9"]) == IPAddress("198.51.100.1"))
        #expect(list.clientAddress(peer: IPAddress("10.0.0.2"), forwardedFor: ["1.1.1.1", "203.0.113.5"]) == IPAddress("203.0.113.5"))
        #expect(list.permits(list.clientAddress(peer: IPAddress("10.0.0.2"), forwardedFor: ["203.0.113.5"])))
        #expect(list.clientAddress(peer: IPAddress("10.0.0.2"), forwardedFor: ["not-an-ip"]) == nil)
        #expect(!list.permits(nil))
    }
}

@Suite("Secrets, encodings, JSON")
struct PrimitivesTests {
    @Test func secretDecoding() {
        #expect(SecretEncoding.utf8.decode("whsec_abc") == Array("whsec_abc".utf8))
        #expect(SecretEncoding.base64(stripPrefix: "whsec_").decode("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?.count == 24)
        // Unpadded base64 works, as in the Standard Webhooks libraries.
        #expect(SecretEncoding.base64(stripPrefix: "whsec_").decode("whsec_YWJj") == Array("abc".utf8))
        #expect(SecretEncoding.base64(stripPrefix: "whsec_").decode("whsec_YWI") == Array("ab".utf8))
        #expect(SecretEncoding.base64(stripPrefix: "whsec_").decode("whsec_!!!") == nil)
        #expect(SecretEncoding.base64(stripPrefix: "whsec_").decode("whsec_") == nil)
        #expect(SecretEncoding.utf8.decode("") == nil)
        #expect(SecretEncoding.hex.decode("0aFF") == [0x0A, 0xFF])
        #expect(SecretEncoding.hex.decode("abc") == nil)
    }

    @Test func hexAndConstantTimeCompare() {
        #expect(Hex.string([0, 1, 0xAB, 0xFF]) == "0001abff")
        #expect(Hex.decode("0001ABff") == [0, 1, 0xAB, 0xFF])
        #expect(Hex.decode("zz") == nil)
        #expect(constantTimeEquals([1, 2, 3], [1, 2, 3]))
        #expect(!constantTimeEquals([1, 2, 3], [1, 2, 4]))
        #expect(!constantTimeEquals([1, 2, 3], [1, 2]))
    }

    @Test func jsonPointerFindsScalarsWithoutBuildingTheDocument() {
        let doc = Array(#"{"a":{"b~c":[1,{"d/e":"x\"y\u00e9\ud83d\ude00"}],"n":-1.5e3},"t":true,"z":null}"#.utf8)
        #expect(JSONScanner.scalarText(at: JSONPointer("/a/b~0c/1/d~1e")!, in: doc) == "x\"yé😀")
        #expect(JSONScanner.scalarText(at: JSONPointer("/a/n")!, in: doc) == "-1.5e3")
        #expect(JSONScanner.scalarText(at: JSONPointer("/t")!, in: doc) == "true")
        #expect(JSONScanner.scalarText(at: JSONPointer("/z")!, in: doc) == nil)
        #expect(JSONScanner.scalarText(at: JSONPointer("/a")!, in: doc) == nil)
        #expect(JSONScanner.scalarText(at: JSONPointer("/a/b~0c/5")!, in: doc) == nil)
        #expect(JSONScanner.scalarText(at: JSONPointer("/missing")!, in: doc) == nil)
        #expect(JSONPointer("no-slash") == nil)
    }

    @Test(arguments: ["", "{", "{\"a\":}", "[1,]", "{\"a\":1}x", "\"\u{01}\"", "01", "1.", "tru", "{\"a\" 1}", "[\"\\x\"]", String(repeating: "[", count: 1000)])
    func malformedJSONIsInvalid(_ text: String) {
        #expect(!JSONScanner.isValidDocument(Array(text.utf8)))
        // Extraction stops at the value it looks for: what follows is not walked (the forwarder validates the
        // whole body separately before splicing it as `data`).
        if text != "{\"a\":1}x" { #expect(JSONScanner.scalarText(at: JSONPointer("/a")!, in: Array(text.utf8)) == nil) }
    }

    @Test(arguments: [#"{}"#, #"[]"#, #" {"a":[1,2,{"b":null}],"c":"\u0041"} "#, "0", "-0.1E+2", #""x""#])
    func wellFormedJSONIsValid(_ text: String) {
        #expect(JSONScanner.isValidDocument(Array(text.utf8)))
    }

    @Test func rfc3339RoundTrip() {
        #expect(RFC3339.format(0) == "1970-01-01T00:00:00.000Z")
        #expect(RFC3339.format(1_767_225_600_123) == "2026-01-01T00:00:00.123Z")
        #expect(RFC3339.format(951_782_400_000) == "2000-02-29T00:00:00.000Z")
        #expect(RFC3339.parse("2026-01-01T00:00:00.123Z") == 1_767_225_600_123)
        #expect(RFC3339.parse("2026-01-01T01:00:00+01:00") == 1_767_225_600_000)
        #expect(RFC3339.parse("2023-06-07T14:30:00.123456789Z") == 1_686_148_200_123)
        #expect(RFC3339.parse("2026-13-01T00:00:00Z") == nil)
        #expect(RFC3339.parse("yesterday") == nil)
    }
}

@Suite("CloudEvents, internal signing, retries")
struct EnvelopeTests {
    @Test func cloudEventSplicesJSONBodyByteForByte() {
        let body = Array(#"{"id":"evt_1", "amount":  1.50,"name":"\u00e9"}"#.utf8)
        let ce = CloudEvent(id: "evt_X", source: "/sources/stripe", type: "invoice.paid", time: 1_767_225_600_000, body: body,
                            bodyContentType: "application/json", extensions: [("inletprovider", "stripe")])
        let json = String(decoding: ce.encodeJSON(), as: UTF8.self)
        #expect(json == #"{"specversion":"1.0","id":"evt_X","source":"/sources/stripe","type":"invoice.paid","time":"2026-01-01T00:00:00.000Z","inletprovider":"stripe","datacontenttype":"application/json","data":{"id":"evt_1", "amount":  1.50,"name":"\u00e9"}}"#)
        #expect(JSONScanner.isValidDocument(ce.encodeJSON()))
    }

    @Test func nonJSONBodyTravelsAsBase64() {
        let ce = CloudEvent(id: "i", source: "s", type: "t", time: 0, body: Array("a=1&b=\"2\"".utf8), bodyContentType: "application/x-www-form-urlencoded", extensions: [])
        let json = String(decoding: ce.encodeJSON(), as: UTF8.self)
        #expect(json.contains(#""datacontenttype":"application/x-www-form-urlencoded","data_base64":"YT0xJmI9IjIi""#))
    }

    @Test func standardWebhooksSignerMatchesTheSpecVector() throws {
        // standard-webhooks libraries/python/tests: sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, '{"test": 2432232314}')
        let signer = try StandardWebhooksSigner(secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"])
        #expect(signer.signature(id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestampSeconds: 1_614_265_330, body: Array(#"{"test": 2432232314}"#.utf8))
                == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        let two = try StandardWebhooksSigner(secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_YWJjZGVmZ2hpamtsbW5vcA=="])
        let header = two.signature(id: "m", timestampSeconds: 10, body: [1])
        #expect(header.split(separator: " ").count == 2)
        let onlyOld = try StandardWebhooksSigner(secrets: ["whsec_YWJjZGVmZ2hpamtsbW5vcA=="])
        #expect(onlyOld.verify(id: "m", timestamp: "10", signatureHeader: header, body: [1], now: 10_000))
        #expect(!onlyOld.verify(id: "m", timestamp: "10", signatureHeader: header, body: [2], now: 10_000))
        #expect(!onlyOld.verify(id: "m", timestamp: "10", signatureHeader: header, body: [1], now: 10_000 + 301_000))
        #expect(throws: StandardWebhooksSigner.SignerError.self) { try StandardWebhooksSigner(secrets: ["whsec_***"]) }
    }

    /// Hardening 2: the development sink (inside the gateway in the default config) trapped on `ts * 1000` for a huge
    /// `webhook-timestamp`.
    @Test func standardWebhooksVerifyReadsTheTimestampOverflowSafely() throws {
        let signer = try StandardWebhooksSigner(secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"])
        let header = signer.signature(id: "m", timestampSeconds: 1_767_225_600, body: [1])
        #expect(signer.verify(id: "m", timestamp: "1767225600", signatureHeader: header, body: [1], now: 1_767_225_600_000))
        for ts in ["10000000000000000", "9223372036854775807", "99999999999999999999", "-1767225600", "+1767225600", " 1767225600", "1.5", ""] {
            #expect(!signer.verify(id: "m", timestamp: ts, signatureHeader: header, body: [1], now: 1_767_225_600_000), "\(ts)")
        }
        // Within the tolerance in both directions, in seconds.
        #expect(signer.verify(id: "m", timestamp: "1767225600", signatureHeader: header, body: [1], now: 1_767_225_900_999))
        #expect(!signer.verify(id: "m", timestamp: "1767225600", signatureHeader: header, body: [1], now: 1_767_225_901_000))
        #expect(signer.verify(id: "m", timestamp: "1767225600", signatureHeader: header, body: [1], now: 1_767_225_300_000))
        #expect(!signer.verify(id: "m", timestamp: "1767225600", signatureHeader: header, body: [1], now: 1_767_225_299_000))
    }

    @Test func retryDelaysGrowWithJitterAndCap() {
        let p = RetryPolicy(initialDelayMillis: 1000, maxDelayMillis: 60_000, maxAttempts: 10)
        #expect(p.ceiling(afterAttempt: 1) == 1000)
        #expect(p.ceiling(afterAttempt: 2) == 2000)
        #expect(p.ceiling(afterAttempt: 7) == 60_000)
        #expect(p.ceiling(afterAttempt: 500) == 60_000)
        #expect(p.delay(afterAttempt: 3, unitRandom: 0) == 0)
        #expect(p.delay(afterAttempt: 3, unitRandom: 0.5) == 2000)
        #expect(p.delay(afterAttempt: 3, unitRandom: 1) == 4000)
        #expect(RetryStatuses.default.verdict(forStatus: 204) == .delivered)
        for s in [408, 425, 429, 500, 503] { #expect(RetryStatuses.default.verdict(forStatus: s) == .retry) }
        for s in [301, 400, 401, 404, 410] { #expect(RetryStatuses.default.verdict(forStatus: s) == .reject) }
    }

    @Test func eventIDsAreUniqueAndTimeOrdered() {
        let a = InletEventID.make(millis: 1_000), b = InletEventID.make(millis: 2_000)
        #expect(a.count == 30 && a.hasPrefix("evt_"))
        #expect(a < b)
        #expect(Set((0..<1000).map { _ in InletEventID.make(millis: 5) }).count == 1000)
    }

    /// IDs from the batched kernel randomness stay unique across threads and past a refill of the batch, and use
    /// only the ULID alphabet.
    @Test func pooledEventIDsAreUniqueAcrossThreads() async {
        let ids = await withTaskGroup(of: [String].self) { group in
            for _ in 0..<4 { group.addTask { (0..<1000).map { _ in InletEventID.make(millis: 7) } } }
            var all: [String] = []
            for await part in group { all += part }
            return all
        }
        #expect(Set(ids).count == 4000)
        let alphabet = Set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
        #expect(ids.allSatisfy { $0.dropFirst(4).allSatisfy(alphabet.contains) && $0.count == 30 })
    }

    /// A seeded generator gives the same IDs as before the batching (tests and tools rely on it).
    @Test func seededEventIDIsStable() {
        struct Fixed: RandomNumberGenerator {
            var values: [UInt64]
            mutating func next() -> UInt64 { values.removeFirst() }
        }
        var g = Fixed(values: [0, UInt64.max])
        #expect(InletEventID.make(millis: 0, random: &g) == "evt_" + String(repeating: "0", count: 10) + String(repeating: "0", count: 12) + "ZZZZ")
    }
}

@Suite("Timestamp parsing")
struct TimestampParsingTests {
    @Test func secondsThatDoNotFitInMillisecondsAreMalformed() {
        #expect(ProviderProfile.parseTimestamp("1767225600", unit: .seconds) == 1_767_225_600_000)
        #expect(ProviderProfile.parseTimestamp("9223372036854775", unit: .seconds) == 9_223_372_036_854_775_000)
        #expect(ProviderProfile.parseTimestamp("9223372036854776", unit: .seconds) == nil)
        #expect(ProviderProfile.parseTimestamp("9999999999999999", unit: .seconds) == nil)
        #expect(ProviderProfile.parseTimestamp("9999999999999999", unit: .milliseconds) == 9_999_999_999_999_999)
        #expect(ProviderProfile.parseTimestamp("99999999999999999", unit: .milliseconds) == nil)
        #expect(ProviderProfile.parseTimestamp("-1", unit: .seconds) == nil)
    }
}

@Suite("Form and query decoding")
struct FormDecodingTests {
    func parameter(_ query: String, _ name: String) -> String? {
        IncomingRequest(method: "POST", path: "/", query: query, headers: HTTPHeaderList([]), body: [], peer: nil, receivedAt: 0).queryParameter(name)
    }

    /// Decoded byte by byte, as Foundation's `removingPercentEncoding` after `+` → space would, including what it
    /// refuses (then the text stays as it came).
    @Test(arguments: ["plain", "a+b", "a%20b", "%E2%82%AC", "caf%C3%A9+cr%C3%A8me", "%41%42%43", "%4a%4A", "x%", "x%4", "%G1", "%FF%FE",
                      "100%25", "+%2B+", "", "%C3", "%e2%82%ac", "ä+ö"])
    func matchesFoundation(_ raw: String) {
        let expected = raw.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? raw
        #expect(parameter("k=\(raw)", "k") == expected, "value \(raw)")
        #expect(parameter("\(raw)=v", expected) == "v", "name \(raw)")
    }
}
