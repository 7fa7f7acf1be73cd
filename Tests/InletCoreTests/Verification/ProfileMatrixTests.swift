import Foundation
import InletConfig
import InletCore
import Testing
import InletTesting

/// Every shipped shared-secret profile through the same checks: valid, tampered, wrong secret, rotated secret,
/// missing header, garbage header, and stale/future timestamps where the provider signs one. Requests are signed with
/// `ProviderProfile.sign`, which the known-answer vectors pin to each provider's real scheme.
struct MatrixProfile: CustomTestStringConvertible, Sendable {
    let name: String
    var testDescription: String { name }

    static let all: [MatrixProfile] = Repo.profiles.values.filter { p in
        guard let spec = p.signatures.first(where: { !$0.legacy }), case .header = spec.sources.first else { return false }
        if spec.algorithm.usesPublicKey || spec.algorithm.usesSigningCertificate { return false }
        if spec.algorithm == .jwt { return false }  // their own matrix, from real tokens: JWTSchemeTests, JWTKeySetTests
        if case .json? = p.timestamp?.sources.first { return false }  // timestamp inside the body (Linear): fixtures cover it
        return true
    }.map { MatrixProfile(name: $0.name) }.sorted { $0.name < $1.name }
}

@Suite("Every profile: the forgery matrix")
struct ProfileMatrixTests {
    static let now: EpochMillis = 1_767_225_600_000

    func secret(_ profile: ProviderProfile, _ seed: String) -> String {
        if case .base64(let prefix) = profile.secretEncoding { return prefix + Base64.encode(Array("secret-\(seed)-0123456789abcdef".utf8)) }
        if case .hex = profile.secretEncoding { return Hex.string(Array("secret-\(seed)-0123456789abcdef".utf8)) }  // Adyen
        return "secret-\(seed)"
    }

    func signed(_ profile: ProviderProfile, secret: String, body: String, at seconds: Int64 = now / 1000) -> IncomingRequest {
        let key = profile.makeKey(label: "x", secret: secret)!.keyBytes
        let url = "https://hooks.example.com/hooks/\(profile.name)"
        var headers = profile.sign(body: Array(body.utf8), key: key, timestampSeconds: seconds, id: "msg_matrix_1", publicURL: url)
        headers.append(("Content-Type", "application/json"))
        return IncomingRequest(method: "POST", path: "/", headers: HTTPHeaderList(headers), body: Array(body.utf8), peer: nil, receivedAt: Self.now)
    }

    func policy(_ profile: ProviderProfile, secrets: [String]) -> ResolvedSource {
        ResolvedSource(name: profile.name, path: "/", profile: profile,
                     keys: secrets.enumerated().map { profile.makeKey(label: "k\($0.offset)", secret: $0.element)! },
                     verification: VerificationOptions(publicURL: "https://hooks.example.com/hooks/\(profile.name)"), destinations: [])
    }

    @Test func theMatrixCoversTheCatalog() {
        // 105 of the 113 shipped profiles: all but the public-key and certificate schemes (Discord, SendGrid, Telnyx,
        // SNS, PayPal), those whose signature is in the body (Mailgun) and those with a body timestamp (Linear, Pusher).
        #expect(MatrixProfile.all.count >= 105)
        for name in ["openai", "workos", "razorpay", "chargebee", "orb", "sinch", "buildkite", "render"] {
            #expect(MatrixProfile.all.contains { $0.name == name }, "\(name) is not in the forgery matrix")
        }
    }

