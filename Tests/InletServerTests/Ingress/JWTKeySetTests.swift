@preconcurrency import _CryptoExtras
@preconcurrency import Crypto
import Foundation
import InletConfig
import InletCore
import InletServer
import InletTesting
import NIOConcurrencyHelpers
import Testing

/// An RSA signing key with its JWK, for tokens signed here (RS256) and the key set a faked Google serves.
struct LocalJWTSigner: Sendable {
    let kid: String
    let privatePEM: String
    let jwk: String

    init(kid: String) throws {
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let p = try key.publicKey.getKeyPrimitives()
        self.kid = kid
        privatePEM = key.pemRepresentation
        jwk = #"{"kty":"RSA","kid":"\#(kid)","alg":"RS256","use":"sig","n":"\#(Base64URL.encode(p.modulus))","e":"\#(Base64URL.encode(p.publicExponent))"}"#
    }

    static func keySet(_ signers: [LocalJWTSigner]) -> String { #"{"keys":["# + signers.map(\.jwk).joined(separator: ",") + "]}" }

    func token(claims: String, alg: String = "RS256", kid: String? = nil) throws -> String {
        let header = #"{"alg":"\#(alg)","kid":"\#(kid ?? self.kid)","typ":"JWT"}"#
        let input = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(claims.utf8))
        let key = try _RSA.Signing.PrivateKey(pemRepresentation: privatePEM)
        let sig = try key.signature(for: SHA256.hash(data: Array(input.utf8)), padding: .insecurePKCS1v1_5)
        return input + "." + Base64URL.encode(sig.rawRepresentation)
    }
}

/// A key set host: serves `document` (or fails, or hangs) and counts fetches.
final class FakeKeySetHost: CertificateFetcher, Sendable {
    enum Mode: Sendable { case serve(String), down, hang }
    let mode: NIOLockedValueBox<Mode>
    let fetched = NIOLockedValueBox<[String]>([])
    init(_ mode: Mode) { self.mode = NIOLockedValueBox(mode) }
    var count: Int { fetched.withLockedValue { $0.count } }

    func fetchPEM(_ url: String) async throws -> String {
        fetched.withLockedValue { $0.append(url) }
        switch mode.withLockedValue({ $0 }) {
        case .serve(let doc):
            try await Task.sleep(for: .milliseconds(20))  // long enough for concurrent callers to pile up
            return doc
        case .down: throw SigningCertificateError.fetchFailed("connection refused")
        case .hang:
            // Ignores cancellation, as a stuck socket would.
            await withCheckedContinuation { (_: CheckedContinuation<Void, Never>) in }
            return ""
        }
    }
}

@Suite("JWT key sets: cache and fetch")
struct KeySetCacheTests {
    static let url = "https://www.googleapis.com/oauth2/v3/certs"
    func locator(_ kid: String?) -> String { KeySetLocator(url: Self.url, keyID: kid).text }

