@testable import InletCore
import Testing

@Suite("Signature header parsing")
struct SignatureHeaderParserTests {
    let stripe = SignatureHeaderFormat.keyValue(pairSeparator: ",", keyValueSeparator: "=", signatureKeys: ["v1"])
    let standard = SignatureHeaderFormat.versionedList(entrySeparator: " ", versionSeparator: ",", versions: ["v1"])

    @Test func keyValueCollectsRepeatedSignaturesAndFields() throws {
        let p = try SignatureHeaderParser.parse("t=123,v1=aa,v0=zz,v1=bb", format: stripe).get()
        #expect(p.signatures == [Array("aa".utf8), Array("bb".utf8)])
        #expect(p.fields == ["t": "123", "v0": "zz"])
    }

    @Test func keyValueToleratesWhitespaceAndEmptyPairs() throws {
        let p = try SignatureHeaderParser.parse("  t = 1 ,, v1= aa ,", format: stripe).get()
        #expect(p.signatures == [Array("aa".utf8)])
        #expect(p.fields["t"] == "1")
    }

    @Test func keyValueFirstTimestampWins() throws {
        let p = try SignatureHeaderParser.parse("t=1,t=2,v1=aa", format: stripe).get()
        #expect(p.fields["t"] == "1")
    }

    @Test func keyValueValueMayContainSeparator() throws {
        // base64 padding contains '='; only the first '=' splits key from value.
        let p = try SignatureHeaderParser.parse("v1=YWJj==", format: stripe).get()
        #expect(p.signatures == [Array("YWJj==".utf8)])
    }

    @Test(arguments: ["", "   ", "garbage", ",,,", "=abc", "v1=", "t="])
    func keyValueGarbageIsMalformed(_ header: String) {
        #expect(SignatureHeaderParser.parse(header, format: stripe) == .failure(.malformedSignature))
    }

    @Test func keyValueWithoutAcceptedKeyIsUnsupported() {
        #expect(SignatureHeaderParser.parse("t=1,v0=abc", format: stripe) == .failure(.noSupportedSignature))
        #expect(SignatureHeaderParser.parse("T=1,V1=abc", format: stripe) == .failure(.noSupportedSignature))
    }

    @Test func versionedListSkipsUnknownVersions() throws {
        let p = try SignatureHeaderParser.parse("v1a,xyz v1,abc= v2,def  v1,ghi", format: standard).get()
        #expect(p.signatures == [Array("abc=".utf8), Array("ghi".utf8)])
        #expect(SignatureHeaderParser.parse("v1a,xyz", format: standard) == .failure(.noSupportedSignature))
        #expect(SignatureHeaderParser.parse("v1", format: standard) == .failure(.malformedSignature))
        #expect(SignatureHeaderParser.parse("v1,", format: standard) == .failure(.malformedSignature))
    }

    @Test func keyValueWithOtherSeparatorsAndNonASCIIBytes() throws {
        let paddle = SignatureHeaderFormat.keyValue(pairSeparator: ";", keyValueSeparator: "=", signatureKeys: ["h1"])
        let p = try SignatureHeaderParser.parse("ts=1;h1=abc;é=ü", format: paddle).get()
        #expect(p.signatures == [Array("abc".utf8)])
        #expect(p.fields == ["ts": "1", "é": "ü"])
        let long = SignatureHeaderFormat.keyValue(pairSeparator: ", ", keyValueSeparator: ":=", signatureKeys: ["sig"])
        let q = try SignatureHeaderParser.parse("t:=9, sig:=a:=b,c", format: long).get()
        #expect(q.signatures == [Array("a:=b,c".utf8)])
        #expect(q.fields["t"] == "9" && q.fields.count == 1)
    }

