@preconcurrency import Crypto
import AsyncHTTPClient
import Foundation
import InletConfig
import InletCore
import InletServer
import InletTesting
import NIOConcurrencyHelpers
import NIOHTTP1
import Testing

/// A provider's key API: answers key requests by id (404 for others) and token requests, counting what it is asked;
/// or is down, or hangs.
final class FakeKeyAPI: CertificateFetcher, Sendable {
    enum Mode: Sendable { case serve, down, hang }
    let mode: NIOLockedValueBox<Mode>
    let keys: NIOLockedValueBox<[String: String]>
    let asked = NIOLockedValueBox<[KeyFetchRequest]>([])
    let tokenLifetime: Int

    init(_ mode: Mode = .serve, keys: [String: String] = [:], tokenLifetime: Int = 7200) {
        self.mode = NIOLockedValueBox(mode)
        self.keys = NIOLockedValueBox(keys)
        self.tokenLifetime = tokenLifetime
    }

    var keyFetches: Int { asked.withLockedValue { $0.filter { !$0.url.contains("oauth2/token") }.count } }
    var tokenFetches: Int { asked.withLockedValue { $0.filter { $0.url.contains("oauth2/token") }.count } }

    func fetchPEM(_ url: String) async throws -> String { throw SigningCertificateError.fetchFailed("not a certificate host") }

