import InletCore
import InletTesting
import Testing

/// Shared secrets (admin tokens, token-scheme secrets, Meta's `verify_token`) are compared by SHA-256 digest, so the
/// time a comparison takes does not depend on whether the presented value has the secret's length.
@Suite("Secret comparison")
struct SecretComparisonTests {
    static let tokenProfile = ProviderProfile(
        name: "token-test", displayName: "token test",
        signatures: [SignatureSpec(sources: [.header("X-Token")], format: .plain(prefix: ""), algorithm: .token, encoding: .hex,
                                   signedContent: try! SignedContentTemplate("{body}"))],
        secretEncoding: .utf8, timestamp: nil, event: EventSpec(idSources: [], typeSources: []))

    @Test func equalityIsUnchanged() {
        #expect(secretsEqual("a-token", "a-token"))
        #expect(!secretsEqual("a-token", "a-tokeN"))
        #expect(!secretsEqual("a-token", "a-toke"))
        #expect(!secretsEqual("a-token", "a-token "))
        #expect(!secretsEqual("", "x") && secretsEqual("", ""))
        #expect(secretsEqual(Array("é".utf8), [0xC3, 0xA9]))
    }

    /// The observable the issue names: with a long secret, a wrong guess of the wrong length used to be refused at
    /// once, and one of the right length only after comparing every byte. Now both cost two digests. Timed as the
    /// fastest of several rounds (the least disturbed by other work on the machine); the old code differed by far
    /// more than the factor allowed here.
    @Test func aTokensLengthDoesNotShowInVerificationTime() throws {
        let length = 1 << 20
        let secret = String(repeating: "s", count: length)
        let key = VerificationKey(label: "long", keyBytes: Array(secret.utf8))
        func request(_ token: String) -> IncomingRequest {
            IncomingRequest(method: "POST", path: "/", headers: HTTPHeaderList([("X-Token", token)]), body: [], peer: nil, receivedAt: 0)
        }
        let shorter = request(String(repeating: "s", count: length - 1))
        let sameLength = request(String(repeating: "s", count: length - 1) + "x")
        #expect(throws: VerificationFailure.signatureMismatch) { try Self.tokenProfile.verify(shorter, keys: [key], now: 0).get() }
        #expect(throws: VerificationFailure.signatureMismatch) { try Self.tokenProfile.verify(sameLength, keys: [key], now: 0).get() }
        #expect(try Self.tokenProfile.verify(request(secret), keys: [key], now: 0).get().keyIndex == 0)

        let clock = ContinuousClock()
        var fastest: [Duration] = [.seconds(100), .seconds(100)]
        for _ in 0..<9 {
            for (n, r) in [shorter, sameLength].enumerated() {
                let t = clock.measure { _ = Self.tokenProfile.verify(r, keys: [key], now: 0) }
                fastest[n] = min(fastest[n], t)
            }
        }
        let ratio = max(fastest[0], fastest[1]) / min(fastest[0], fastest[1])
        #expect(ratio < 3, "wrong length \(fastest[0]), right length \(fastest[1])")
    }

    /// Meta's GET verification compares `hub.verify_token` the same way: only the exact token passes.
    @Test func verifyTokenMustMatchExactly() {
        var profile = Self.tokenProfile
        profile.handshakeRules = Repo.profiles["meta"]?.handshakeRules ?? []
        let policy = ResolvedSource(name: "meta", path: "/hooks/meta", profile: profile, keys: [],
                                  verification: VerificationOptions(verifyToken: "verify-me"))
        func get(_ token: String) -> AdmissionDecision {
            policy.admit(IncomingRequest(method: "GET", path: "/hooks/meta", query: "hub.mode=subscribe&hub.challenge=42&hub.verify_token=\(token)",
                                         headers: HTTPHeaderList(), body: [], peer: nil, receivedAt: 0), now: 0)
        }
        #expect(get("verify-me") == .handshake(HandshakeResponse(status: 200, contentType: "text/plain", body: Array("42".utf8))))
        for wrong in ["verify-m", "verify-me2", "", "VERIFY-ME"] { #expect(get(wrong) == .reject(.handshakeRefused), "\(wrong)") }
    }
}