    /// The prepared (once per secret) HMAC state gives the same MAC as a fresh key, fed in pieces, every time.
    @Test(arguments: HashFunction.allCases)
    func preparedHMACMatchesAFreshKey(_ hash: HashFunction) {
        let key = Array("whsec_test_secret_0123456789".utf8), message = Array("1700000000.{\"id\":\"evt_1\"}".utf8)
        let prepared = PreparedHMAC(key: key)
        for _ in 0..<2 {
            let mac = hash.mac(prepared) { update in
                message[..<11].withUnsafeBytes(update)
                message[11...].withUnsafeBytes(update)
            }
            #expect(mac == hash.mac(key: key, message: message))
        }
    }

    @Test func plainRequiresItsPrefix() throws {
        let f = SignatureHeaderFormat.plain(prefix: "sha256=")
        #expect(try SignatureHeaderParser.parse(" sha256=abc ", format: f).get().signatures == [Array("abc".utf8)])
        #expect(SignatureHeaderParser.parse("sha1=abc", format: f) == .failure(.malformedSignature))
        #expect(SignatureHeaderParser.parse("SHA256=abc", format: f) == .failure(.malformedSignature))
        #expect(SignatureHeaderParser.parse("sha256=", format: f) == .failure(.malformedSignature))
    }
}

@Suite("Verification edges")
struct VerificationTests {
    static let secret = Array("whsec_test_secret".utf8)
    static let stripeLike = ProviderProfile(
        name: "stripe-like", displayName: "x",
        signatures: [SignatureSpec(sources: [.header("Stripe-Signature")], format: .keyValue(pairSeparator: ",", keyValueSeparator: "=", signatureKeys: ["v1"]),
                                   algorithm: .hmac(.sha256), encoding: .hex, signedContent: try! SignedContentTemplate("{timestamp}.{body}"))],
        secretEncoding: .utf8,
        timestamp: TimestampSpec(sources: [.signatureField("t")], unit: .seconds, toleranceSeconds: 300, futureToleranceSeconds: 60),
        event: EventSpec(idSources: [.json(JSONPointer("/id")!)], typeSources: [.json(JSONPointer("/type")!)]))

    func request(ts: Int64, body: String = #"{"id":"evt_1","type":"invoice.paid"}"#, mangle: (String) -> String = { $0 }) -> IncomingRequest {
        let headers = Self.stripeLike.sign(body: Array(body.utf8), key: Self.secret, timestampSeconds: ts, id: "")
        return IncomingRequest(method: "POST", path: "/", headers: HTTPHeaderList(headers.map { ($0.0, mangle($0.1)) }), body: Array(body.utf8), peer: nil, receivedAt: 0)
    }

    let key = VerificationKey(label: "k", keyBytes: VerificationTests.secret)
    let now: EpochMillis = 1_767_225_600_000

    @Test func toleranceEdgesInBothDirections() {
        let base = now / 1000
        #expect(throws: Never.self) { try Self.stripeLike.verify(request(ts: base - 300), keys: [key], now: now).get() }
        #expect(Self.stripeLike.verify(request(ts: base - 301), keys: [key], now: now) == .failure(.timestampOutsideTolerance(skewSeconds: -301)))
        #expect(throws: Never.self) { try Self.stripeLike.verify(request(ts: base + 60), keys: [key], now: now).get() }
        #expect(Self.stripeLike.verify(request(ts: base + 61), keys: [key], now: now) == .failure(.timestampOutsideTolerance(skewSeconds: 61)))
        // A per-source override applies to both directions.
        #expect(throws: Never.self) { try Self.stripeLike.verify(request(ts: base - 900), keys: [key], options: .init(toleranceSeconds: 900), now: now).get() }
    }

    @Test func staleButForgedIsAMismatchNotStale() {
        // Freshness is judged only after the signature matched.
        let r = request(ts: now / 1000 - 10_000) { $0.replacingOccurrences(of: "v1=", with: "v1=00") }
        #expect(Self.stripeLike.verify(r, keys: [key], now: now) == .failure(.signatureMismatch))
    }