    @Test func concurrentRequestsShareOneFetchAndAreServedFromCache() async throws {
        let signer = try LocalJWTSigner(kid: "k1")
        let host = FakeKeySetHost(.serve(LocalJWTSigner.keySet([signer])))
        let cache = KeySetCache(fetcher: host, clock: ManualClock(1_000_000))
        try await withThrowingTaskGroup(of: [UInt8].self) { group in
            for _ in 0..<20 { group.addTask { try await cache.keys(for: locator("k1")) } }
            for try await keys in group { #expect(try JSONWebKeySet.parse(keys).keys.count == 1) }
        }
        #expect(host.count == 1)
        #expect(cache.cachedKeys(for: locator("k1")) != nil)
        #expect(host.fetched.withLockedValue { $0 } == [Self.url])  // the fragment is never sent
    }

    @Test func anUnknownKidRefreshesAtMostOncePerInterval() async throws {
        let old = try LocalJWTSigner(kid: "old"), new = try LocalJWTSigner(kid: "new")
        let host = FakeKeySetHost(.serve(LocalJWTSigner.keySet([old])))
        let clock = ManualClock(1_000_000)
        let cache = KeySetCache(fetcher: host, clock: clock, refreshInterval: 60_000)
        _ = try await cache.keys(for: locator("old"))
        // A forged kid right after the fetch: answered from the cache with no key, no fetch.
        for _ in 0..<50 { #expect(try JSONWebKeySet.parse(try await cache.keys(for: locator("forged")), requireKeys: false).keys.isEmpty == true) }
        #expect(host.count == 1)
        // The provider rotates; past the interval an unknown kid refreshes once and finds the new key.
        host.mode.withLockedValue { $0 = .serve(LocalJWTSigner.keySet([old, new])) }
        clock.advance(by: 61_000)
        #expect(try JSONWebKeySet.parse(try await cache.keys(for: locator("new"))).keys.count == 1)
        #expect(host.count == 2)
    }

    @Test func aHostThatIsDownIsRefusedAtOnceAndNotHammered() async throws {
        let host = FakeKeySetHost(.down)
        let clock = ManualClock(1_000_000)
        let cache = KeySetCache(fetcher: host, clock: clock, failureBackoff: 5_000)
        await #expect(throws: KeySetError.self) { try await cache.keys(for: locator("k")) }
        for _ in 0..<20 { await #expect(throws: KeySetError.self) { try await cache.keys(for: locator("k")) } }
        #expect(host.count == 1)
        clock.advance(by: 6_000)
        await #expect(throws: KeySetError.self) { try await cache.keys(for: locator("k")) }
        #expect(host.count == 2)
    }

    @Test func aHostThatHangsIsGivenUpOnAndAHugeAnswerRefused() async throws {
        let cache = KeySetCache(fetcher: FakeKeySetHost(.hang), clock: ManualClock(0), fetchTimeout: .milliseconds(200))
        let started = ContinuousClock.now
        await #expect(throws: KeySetError.self) { try await cache.keys(for: locator("k")) }
        // Bounded, not prompt: under a loaded test run the timer's wake-up can lag by seconds.
        #expect(ContinuousClock.now - started < .seconds(60))

        let huge = #"{"keys":["# + String(repeating: #"{"kty":"oct","k":"AAAA"},"#, count: 20_000) + #"{"kty":"oct"}]}"#
        let big = KeySetCache(fetcher: FakeKeySetHost(.serve(huge)), clock: ManualClock(0))
        await #expect(throws: KeySetError.self) { try await big.keys(for: locator("k")) }
        let junk = KeySetCache(fetcher: FakeKeySetHost(.serve("<html>not json</html>")), clock: ManualClock(0))
        await #expect(throws: KeySetError.self) { try await junk.keys(for: locator("k")) }
    }
}

@Suite("JWT schemes end to end: Google Pub/Sub push through a running gateway")
struct JWTEndToEndTests {
    static let audience = "https://hooks.example.com/hooks/pubsub"
    static let email = "push@my-project.iam.gserviceaccount.com"

    func claims(aud: String = Self.audience, email: String = Self.email, exp: Int64 = Int64(Date().timeIntervalSince1970) + 3600) -> String {
        let now = Int64(Date().timeIntervalSince1970)
        return #"{"aud":"\#(aud)","email":"\#(email)","email_verified":true,"exp":\#(exp),"iat":\#(now - 5),"iss":"https://accounts.google.com","sub":"1"}"#
    }

    func start(_ host: FakeKeySetHost, destination: TestDestination) async throws -> (Gateway, Task<Void, any Error>, String) {
        let gw = try await RunningGateway.start(configBody: destinationTOML("svc", url: destination.url) + """
            [sources.pubsub]
            provider = "google-pubsub"
            destinations = ["svc"]
            jwt_audience = ["\(Self.audience)"]
            jwt_claims = { email = ["\(Self.email)"] }
            """, certificateFetcher: host)
        return (gw.gateway, gw.task, gw.baseURL + "/hooks/pubsub")
    }

    static let body = #"{"message":{"data":"SGk=","messageId":"m-1","publishTime":"2026-01-01T00:00:00Z"},"subscription":"projects/p/subscriptions/s"}"#

    @Test func aGoogleSignedPushIsAcceptedWithKeysFromTheFakedPinnedHost() async throws {
        let signer = try LocalJWTSigner(kid: "g1"), stranger = try LocalJWTSigner(kid: "g1")
        let host = FakeKeySetHost(.serve(LocalJWTSigner.keySet([signer])))
        let destination = try await TestDestination()
        let (gateway, task, url) = try await start(host, destination: destination)
        func send(_ token: String, body: String = Self.body) async throws -> Reply {
            try await post(url, body: body, headers: [("Content-Type", "application/json"), ("Authorization", "Bearer " + token)])
        }

        let ok = try await send(try signer.token(claims: claims()))
        #expect(ok.status == 200 && ok.json["status"] == "accepted")
        let again = try await send(try signer.token(claims: claims()), body: Self.body.replacingOccurrences(of: "m-1", with: "m-2"))
        #expect(again.json["status"] == "accepted")
        #expect(host.fetched.withLockedValue { $0 } == ["https://www.googleapis.com/oauth2/v3/certs"])  // cached by kid

        // The forgery matrix over the wire.
        let wrongKey = try await send(try stranger.token(claims: claims()))
        #expect(wrongKey.status == 401 && wrongKey.json["reason"] == "signature_mismatch")
        let unknownKid = try await send(try stranger.token(claims: claims(), kid: "rotated-away"))
        #expect(unknownKid.status == 401 && unknownKid.json["reason"] == "signing_key_unknown")
        let expired = try await send(try signer.token(claims: claims(exp: Int64(Date().timeIntervalSince1970) - 10)))
        #expect(expired.status == 401 && expired.json["reason"] == "timestamp_outside_tolerance")
        let otherAudience = try await send(try signer.token(claims: claims(aud: "https://attacker.example/")))
        #expect(otherAudience.status == 401 && otherAudience.json["reason"] == "jwt_claim_invalid")
        let none = Base64URL.encode(Array(#"{"alg":"none","kid":"g1"}"#.utf8)) + "." + Base64URL.encode(Array(claims().utf8)) + "."
        let algNone = try await send(none)
        #expect(algNone.status == 401 && algNone.json["reason"] == "jwt_algorithm_refused")
        let garbage = try await send("eyJ.%%%.x")
        #expect(garbage.status == 401 && garbage.json["reason"] == "malformed_signature")
        #expect(host.count == 1)  // fetched moments ago: an unknown kid waits for the refresh interval; nothing else fetched

        try await destination.waitForRequests(2)
        await gateway.shutdown()
        try await task.value
        await destination.stop()
    }

    @Test func anUnknownKidWithTheHostDownIsRefusedWithAClearReason() async throws {
        let signer = try LocalJWTSigner(kid: "g1")
        let host = FakeKeySetHost(.down)
        let destination = try await TestDestination()
        let (gateway, task, url) = try await start(host, destination: destination)
        let reply = try await post(url, body: Self.body, headers: [("Authorization", "Bearer " + (try signer.token(claims: claims())))])
        #expect(reply.status == 503 && reply.json["reason"] == "certificate_unavailable")
        let second = try await post(url, body: Self.body, headers: [("Authorization", "Bearer " + (try signer.token(claims: claims(), kid: "other")))])
        #expect(second.status == 503 && second.json["reason"] == "certificate_unavailable")
        #expect(host.count == 1)  // the second request within the back-off was refused without a fetch
        await gateway.shutdown()
        try await task.value
        await destination.stop()
    }
}

@Suite("Configured RSA keys: Wise and Fireblocks")
struct ConfiguredRSAKeyTests {
    @Test func rsaSignaturesVerifyWithThePEMAndGarbageIsRefused() throws {
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let body = Array(#"{"event_type":"transfers#state-change"}"#.utf8)
        for (provider, header, sha512) in [("wise", "X-Signature-SHA256", false), ("fireblocks", "Fireblocks-Signature", true)] {
            let profile = try #require(Repo.profiles[provider])
            let pk = try #require(profile.makeKey(label: "k", secret: key.publicKey.pemRepresentation))
            let policy = ResolvedSource(name: "s", path: "/hooks/s", profile: profile, keys: [pk])
            let sig = sha512 ? try key.signature(for: SHA512.hash(data: body), padding: .insecurePKCS1v1_5)
                             : try key.signature(for: SHA256.hash(data: body), padding: .insecurePKCS1v1_5)
            func admit(_ signature: String, _ b: [UInt8] = body) -> AdmissionDecision {
                policy.admit(IncomingRequest(method: "POST", path: "/hooks/s", headers: HTTPHeaderList([(header, signature)]), body: b, peer: nil, receivedAt: 0), now: 0)
            }
            guard case .admit = admit(Base64.encode(sig.rawRepresentation)) else { Issue.record("\(provider): valid signature refused"); continue }
            #expect(admit(Base64.encode(sig.rawRepresentation), body + [0x20]) == .reject(.signatureMismatch))
            #expect(admit(Base64.encode(Array(sig.rawRepresentation.prefix(100)))) == .reject(.signatureMismatch))
            #expect(admit("!!!") == .reject(.signatureMismatch))
            // A 1024-bit key is not accepted as a configured key.
            let weak = try _RSA.Signing.PrivateKey(unsafeKeySize: .init(bitCount: 1024))
            #expect(profile.makeKey(label: "weak", secret: weak.publicKey.pemRepresentation) == nil)
            #expect(profile.makeKey(label: "junk", secret: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----") == nil)
        }
    }
}
