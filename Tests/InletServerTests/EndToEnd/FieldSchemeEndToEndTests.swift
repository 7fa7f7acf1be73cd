import AsyncHTTPClient
import Foundation
import InletConfig
import InletCore
import InletServer
import InletStore
import InletTesting
import NIOCore
import NIOHTTP1
import Testing

/// The form-field schemes through a running gateway on loopback, with the shipped profiles and the SDK-made known
/// answers: Braintree's `bt_challenge` answered and its notification stored with the kind as type; Alipay's
/// notification acknowledged with the exact `success` it waits for, a retry likewise.
@Suite("Field schemes end to end")
struct FieldSchemeEndToEndTests {
    struct Answer {
        let status: Int
        let headers: HTTPHeaders
        let body: String
    }

    func call(_ method: HTTPMethod, _ url: String, headers: [String: String] = [:], body: String? = nil) async throws -> Answer {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (n, v) in headers { request.headers.add(name: n, value: v) }
        if let body { request.body = .bytes(Array(body.utf8)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        return Answer(status: Int(response.status.code), headers: response.headers, body: String(buffer: bytes))
    }

    static func fixture(_ provider: String, _ name: String) throws -> KnownAnswerCase {
        let all = try JSONDecoder().decode([KnownAnswerCase].self, from: Repo.fixture("field_scheme_fixtures.json"))
        return try #require(all.first { $0.provider == provider && $0.case == name })
    }

    @Test func braintreeAndAlipayThroughTheGateway() async throws {
        let bt = try Self.fixture("braintree", "sample notification (SDK WebhookTesting.sample_notification)")
        let challenge = try Self.fixture("braintree", "bt_challenge verification (SDK WebhookNotificationGateway.verify)")
        let ali = try Self.fixture("alipay", "trade notification (SDK get_sign_content + sign_with_rsa2)")
        let pem = FileManager.default.temporaryDirectory.appendingPathComponent("alipay-\(UUID().uuidString).pem").path
        try (ali.secrets ?? []).first?.write(toFile: pem, atomically: true, encoding: .utf8)
        let sources = """
        [sources.bt]
        provider = "braintree"
        secrets = ["\((bt.secrets ?? [])[0])"]
        destinations = ["svc"]

        [sources.ali]
        provider = "alipay"
        secrets = ["file:\(pem)"]
        destinations = ["svc"]

        """
        let destination = try await TestDestination()
        let gw = try await RunningGateway.start(configBody: destinationTOML("svc", url: destination.url) + sources)
        let base = gw.baseURL + "/hooks/"

        // The challenge: braintree-python's verify() answer, as text.
        let answer = try await call(.GET, base + "bt?" + (challenge.query ?? ""))
        #expect(answer.status == 200 && answer.body == challenge.expectedResponse?.body)
        #expect(answer.headers.first(name: "content-type") == "text/plain")
        #expect(try await call(.GET, base + "bt?bt_challenge=NOT-HEX-aaaaaaaaaaaaaaaaaaaa").status == 403)

        // A notification: stored, typed from the signed XML, sender_authenticated (the form around bt_payload is unsigned).
        let stored = try await call(.POST, base + "bt", headers: bt.headers, body: bt.body)
        #expect(stored.status == 200 && stored.body.contains(#""status":"accepted""#))
        let tampered = bt.body.replacingOccurrences(of: "bt_signature=fixturepublickey1", with: "bt_signature=otherkey")
        #expect(try await call(.POST, base + "bt", headers: bt.headers, body: tampered).status == 401)

        // Alipay: the answer is exactly "success", on the first delivery and on a retry.
        let first = try await call(.POST, base + "ali", headers: ali.headers, body: ali.body)
        #expect(first.status == 200 && first.body == "success" && first.headers.first(name: "content-type") == "text/plain")
        let eventID = try #require(first.headers.first(name: "inlet-event-id"))
        let retry = try await call(.POST, base + "ali", headers: ali.headers, body: ali.body)
        #expect(retry.status == 200 && retry.body == "success" && retry.headers.first(name: "inlet-event-id") == eventID)
        // A refusal is still Inlet's JSON with its reason: Alipay retries it.
        let forged = try await call(.POST, base + "ali", headers: ali.headers, body: ali.body.replacingOccurrences(of: "total_amount=88.88", with: "total_amount=0.01"))
        #expect(forged.status == 401 && forged.body.contains("signature_mismatch"))

        try await destination.waitForRequests(2)
        let event = try #require(try gw.gateway.store.event(id: eventID))
        #expect(event.eventKey == ali.expectedEventId && event.eventType == "TRADE_SUCCESS" && event.duplicates == 1)
        #expect(event.authenticity == "sender_authenticated")
        let btEvents = try gw.gateway.store.events(matching: EventFilter(source: "bt"), before: nil, limit: 10)
        #expect(btEvents.map(\.eventType) == ["subscription_went_past_due"] && btEvents.first?.authenticity == "sender_authenticated")
        try await gw.stop()
        await destination.stop()
        try? FileManager.default.removeItem(atPath: pem)
    }
}

/// Kinde: the JWT is the body. Keys from the source's `jwks_url` (a faked Kinde host), the event from the token's claims.
@Suite("A JWT as the body end to end: Kinde")
struct KindeEndToEndTests {
    static let jwksURL = "https://acme.kinde.com/.well-known/jwks.json"

    func claims(eventID: String = "event_0190a1b2", padding: Int = 0) -> String {
        #"{"type":"user.created","event_id":"\#(eventID)","source":"admin","timestamp":"2026-12-03T10:15:30Z","data":{"user":{"id":"kp_1","note":"\#(String(repeating: "x", count: padding))"}}}"#
    }

    @Test func aKindeEventIsTheTokenItself() async throws {
        let signer = try LocalJWTSigner(kid: "kinde-1"), stranger = try LocalJWTSigner(kid: "kinde-1")
        let host = FakeKeySetHost(.serve(LocalJWTSigner.keySet([signer])))
        let destination = try await TestDestination()
        let gw = try await RunningGateway.start(configBody: destinationTOML("svc", url: destination.url) + """
            [sources.kinde]
            provider = "kinde"
            destinations = ["svc"]
            jwks_url = "\(Self.jwksURL)"
            """, certificateFetcher: host)
        let url = gw.baseURL + "/hooks/kinde"
        func send(_ body: String) async throws -> Reply { try await post(url, body: body, headers: [("Content-Type", "application/jwt")]) }

        let token = try signer.token(claims: claims())
        let ok = try await send(token)
        #expect(ok.status == 200 && ok.json["status"] == "accepted")
        #expect(try await send(token).json["status"] == "duplicate")  // a replay: the signed event_id is the key
        // A token longer than a header's 16 KiB is fine as a body.
        let big = try await send(try signer.token(claims: claims(eventID: "event_big", padding: 40_000)))
        #expect(big.status == 200 && big.json["status"] == "accepted")
        #expect(host.fetched.withLockedValue { $0 } == [Self.jwksURL])

        let parts = token.split(separator: ".")
        let forgedClaims = Base64URL.encode(Array(claims(eventID: "event_forged").utf8))
        #expect(try await send("\(parts[0]).\(forgedClaims).\(parts[2])").json["reason"] == "signature_mismatch")
        #expect(try await send(try stranger.token(claims: claims())).json["reason"] == "signature_mismatch")
        let none = Base64URL.encode(Array(#"{"alg":"none","kid":"kinde-1"}"#.utf8)) + "." + parts[1] + "."
        #expect(try await send(none).json["reason"] == "jwt_algorithm_refused")
        #expect(try await send(token + "\n").json["reason"] == "malformed_signature")
        #expect(try await send(#"{"type":"user.created"}"#).json["reason"] == "malformed_signature")

        try await destination.waitForRequests(2)
        let stored = try gw.gateway.store.events(matching: EventFilter(source: "kinde"), before: nil, limit: 10)
        #expect(Set(stored.map(\.eventKey)) == ["event_0190a1b2", "event_big"])
        #expect(stored.allSatisfy { $0.eventType == "user.created" && $0.authenticity == "body_signed" })
        try await gw.stop()
        await destination.stop()
    }
}
