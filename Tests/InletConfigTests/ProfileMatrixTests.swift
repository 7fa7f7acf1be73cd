import Foundation
import InletConfig
import InletCore
import Testing

/// Every shipped shared-secret profile through the same checks: valid, tampered, wrong secret, rotated secret,
/// missing header, garbage header, and stale/future timestamps where the provider signs one. Requests are signed with
/// `ProviderProfile.sign`, which the known-answer vectors pin to each provider's real scheme.
struct MatrixProfile: CustomTestStringConvertible, Sendable {
    let name: String
    var testDescription: String { name }

    static let all: [MatrixProfile] = Repo.profiles.values.filter { p in
        guard let spec = p.signatures.first(where: { !$0.legacy }), case .header = spec.sources.first else { return false }
        if spec.algorithm.usesPublicKey || spec.algorithm.usesSigningCertificate { return false }
        if case .json? = p.timestamp?.sources.first { return false }  // timestamp inside the body (Linear): fixtures cover it
        return true
    }.map { MatrixProfile(name: $0.name) }.sorted { $0.name < $1.name }
}

@Suite("Every profile: the forgery matrix")
struct ProfileMatrixTests {
    static let now: EpochMillis = 1_767_225_600_000

    func secret(_ profile: ProviderProfile, _ seed: String) -> String {
        if case .base64(let prefix) = profile.secretEncoding { return prefix + Base64.encode(Array("secret-\(seed)-0123456789abcdef".utf8)) }
        return "secret-\(seed)"
    }

    func signed(_ profile: ProviderProfile, secret: String, body: String, at seconds: Int64 = now / 1000) -> IncomingRequest {
        let key = profile.makeKey(label: "x", secret: secret)!.keyBytes
        let url = "https://hooks.example.com/hooks/\(profile.name)"
        var headers = profile.sign(body: Array(body.utf8), key: key, timestampSeconds: seconds, id: "msg_matrix_1", publicURL: url)
        headers.append(("Content-Type", "application/json"))
        return IncomingRequest(method: "POST", path: "/", headers: HTTPHeaderList(headers), body: Array(body.utf8), peer: nil, receivedAt: Self.now)
    }

    func policy(_ profile: ProviderProfile, secrets: [String]) -> SourcePolicy {
        SourcePolicy(name: profile.name, path: "/", profile: profile,
                     keys: secrets.enumerated().map { profile.makeKey(label: "k\($0.offset)", secret: $0.element)! },
                     verification: VerificationOptions(publicURL: "https://hooks.example.com/hooks/\(profile.name)"), destinations: [])
    }

    @Test func theMatrixCoversTheCatalog() {
        #expect(MatrixProfile.all.count >= 25)
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

        if algorithm != .token {  // a shared token does not cover the body
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