    func fetch(_ request: KeyFetchRequest) async throws -> KeyFetchResponse {
        asked.withLockedValue { $0.append(request) }
        switch mode.withLockedValue({ $0 }) {
        case .down: throw SigningCertificateError.fetchFailed("connection refused")
        case .hang:
            await withCheckedContinuation { (_: CheckedContinuation<Void, Never>) in }
            return KeyFetchResponse(status: 500, body: [])
        case .serve:
            try await Task.sleep(for: .milliseconds(20))  // long enough for concurrent callers to pile up
            if request.url.contains("oauth2/token") {
                return KeyFetchResponse(status: 200, body: Array(#"{"access_token":"app-token-\#(tokenFetches)","expires_in":\#(tokenLifetime)}"#.utf8))
            }
            let kid = String(request.url.split(separator: "/").last ?? "")
            guard let answer = keys.withLockedValue({ $0[kid] }) else { return KeyFetchResponse(status: 404, body: Array(#"{"errors":[]}"#.utf8)) }
            return KeyFetchResponse(status: 200, body: Array(answer.utf8))
        }
    }
}

func circleAnswer(_ key: P256.Signing.PrivateKey) -> String { #"{"data":{"publicKey":"\#(Base64.encode(key.publicKey.derRepresentation))"}}"# }

@Suite("Key by id: the fetched-key cache")
struct FetchedKeyCacheTests {
    static let secret = "sk-circle-secret-value"

    func plan(_ provider: String = "circle", source: String = "src") throws -> KeyFetchPlan {
        var s = ResolvedSource(name: source, path: "/hooks/\(source)", profile: try #require(Repo.profiles[provider]), keys: [])
        s.keyFetchCredentials = KeyFetchCredentials(clientID: "app-id", secret: Self.secret)
        return try #require(s.keyFetchPlan)
    }

    func locator(_ plan: KeyFetchPlan, _ kid: String) -> String { KeySetLocator(url: plan.spec.keyURL(kid: kid, host: plan.host), keyID: kid).text }

    @Test func concurrentRequestsForOneUnknownKeyCauseOneFetch() async throws {
        let key = P256.Signing.PrivateKey()
        let api = FakeKeyAPI(keys: ["k1": circleAnswer(key)])
        let cache = FetchedKeyCache(fetcher: api, clock: ManualClock(1_000_000))
        let plan = try plan(), at = locator(plan, "k1")
        try await withThrowingTaskGroup(of: [UInt8].self) { group in
            for _ in 0..<25 { group.addTask { try await cache.key(for: at, plan: plan) } }
            for try await der in group { #expect(der == Array(key.publicKey.derRepresentation)) }
        }
        #expect(api.keyFetches == 1)
        #expect(cache.cachedKey(for: at, plan: plan) != nil)
        let sent = try #require(api.asked.withLockedValue { $0.first })
        #expect(sent.url == "https://api.circle.com/v2/notifications/publicKey/k1")
        #expect(sent.headers.contains(.init(name: "Authorization", value: "Bearer " + Self.secret)))
    }

    @Test func idsAtOneURLAreCachedApart() async throws {
        // Plaid's key URL is the same for every id (the id is in the POST body): each id is its own entry.
        let a = P256.Signing.PrivateKey(), b = P256.Signing.PrivateKey()
        let api = PlaidKeyAPI(answers: ["ka": PlaidEndToEndTests.jwkAnswer(a, kid: "ka"), "kb": PlaidEndToEndTests.jwkAnswer(b, kid: "kb")])
        let cache = FetchedKeyCache(fetcher: api, clock: ManualClock(1_000_000))
        let plaid = try plan("plaid")
        let first = try JSONWebKeySet.parse(try await cache.key(for: locator(plaid, "ka"), plan: plaid))
        let second = try JSONWebKeySet.parse(try await cache.key(for: locator(plaid, "kb"), plan: plaid))
        #expect(first.keys.map(\.keyID) == ["ka"] && second.keys.map(\.keyID) == ["kb"])
        #expect(api.count == 2 && cache.count == 2)
    }

    @Test func entriesAreBoundedAndExpire() async throws {
        let api = FakeKeyAPI(keys: ["a": circleAnswer(.init()), "b": circleAnswer(.init()), "c": circleAnswer(.init())])
        let clock = ManualClock(1_000_000)
        let cache = FetchedKeyCache(fetcher: api, clock: clock, capacity: 2, maxAge: 60_000)
        let plan = try plan()
        for kid in ["a", "b", "c"] { _ = try await cache.key(for: locator(plan, kid), plan: plan) }
        #expect(cache.count == 2)
        #expect(cache.cachedKey(for: locator(plan, "a"), plan: plan) == nil)  // least recently used, gone
        clock.advance(by: 61_000)
        #expect(cache.cachedKey(for: locator(plan, "c"), plan: plan) == nil)  // past its age
        _ = try await cache.key(for: locator(plan, "c"), plan: plan)
        #expect(api.keyFetches == 4)
        // Another source's cache entries are its own: same id, separate fetch.
        _ = try await cache.key(for: locator(plan, "c"), plan: try self.plan(source: "other"))
        #expect(api.keyFetches == 5)
    }

    @Test func anUnknownKeyIsRememberedAndAStreamOfForgedIdsIsRateLimited() async throws {
        let api = FakeKeyAPI(keys: [:])
        let clock = ManualClock(1_000_000)
        let cache = FetchedKeyCache(fetcher: api, clock: clock, unknownKeyTTL: 60_000, maxNewKeysPerMinute: 5)
        let plan = try plan()
        #expect(try await cache.key(for: locator(plan, "gone"), plan: plan) == [])  // 404: no such key
        for _ in 0..<10 { #expect(try await cache.key(for: locator(plan, "gone"), plan: plan) == []) }
        #expect(api.keyFetches == 1)
        for n in 0..<4 { _ = try await cache.key(for: locator(plan, "forged-\(n)"), plan: plan) }
        await #expect(throws: FetchedKeyError.self) { try await cache.key(for: locator(plan, "forged-99"), plan: plan) }
        #expect(api.keyFetches == 5)
        clock.advance(by: 60_000)
        _ = try await cache.key(for: locator(plan, "forged-99"), plan: plan)
        #expect(api.keyFetches == 6)
        // The JWT form of "no such key" is an empty key set.
        let plaid = try self.plan("plaid")
        #expect(try JSONWebKeySet.parse(try await cache.key(for: locator(plaid, "gone"), plan: plaid), requireKeys: false).keys.isEmpty)
    }

    @Test func aKeyHostThatIsDownOrHangsIsRefusedAndNotHammered() async throws {
        let api = FakeKeyAPI(.down)
        let clock = ManualClock(1_000_000)
        let cache = FetchedKeyCache(fetcher: api, clock: clock, failureBackoff: 5_000)
        let plan = try plan(), at = locator(plan, "k")
        for _ in 0..<10 {
            do { _ = try await cache.key(for: at, plan: plan); Issue.record("answered") } catch {
                #expect(!"\(error)".contains(Self.secret))
            }
        }
        #expect(api.keyFetches == 1)
        clock.advance(by: 6_000)
        await #expect(throws: (any Error).self) { try await cache.key(for: at, plan: plan) }
        #expect(api.keyFetches == 2)

        let stuck = FetchedKeyCache(fetcher: FakeKeyAPI(.hang), clock: ManualClock(0), fetchTimeout: .milliseconds(200))
        await #expect(throws: FetchedKeyError.self) { try await stuck.key(for: at, plan: plan) }
        // A locator that is not this plan's URL for its id is refused without a fetch.
        await #expect(throws: FetchedKeyError.self) { try await cache.key(for: "https://evil.example/k#kid=k", plan: plan) }
        await #expect(throws: FetchedKeyError.self) { try await cache.key(for: "https://api.circle.com/v2/notifications/publicKey/a%2Fb#kid=a%2Fb", plan: plan) }
        #expect(api.keyFetches == 2)
    }

    @Test func theApplicationTokenIsFetchedOnceAndRenewedBeforeItExpires() async throws {
        let keys = ["k1": #"{"key":"-----BEGIN PUBLIC KEY-----\#(Base64.encode(P256.Signing.PrivateKey().publicKey.derRepresentation))-----END PUBLIC KEY-----"}"#,
                    "k2": #"{"key":"-----BEGIN PUBLIC KEY-----\#(Base64.encode(P256.Signing.PrivateKey().publicKey.derRepresentation))-----END PUBLIC KEY-----"}"#]
        let api = FakeKeyAPI(keys: keys, tokenLifetime: 7200)
        let clock = ManualClock(1_000_000)
        let cache = FetchedKeyCache(fetcher: api, clock: clock)
        let plan = try plan("ebay")
        try await withThrowingTaskGroup(of: [UInt8].self) { group in
            for kid in ["k1", "k2", "k1", "k2"] { group.addTask { try await cache.key(for: self.locator(plan, kid), plan: plan) } }
            for try await _ in group {}
        }
        #expect(api.tokenFetches == 1 && api.keyFetches == 2)
        let keyCall = try #require(api.asked.withLockedValue { $0.last { !$0.url.contains("token") } })
        #expect(keyCall.headers.contains(.init(name: "Authorization", value: "Bearer app-token-1")))
        clock.advance(by: 7_200_000 - 30_000)  // within the last minute of the token's life: renewed
        api.keys.withLockedValue { $0["k3"] = keys["k1"] }
        _ = try await cache.key(for: locator(plan, "k3"), plan: plan)
        #expect(api.tokenFetches == 2)
    }
}

@Suite("Key by id: the HTTP fetcher")
struct KeyFetchHTTPTests {
    @Test func itSendsTheRequestAsBuiltAndRefusesAnOversizedAnswer() async throws {
        let seen = NIOLockedValueBox<[SimpleRequest]>([])
        let server = try await ListenerServer.start { request in
            seen.withLockedValue { $0.append(request) }
            let size = request.uri == "/big" ? KeyFetchPlan.maxResponseBytes + 1 : 10
            return SimpleResponse(status: request.uri == "/missing" ? 404 : 200, body: Array(repeating: 0x20, count: size))
        }
        let client = OutboundHTTP.makeClient()
        let fetcher = HTTPCertificateFetcher(client: client)
        let base = "http://127.0.0.1:\(server.port)"
        let ok = try await fetcher.fetch(KeyFetchRequest(method: "POST", url: base + "/k", headers: [.init(name: "Authorization", value: "Bearer t")],
                                                         body: Array(#"{"key_id":"k"}"#.utf8)))
        #expect(ok.status == 200 && ok.body.count == 10)
        let sent = try #require(seen.withLockedValue { $0.first })
        #expect(sent.method == "POST" && sent.headers.first(name: "Authorization") == "Bearer t" && sent.body == Array(#"{"key_id":"k"}"#.utf8))
        #expect(try await fetcher.fetch(KeyFetchRequest(method: "GET", url: base + "/missing", headers: [], body: nil)).status == 404)
        await #expect(throws: (any Error).self) { try await fetcher.fetch(KeyFetchRequest(method: "GET", url: base + "/big", headers: [], body: nil)) }
        await server.stop()
        try await client.shutdown()
    }
}

/// A key API on loopback, for the gateway's real HTTP fetcher: the pinned host's URL is rewritten to it, as a
/// resolver pointing the provider's name at 127.0.0.1 would (the requests are otherwise exactly what would be sent).
struct LoopbackKeyHost: CertificateFetcher {
    let base: String
    let http: HTTPCertificateFetcher

    func fetchPEM(_ url: String) async throws -> String { throw SigningCertificateError.fetchFailed("not used") }

    func fetch(_ request: KeyFetchRequest) async throws -> KeyFetchResponse {
        var r = request
        guard let u = URLComponents(string: request.url) else { throw SigningCertificateError.fetchFailed("not a URL") }
        r.url = base + u.percentEncodedPath
        return try await http.fetch(r)
    }
}

@Suite("Key by id end to end: eBay through a running gateway and a key API on loopback")
struct KeyByIDEndToEndTests {
    @Test func eBayNotificationsVerifyWithKeysFetchedByIdAndForgeriesAreRefused() async throws {
        let key = P256.Signing.PrivateKey(), stranger = P256.Signing.PrivateKey()
        let kid = "9936261a-7d7b-4621-a0f1-96ccb428af49"
        let asked = NIOLockedValueBox<[SimpleRequest]>([])
        let keyDown = NIOLockedValueBox(false)
        let api = try await ListenerServer.start { request in
            asked.withLockedValue { $0.append(request) }
            if keyDown.withLockedValue({ $0 }) { return SimpleResponse(status: 503) }
            if request.uri == "/identity/v1/oauth2/token" {
                guard request.method == "POST", request.headers.first(name: "Authorization") == "Basic " + Base64.encode(Array("ebay-app-id:ebay-cert-id".utf8)) else {
                    return SimpleResponse(status: 401)
                }
                return SimpleResponse(status: 200, body: Array(#"{"access_token":"v^1.1#app","expires_in":7200,"token_type":"Application Access Token"}"#.utf8))
            }
            guard request.headers.first(name: "Authorization") == "Bearer v^1.1#app" else { return SimpleResponse(status: 401) }
            guard request.uri == "/commerce/notification/v1/public_key/\(kid)" else { return SimpleResponse(status: 404) }
            let pem = "-----BEGIN PUBLIC KEY-----" + Base64.encode(key.publicKey.derRepresentation) + "-----END PUBLIC KEY-----"
            return SimpleResponse(status: 200, body: Array(#"{"key":"\#(pem)","algorithm":"ECDSA","digest":"SHA1"}"#.utf8))
        }
        let client = OutboundHTTP.makeClient()
        let destination = try await TestDestination()
        let env = ["EBAY_APP_ID": "ebay-app-id", "EBAY_CERT_ID": "ebay-cert-id", "EBAY_VERIFY": "verification-token-0123456789abcdef"]
        let fetcher = LoopbackKeyHost(base: "http://127.0.0.1:\(api.port)", http: HTTPCertificateFetcher(client: client))
        let gw = try await RunningGateway.start(configBody: destinationTOML("svc", url: destination.url) + """
            [sources.ebay]
            provider = "ebay"
            destinations = ["svc"]
            key_fetch_client_id = "env:EBAY_APP_ID"
            key_fetch_secret = "env:EBAY_CERT_ID"
            verify_token = "env:EBAY_VERIFY"
            public_url = "https://hooks.example.com/hooks/ebay"
            """, environment: env, certificateFetcher: fetcher)
        let url = gw.baseURL + "/hooks/ebay"

        func notification(_ id: String) -> String {
            #"{"metadata":{"topic":"MARKETPLACE_ACCOUNT_DELETION","schemaVersion":"1.0","deprecated":false},"notification":{"notificationId":"\#(id)","eventDate":"2026-12-01T10:00:00.000Z","publishDate":"2026-12-01T10:00:00.100Z","publishAttemptCount":1,"data":{"username":"u","userId":"u1","eiasToken":"x"}}}"#
        }
        func header(_ body: String, with signer: P256.Signing.PrivateKey = key, kid k: String = kid) throws -> String {
            let sig = try signer.signature(for: Insecure.SHA1.hash(data: Array(body.utf8)))
            return Base64.encode(Array(#"{"alg":"ecdsa","kid":"\#(k)","signature":"\#(Base64.encode(sig.derRepresentation))","digest":"SHA1"}"#.utf8))
        }
        func send(_ body: String, _ signature: String) async throws -> Reply {
            try await post(url, body: body, headers: [("Content-Type", "application/json"), ("x-ebay-signature", signature)])
        }

        let first = try await send(notification("n-1"), try header(notification("n-1")))
        #expect(first.status == 200 && first.json["status"] == "accepted", "\(first.status) \(first.json)")
        let second = try await send(notification("n-2"), try header(notification("n-2")))
        #expect(second.json["status"] == "accepted")
        #expect(asked.withLockedValue { $0.count } == 2)  // one token, one key: the second request used the cache

        // The forgery matrix over the wire.
        let tampered = try await send(notification("n-3"), try header(notification("n-1")))
        #expect(tampered.status == 401 && tampered.json["reason"] == "signature_mismatch")
        let wrongKey = try await send(notification("n-4"), try header(notification("n-4"), with: stranger))
        #expect(wrongKey.status == 401 && wrongKey.json["reason"] == "signature_mismatch")
        let unknownKid = try await send(notification("n-5"), try header(notification("n-5"), kid: "00000000-0000-4000-8000-000000000000"))
        #expect(unknownKid.status == 401 && unknownKid.json["reason"] == "signing_key_unknown")
        let injected = try await send(notification("n-6"), try header(notification("n-6"), kid: "../../identity/v1/oauth2/token"))
        #expect(injected.status == 401 && injected.json["reason"] == "signing_key_unknown")
        #expect(asked.withLockedValue { $0.count } == 3)  // only the unknown (plain) id was asked for
        keyDown.withLockedValue { $0 = true }
        let down = try await send(notification("n-7"), try header(notification("n-7"), kid: "11111111-0000-4000-8000-000000000000"))
        #expect(down.status == 503 && down.json["reason"] == "certificate_unavailable")
        let cached = try await send(notification("n-8"), try header(notification("n-8")))
        #expect(cached.json["status"] == "accepted")  // a key already fetched still verifies while the host is down

        // The endpoint validation handshake, from the shipped profile.
        let challenge = try await post(url + "?challenge_code=abc123", body: "", headers: [], method: .GET)
        let expected = Hex.string(SHA256.hash(data: Array("abc123verification-token-0123456789abcdefhttps://hooks.example.com/hooks/ebay".utf8)))
        #expect(challenge.status == 200 && challenge.json["challengeResponse"] == expected)

        try await destination.waitForRequests(3)
        try await gw.stop()
        await destination.stop()
        await api.stop()
        try await client.shutdown()
    }
}

@Suite("Key by id end to end: Plaid through a running gateway")
struct PlaidEndToEndTests {
    static let kid = "bfbd5111-8e33-4643-8ced-b2e642a72f3c"

    static func jwkAnswer(_ key: P256.Signing.PrivateKey, kid: String = kid) -> String {
        let p = Array(key.publicKey.x963Representation)
        return #"{"key":{"alg":"ES256","created_at":1700000000,"crv":"P-256","expired_at":null,"kid":"\#(kid)","kty":"EC","use":"sig","x":"\#(Base64URL.encode(p[1..<33]))","y":"\#(Base64URL.encode(p[33...]))"},"request_id":"r1"}"#
    }

    static func token(_ key: P256.Signing.PrivateKey, body: String, iat: Int64 = Int64(Date().timeIntervalSince1970) - 5, alg: String = "ES256",
                      kid: String = kid) throws -> String {
        let header = Base64URL.encode(Array(#"{"alg":"\#(alg)","kid":"\#(kid)","typ":"JWT"}"#.utf8))
        let claims = Base64URL.encode(Array(#"{"iat":\#(iat),"request_body_sha256":"\#(Hex.string(SHA256.hash(data: Array(body.utf8))))"}"#.utf8))
        let input = header + "." + claims
        return input + "." + Base64URL.encode(try key.signature(for: Array(input.utf8)).rawRepresentation)
    }

    @Test func concurrentWebhooksShareOneKeyFetchAndForgeriesAreRefused() async throws {
        let key = P256.Signing.PrivateKey(), stranger = P256.Signing.PrivateKey()
        let plaid = PlaidKeyAPI(answers: [Self.kid: Self.jwkAnswer(key)])
        let destination = try await TestDestination()
        let gw = try await RunningGateway.start(configBody: destinationTOML("svc", url: destination.url) + """
            [sources.plaid]
            provider = "plaid"
            destinations = ["svc"]
            key_fetch_client_id = "env:PLAID_CLIENT_ID"
            key_fetch_secret = "env:PLAID_SECRET"
            key_host = "sandbox.plaid.com"
            """, environment: ["PLAID_CLIENT_ID": "cid-1", "PLAID_SECRET": "plaid-secret-1"], certificateFetcher: plaid)
        let url = gw.baseURL + "/hooks/plaid"
        func body(_ n: Int) -> String { #"{"webhook_type":"TRANSACTIONS","webhook_code":"SYNC_UPDATES_AVAILABLE","item_id":"item-\#(n)"}"# }
        func send(_ b: String, _ token: String) async throws -> Reply {
            try await post(url, body: b, headers: [("Content-Type", "application/json"), ("Plaid-Verification", token)])
        }

        // Twelve webhooks at once, naming a key not fetched yet: one fetch.
        try await withThrowingTaskGroup(of: Reply.self) { group in
            for n in 0..<12 { group.addTask { try await send(body(n), try Self.token(key, body: body(n))) } }
            for try await reply in group { #expect(reply.status == 200 && reply.json["status"] == "accepted", "\(reply.status) \(reply.json)") }
        }
        #expect(plaid.count == 1)
        let sent = try #require(plaid.asked.withLockedValue { $0.first })
        #expect(sent.url == "https://sandbox.plaid.com/webhook_verification_key/get")
        #expect(String(decoding: sent.body ?? [], as: UTF8.self) == #"{"client_id":"cid-1","secret":"plaid-secret-1","key_id":"\#(Self.kid)"}"#)

        let mismatch = try await send(body(20), try Self.token(key, body: body(21)))
        #expect(mismatch.status == 401 && mismatch.json["reason"] == "body_hash_mismatch")
        let old = try await send(body(22), try Self.token(key, body: body(22), iat: Int64(Date().timeIntervalSince1970) - 400))
        #expect(old.status == 401 && old.json["reason"] == "timestamp_outside_tolerance")
        let forged = try await send(body(23), try Self.token(stranger, body: body(23)))
        #expect(forged.status == 401 && forged.json["reason"] == "signature_mismatch")
        let hs = try await send(body(24), try Self.token(key, body: body(24), alg: "HS256"))
        #expect(hs.status == 401 && hs.json["reason"] == "jwt_algorithm_refused")
        let unknown = try await send(body(25), try Self.token(key, body: body(25), kid: "00000000-0000-4000-8000-000000000000"))
        #expect(unknown.status == 401 && unknown.json["reason"] == "signing_key_unknown")
        #expect(plaid.count == 2)  // the unknown kid was asked once; nothing else fetched

        try await destination.waitForRequests(12)
        try await gw.stop()
        await destination.stop()
    }
}

/// Plaid's key API: POST with the key id in the JSON body; 404 for an id it does not know.
final class PlaidKeyAPI: CertificateFetcher, Sendable {
    let answers: [String: String]
    let asked = NIOLockedValueBox<[KeyFetchRequest]>([])
    init(answers: [String: String]) { self.answers = answers }
    var count: Int { asked.withLockedValue { $0.count } }

    func fetchPEM(_ url: String) async throws -> String { throw SigningCertificateError.fetchFailed("not used") }

    func fetch(_ request: KeyFetchRequest) async throws -> KeyFetchResponse {
        asked.withLockedValue { $0.append(request) }
        try await Task.sleep(for: .milliseconds(50))  // long enough for the concurrent webhooks to pile up
        let kid = JSONScanner.scalarText(at: JSONPointer(tokens: ["key_id"]), in: request.body ?? []) ?? ""
        guard let answer = answers[kid] else { return KeyFetchResponse(status: 404, body: []) }
        return KeyFetchResponse(status: 200, body: Array(answer.utf8))
    }
}

/// A key API that refuses the credentials, then is down, then serves: what each answer looks like, and that the API key
/// reaches neither the logs, nor the admin API, nor the store's files.
@Suite("Key by id: credentials stay out of logs, the admin API and the store")
struct KeyFetchSecretLeakTests {
    static let apiKey = "TEST_API_KEY:c1rcle-Zx81:secretpart-Qw27"

    final class ScriptedKeyAPI: CertificateFetcher, Sendable {
        let status = NIOLockedValueBox(401)
        let answer: String
        init(answer: String) { self.answer = answer }
        func fetchPEM(_ url: String) async throws -> String { throw SigningCertificateError.fetchFailed("not used") }
        func fetch(_ request: KeyFetchRequest) async throws -> KeyFetchResponse {
            let s = status.withLockedValue { $0 }
            if s == 0 { throw SigningCertificateError.fetchFailed("connection refused") }
            // A provider's error may echo what it was sent; it must go no further.
            let echo = request.headers.map { "\($0.name): \($0.value)" }.joined(separator: "; ")
            return KeyFetchResponse(status: s, body: Array((s == 200 ? answer : #"{"message":"refused \#(echo)"}"#).utf8))
        }
    }

    @Test func theAPIKeyIsNeverShownWhateverTheKeyHostAnswers() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("inlet-kbi-leak-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Self.apiKey.write(toFile: dir + "/circle.key", atomically: true, encoding: .utf8)
        let key = P256.Signing.PrivateKey()
        let api = ScriptedKeyAPI(answer: circleAnswer(key))
        let log = CapturedLog()
        let destination = try await TestDestination()
        let toml = """
        providers_dir = "\(Repo.root)/providers"
        [server]
        listen = "127.0.0.1:0"
        [store]
        path = "\(dir)/inlet.sqlite"
        \(adminSection)
        [destinations.svc]
        url = "\(destination.url)"
        secrets = ["\(destinationSecret)"]
        [sources.circle]
        provider = "circle"
        destinations = ["svc"]
        key_fetch_secret = "file:circle.key"
        """
        let resolved = try GatewayConfig.parse(toml, file: dir + "/inlet.toml").resolve(environment: [:])
        let gateway = try Gateway(resolved: resolved, clock: SystemClock(), logger: log.logger, certificateFetcher: api)
        let task = Task { try await gateway.run() }
        let url = "http://127.0.0.1:\(try await gateway.ingress.listeningPort())/hooks/circle"
        let body = #"{"notificationId":"n-1","notificationType":"transactions.outbound","notification":{}}"#
        let signature = Base64.encode(try key.signature(for: Array(body.utf8)).derRepresentation)
        func send(_ kid: String) async throws -> Reply {
            try await post(url, body: body, headers: [("X-Circle-Signature", signature), ("X-Circle-Key-Id", kid)])
        }

        let refused = try await send("k-refused")
        #expect(refused.status == 503 && refused.json["reason"] == "certificate_unavailable")
        api.status.withLockedValue { $0 = 0 }
        let down = try await send("k-down")
        #expect(down.status == 503 && down.json["reason"] == "certificate_unavailable")
        api.status.withLockedValue { $0 = 200 }
        let ok = try await send("k-ok")
        #expect(ok.status == 200 && ok.json["status"] == "accepted")

        let lines = log.lines.withLockedValue { $0 }
        #expect(lines.contains { $0.contains("HTTP 401") && $0.contains("key_fetch_secret") }, "the operator is told which setting to check")
        for part in [Self.apiKey, "secretpart-Qw27"] {
            #expect(!lines.contains { $0.contains(part) }, "a log line holds the API key")
            let quarantine = try await KeyFetchSecretLeakTests.adminText(try await gateway.adminPort(), "/v1/quarantine")
            #expect(!quarantine.contains(part))
        }
        try await destination.waitForRequests(1)
        await gateway.shutdown()
        try await task.value
        await destination.stop()
        let bytes = [dir + "/inlet.sqlite", dir + "/inlet.sqlite-wal"].flatMap { Array(FileManager.default.contents(atPath: $0) ?? Data()) }
        #expect(!bytes.isEmpty)
        #expect(!SecretLeakTests.contains(bytes, "secretpart-Qw27"), "the store's files hold the API key")
    }

    static func adminText(_ port: Int, _ path: String) async throws -> String {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)" + path)
        request.headers.add(name: "Authorization", value: "Bearer t0k")
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        return String(buffer: try await response.body.collect(upTo: 8 << 20))
    }
}