    @Test(arguments: MatrixProfile.all)
    func forgeriesFailWithTheirReason(_ m: MatrixProfile) throws {
        let profile = try #require(Repo.profiles[m.name])
        let algorithm = profile.signatures.first { !$0.legacy }!.algorithm
        let current = secret(profile, "new"), old = secret(profile, "old")
        let body = #"{"id":"evt_matrix","type":"matrix.test","event_id":"evt_matrix","data":{"n":1}}"#
        let source = policy(profile, secrets: [current, old])

        guard case .admit(let fresh) = source.admit(signed(profile, secret: current, body: body), now: Self.now) else {
            Issue.record("\(m.name): a correctly signed request was refused: \(source.admit(signed(profile, secret: current, body: body), now: Self.now))"); return
        }
        #expect(fresh.secretLabel == "k0")

        guard case .admit(let rotated) = source.admit(signed(profile, secret: old, body: body), now: Self.now) else {
            Issue.record("\(m.name): the old secret during rotation was refused"); return
        }
        #expect(rotated.secretLabel == "k1")

        #expect(source.admit(signed(profile, secret: secret(profile, "wrong"), body: body), now: Self.now) == .reject(.signatureMismatch))

        let spec = profile.signatures.first { !$0.legacy }!
        // A shared token does not cover the body, nor do schemes that sign only headers (Moov, Mercado Pago).
        if algorithm != .token && spec.signedContent.text.contains("{body}") {
            var tampered = signed(profile, secret: current, body: body)
            tampered.body = Array(body.replacingOccurrences(of: "\"n\":1", with: "\"n\":2").utf8)
            #expect(source.admit(tampered, now: Self.now) == .reject(.signatureMismatch), "\(m.name): tampered body")
            var newline = signed(profile, secret: current, body: body)
            newline.body += [0x0A]
            #expect(source.admit(newline, now: Self.now) == .reject(.signatureMismatch), "\(m.name): trailing newline")
        }

        let sigHeaders = profile.signatures.flatMap { $0.sources.compactMap { if case .header(let h) = $0 { return h.lowercased() }; return nil } }
        var unsigned = signed(profile, secret: current, body: body)
        unsigned.headers = HTTPHeaderList(unsigned.headers.entries.filter { !sigHeaders.contains($0.name.lowercased()) })
        #expect(source.admit(unsigned, now: Self.now) == .reject(.missingSignature), "\(m.name): no signature header")

        var garbage = signed(profile, secret: current, body: body)
        garbage.headers = HTTPHeaderList(garbage.headers.entries.map { sigHeaders.contains($0.name.lowercased()) ? ($0.name, "garbage") : $0 })
        let garbageResult = source.admit(garbage, now: Self.now)
        #expect([.reject(.malformedSignature), .reject(.signatureMismatch)].contains(garbageResult), "\(m.name): garbage header gave \(garbageResult)")

        if let ts = profile.timestamp {
            let past = (Self.now / 1000) - ts.toleranceSeconds - 1
            let future = (Self.now / 1000) + ts.futureToleranceSeconds + 1
            #expect(source.admit(signed(profile, secret: current, body: body, at: past), now: Self.now) == .reject(.timestampOutsideTolerance), "\(m.name): stale")
            #expect(source.admit(signed(profile, secret: current, body: body, at: future), now: Self.now) == .reject(.timestampOutsideTolerance), "\(m.name): future")
            guard case .admit = source.admit(signed(profile, secret: current, body: body, at: (Self.now / 1000) - ts.toleranceSeconds), now: Self.now) else {
                Issue.record("\(m.name): the tolerance edge was refused"); return
            }
        }
    }
}

/// Signatures that are almost right: each shared-secret profile's valid signature, changed in one small way.
@Suite("Every profile: almost-right signatures")
struct AlmostRightSignatureTests {
    let matrix = ProfileMatrixTests()
    let body = #"{"id":"evt_almost","type":"almost.test","event_id":"evt_almost","data":{"n":1}}"#

    /// The header values the scheme reads its signature from, changed by `mutate`; nil when the change does not apply.
    func mutated(_ request: IncomingRequest, _ profile: ProviderProfile, _ mutate: (String) -> String?) -> IncomingRequest? {
        let sigHeaders = Set(profile.signatures.flatMap { $0.sources.compactMap { if case .header(let h) = $0 { return h.lowercased() }; return nil } })
        var changed = false
        let entries = request.headers.entries.map { h -> (String, String) in
            guard sigHeaders.contains(h.name.lowercased()), let v = mutate(h.value), v != h.value else { return h }
            changed = true
            return (h.name, v)
        }
        guard changed else { return nil }
        var r = request
        r.headers = HTTPHeaderList(entries)
        return r
    }

    static func replaceFirst(_ pattern: String, in text: String, with transform: (String) -> String?) -> String? {
        guard let range = text.range(of: pattern, options: .regularExpression), let replacement = transform(String(text[range])) else { return nil }
        return text.replacingCharacters(in: range, with: replacement)
    }