    @Test func almostRightSignaturesAreRejected() {
        let ts = now / 1000
        let cases: [(String) -> String] = [
            { $0.uppercased().replacingOccurrences(of: "T=", with: "t=").replacingOccurrences(of: "V1=", with: "v1=") },  // upper-case hex
            { String($0.dropLast(2)) },  // truncated
            { $0.replacingOccurrences(of: "t=\(ts)", with: "t=\(ts - 1)") },  // timestamp edited
            { $0.replacingOccurrences(of: "v1=", with: "v2=") },  // other version
        ]
        for mangle in cases {
            let result = Self.stripeLike.verify(request(ts: ts, mangle: mangle), keys: [key], now: now)
            #expect(result != .success(VerifiedSignature(keyIndex: 0, timestamp: ts * 1000)))
        }
    }

    @Test func missingAndMalformedTimestamp() {
        let body = Array("{}".utf8)
        let noTs = IncomingRequest(method: "POST", path: "/", headers: HTTPHeaderList([("Stripe-Signature", "v1=abcd")]), body: body, peer: nil, receivedAt: 0)
        #expect(Self.stripeLike.verify(noTs, keys: [key], now: now) == .failure(.missingTimestamp))
        let badTs = IncomingRequest(method: "POST", path: "/", headers: HTTPHeaderList([("Stripe-Signature", "t=-12,v1=abcd")]), body: body, peer: nil, receivedAt: 0)
        #expect(Self.stripeLike.verify(badTs, keys: [key], now: now) == .failure(.malformedTimestamp))
        let none = IncomingRequest(method: "POST", path: "/", headers: HTTPHeaderList(), body: body, peer: nil, receivedAt: 0)
        #expect(Self.stripeLike.verify(none, keys: [key], now: now) == .failure(.missingSignature))
    }

    @Test func admissionExtractsIDTypeAndFallsBackToBodyHash() {
        let policy = ResolvedSource(name: "s", path: "/hooks/s", profile: Self.stripeLike, keys: [key], destinations: ["d"])
        guard case .admit(let a) = policy.admit(request(ts: now / 1000), now: now) else { Issue.record("rejected"); return }
        #expect(a.eventKey == "evt_1")
        #expect(a.keyOrigin == .provider)
        #expect(a.eventType == "invoice.paid")
        #expect(a.secretLabel == "k")

        let noID = request(ts: now / 1000, body: #"{"object":"event"}"#)
        guard case .admit(let b) = policy.admit(noID, now: now) else { Issue.record("rejected"); return }
        #expect(b.keyOrigin == .bodyHash)
        #expect(b.eventKey == sha256Hex(Array(#"{"object":"event"}"#.utf8)))
    }

    @Test func admissionChecksAddressBeforeSignature() {
        var policy = ResolvedSource(name: "s", path: "/hooks/s", profile: Self.stripeLike, keys: [key], destinations: [])
        policy.allowlist = IPAllowlist(allowed: [CIDR("10.0.0.0/8")!])
        var r = request(ts: now / 1000) { _ in "garbage" }
        r.peer = IPAddress("192.168.1.1")
        #expect(policy.admit(r, now: now) == .reject(.ipNotAllowed))
        r.peer = IPAddress("10.1.2.3")
        #expect(policy.admit(r, now: now) == .reject(.malformedSignature))
    }

    @Test func reasonCodesMapToStatuses() {
        #expect(RejectionReason.signatureMismatch.httpStatus == 401)
        #expect(RejectionReason.timestampOutsideTolerance.httpStatus == 401)
        #expect(RejectionReason.missingSignature.httpStatus == 401)
        #expect(RejectionReason.ipNotAllowed.httpStatus == 403)
        #expect(RejectionReason.malformedRequest.httpStatus == 400)
        #expect(RejectionReason.bodyTooLarge.httpStatus == 413)
        #expect(RejectionReason.storeUnavailable.httpStatus == 503)
        #expect(Set(RejectionReason.allCases.map(\.rawValue)).count == RejectionReason.allCases.count)
    }
}
