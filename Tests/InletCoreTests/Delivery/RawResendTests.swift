import InletConfig
import InletCore
import Testing
import InletTesting

@Suite("Raw resend (replay --to)")
struct RawResendTests {
    let body = Array(#"{"id":"evt_raw_1","type":"invoice.paid"}"#.utf8)
    let original: [(String, String)] = [
        ("Host", "hooks.example.com"), ("Content-Length", "41"), ("Connection", "keep-alive"), ("Content-Type", "application/json"),
        ("Stripe-Signature", "t=1700000000,v1=deadbeef"), ("User-Agent", "Stripe/1.0"),
    ]

    @Test func keepsTheOriginalHeadersButNotTheConnectionOnes() {
        let headers = RawResend.headers(original: original, body: body, method: "POST", url: "http://127.0.0.1:3000/hooks", resign: nil)
        #expect(headers.map(\.0) == ["Content-Type", "Stripe-Signature", "User-Agent"])
        #expect(headers.first { $0.0 == "Stripe-Signature" }?.1 == "t=1700000000,v1=deadbeef")
    }

    /// One list serves `replay --to` and `raw` deliveries (they differed: a replay copied `Proxy-Authorization`,
    /// a raw delivery copied `Proxy-Connection`).
    @Test func proxyCredentialsAndConnectionHeadersAreNeverCopied() {
        let withProxy = original + [("Proxy-Authorization", "Basic c2VjcmV0"), ("Proxy-Connection", "keep-alive"), ("TE", "trailers")]
        let headers = RawResend.headers(original: withProxy, body: body, method: "POST", url: "http://127.0.0.1:3000/hooks", resign: nil)
        #expect(headers.map(\.0) == ["Content-Type", "Stripe-Signature", "User-Agent"])
        #expect(["proxy-authorization", "proxy-connection", "proxy-authenticate"].allSatisfy(HTTPHeaderList.connectionLevel.contains))
    }

    /// Re-signed, the request verifies under the provider's scheme now, and the stale signature is gone.
    @Test(arguments: ["stripe", "standard-webhooks", "github", "shopify"])
    func resignedRequestVerifiesNow(provider: String) throws {
        let profile = try #require(Repo.profiles[provider])
        let secret = provider == "standard-webhooks" ? "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" : "whsec_local_dev_secret"
        let key = try #require(profile.makeKey(label: "dev", secret: secret))
        let now: EpochMillis = 1_800_000_000_000
        let headers = RawResend.headers(original: original, body: body, method: "POST", url: "http://127.0.0.1:3000/hooks",
                                        resign: .init(profile: profile, key: key.keyBytes, eventID: "evt_raw_1", nowSeconds: now / 1000))
        if provider == "stripe" { #expect(!headers.contains { $0.1 == "t=1700000000,v1=deadbeef" }) }  // the stale signature is replaced
        let request = IncomingRequest(method: "POST", path: "/hooks", headers: HTTPHeaderList(headers), body: body, peer: nil, receivedAt: now)
        #expect(throws: Never.self) { try profile.verify(request, keys: [key], now: now).get() }
        // Without re-signing, the original (forged here) signature does not verify.
        let plain = RawResend.headers(original: original, body: body, method: "POST", url: "http://x", resign: nil)
        let unsigned = IncomingRequest(method: "POST", path: "/hooks", headers: HTTPHeaderList(plain), body: body, peer: nil, receivedAt: now)
        #expect(throws: VerificationFailure.self) { try profile.verify(unsigned, keys: [key], now: now).get() }
    }
}