    @Test(arguments: MatrixProfile.all)
    func almostRightIsWrong(_ m: MatrixProfile) throws {
        let profile = try #require(Repo.profiles[m.name])
        let spec = try #require(profile.signatures.first { !$0.legacy })
        let secret = matrix.secret(profile, "new")
        let source = matrix.policy(profile, secrets: [secret])
        let valid = matrix.signed(profile, secret: secret, body: body)
        guard case .admit = source.admit(valid, now: ProfileMatrixTests.now) else { Issue.record("\(m.name): valid request refused"); return }
        var tried: [String] = []
        func refused(_ what: String, _ r: IncomingRequest?) {
            guard let r else { return }
            tried.append(what)
            if case .admit = source.admit(r, now: ProfileMatrixTests.now) { Issue.record("\(m.name): \(what) was admitted: \(r.headers.entries)") }
        }
        // Truncated: the last character of the signature gone.
        refused("truncated signature", mutated(valid, profile) { String($0.dropLast()) })
        // Scheme prefixes and keys in another case (SHA256=, V1=, T=).
        refused("prefix in another case", mutated(valid, profile) { v in
            let flip: (String) -> String? = { p in p == p.uppercased() ? p.lowercased() : p.uppercased() }
            return Self.replaceFirst("^[A-Za-z][A-Za-z0-9]*[=,]", in: v, with: flip)
        })
        // A shared token in another case (tokens compare byte for byte).
        if spec.algorithm == .token {
            refused("token in another case", mutated(valid, profile) { v in v == v.uppercased() ? v.lowercased() : v.uppercased() })
        }
        // The same MAC in the other encoding: hex where base64 is expected, base64 where hex is.
        refused("other encoding", mutated(valid, profile) { v in
            let asBase64: (String) -> String? = { hex in Hex.decode(hex).map { Base64.encode($0) } }
            let asHex: (String) -> String? = { b64 in Base64.decode(b64).map { String(decoding: Hex.encode($0), as: UTF8.self) } }
            return Self.replaceFirst("[0-9a-f]{40,}", in: v, with: asBase64) ?? Self.replaceFirst("[A-Za-z0-9+/]{27,}={0,2}", in: v, with: asHex)
        })
        // Another scheme version or hash name than the one signed.
        refused("another scheme version", mutated(valid, profile) { v in
            let v2: (String) -> String? = { _ in "v2" }, v1: (String) -> String? = { _ in "v1" }, sha512: (String) -> String? = { _ in "sha512" }
            return Self.replaceFirst("v1(?=[=,])", in: v, with: v2) ?? Self.replaceFirst("v0(?=[=:])", in: v, with: v1)
                ?? Self.replaceFirst("sha256(?==)", in: v, with: sha512)
        })
        // Timestamp edited after signing (one second later), where the scheme signs the timestamp.
        if spec.signedContent.usesTimestamp, let ts = profile.timestamp {
            var edited = valid
            let bump = { (s: String) -> String? in Int64(s).map { String($0 + 1) } }
            switch ts.sources.first {
            case .header(let name)?:
                edited.headers = HTTPHeaderList(valid.headers.entries.map { $0.name.lowercased() == name.lowercased() ? ($0.name, bump($0.value) ?? $0.value + "1") : $0 })
                refused("timestamp edited", edited)
            case .signatureField(let field)?:
                refused("timestamp edited", mutated(valid, profile) { v in Self.replaceFirst("(?<=\(field)=)[0-9]+", in: v, with: bump) })
            default: break
            }
        }
        // A timestamp too large for epoch milliseconds (read before any signature is checked, so anyone can send it)
        // is malformed: refused with its reason, never a trap.
        if let ts = profile.timestamp {
            let huge = "9999999999999999"
            var far = valid
            switch ts.sources.first {
            case .header(let name)?:
                far.headers = HTTPHeaderList(valid.headers.entries.map { $0.name.lowercased() == name.lowercased() ? ($0.name, huge) : $0 })
                if ts.unit == .seconds { #expect(source.admit(far, now: ProfileMatrixTests.now) == .reject(.malformedTimestamp), "\(m.name): huge timestamp") }
                else { refused("huge timestamp", far) }
            case .signatureField(let field)?:
                let r = mutated(valid, profile) { v in Self.replaceFirst("(?<=\(field)=)[0-9]+", in: v, with: { _ in huge }) }
                if let r, ts.unit == .seconds { #expect(source.admit(r, now: ProfileMatrixTests.now) == .reject(.malformedTimestamp), "\(m.name): huge timestamp") }
                else { refused("huge timestamp", r) }
            default: break
            }
        }
        // Every profile gets the truncation and at least one other near miss; the mutations are not vacuous.
        #expect(tried.contains("truncated signature") && tried.count >= 2, "\(m.name): only \(tried)")
    }
}
