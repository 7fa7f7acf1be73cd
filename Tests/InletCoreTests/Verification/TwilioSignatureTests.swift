import InletConfig
import InletCore
import Testing
import InletTesting

/// Twilio's SharedKey signatures: `X-Twilio-Webhooks-Signature-Settings: key=…,algorithm=HMAC_SHA256` (Hardening 11).
@Suite("Twilio signature algorithms")
struct TwilioSignatureTests {
    let url = "https://mycompany.com/myapp.php"
    let query = "foo=1&bar=2"
    let body = "CallSid=CA1234567890ABCDE&Caller=%2B12349013030&Digits=1234&From=%2B12349013030&To=%2B18005551212"

    func policy(secret: String) throws -> ResolvedSource {
        let profile = try #require(Repo.profiles["twilio"])
        return ResolvedSource(name: "twilio", path: "/hooks/twilio", profile: profile, keys: [try #require(profile.makeKey(label: "k0", secret: secret))],
                            verification: VerificationOptions(publicURL: url), destinations: [])
    }

    func request(_ headers: [(String, String)]) -> IncomingRequest {
        IncomingRequest(method: "POST", path: "/hooks/twilio", query: query, headers: HTTPHeaderList(headers), body: Array(body.utf8), peer: nil, receivedAt: 0)
    }

    /// Known answers from twilio-python's `RequestValidator.compute_signature(url, params, algorithm)` (9.x), token "12345".
    @Test func sha256SignatureNamedBySettingsHeaderVerifies() throws {
        let p = try policy(secret: "12345")
        let sha256 = "Rmm4Vzj+Ky7JGoWXMCsZDZuHDszLr9xvdbvitrDr4/M="
        let sha1 = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
        let settings = ("X-Twilio-Webhooks-Signature-Settings", "key=webhooks_sharedkey_1,algorithm=HMAC_SHA256")
        guard case .admit = p.admit(request([("X-Twilio-Signature", sha256), settings]), now: 0) else { Issue.record("SHA-256 refused"); return }
        // The same SHA-256 signature without the settings header is checked as SHA-1: refused.
        #expect(p.admit(request([("X-Twilio-Signature", sha256)]), now: 0) == .reject(.signatureMismatch))
        // The Auth Token's SHA-1 signature still verifies without the header, and with an explicit HMAC_SHA1.
        guard case .admit = p.admit(request([("X-Twilio-Signature", sha1)]), now: 0) else { Issue.record("SHA-1 refused"); return }
        guard case .admit = p.admit(request([("X-Twilio-Signature", sha1), ("X-Twilio-Webhooks-Signature-Settings", "key=x, algorithm = hmac_sha1")]), now: 0) else {
            Issue.record("explicit SHA-1 refused"); return
        }
        // A SHA-1 signature claimed to be SHA-256 does not verify.
        #expect(p.admit(request([("X-Twilio-Signature", sha1), settings]), now: 0) == .reject(.signatureMismatch))
    }

    @Test func unknownAlgorithmIsRefusedAsUnsupported() throws {
        let p = try policy(secret: "12345")
        let r = request([("X-Twilio-Signature", "Rmm4Vzj+Ky7JGoWXMCsZDZuHDszLr9xvdbvitrDr4/M="), ("X-Twilio-Webhooks-Signature-Settings", "key=k,algorithm=HMAC_SHA512")])
        #expect(p.admit(r, now: 0) == .reject(.noSupportedSignature))
    }
}
