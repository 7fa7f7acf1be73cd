import Foundation
import InletCore
import InletServer
import InletStore
import NIOHTTP1
import Testing

/// `authenticity` through a running gateway: stored with the event, and carried to destinations as the CloudEvents
/// extension `inletauthenticity` (structured and binary mode).
@Suite("Authenticity end to end")
struct AuthenticityEndToEndTests {
    static let sources = """
    [sources.stripe]
    provider = "stripe"
    secrets = ["\(stripeSecret)"]
    destinations = ["svc"]

    [sources.token]
    provider = "generic-token"
    secrets = ["t0ken-for-tests"]
    destinations = ["svc"]

    [sources.open]
    provider = "generic-token"
    verify_signatures = false
    destinations = ["svc"]
    """

    func envelope(_ r: SimpleRequest) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any])
    }

    @Test func eachEventCarriesWhatWasVerified() async throws {
        let destination = try await TestDestination()
        let gw = try await RunningGateway.start(sourcesTOML: Self.sources, destinationURL: destination.url)
        let body = stripeEvent("evt_auth_1")
        let signed = try await post(gw.baseURL + "/hooks/stripe", body: body, headers: stripeHeaders(body: body))
        let token = try await post(gw.baseURL + "/hooks/token", body: #"{"type":"a"}"#, headers: [("X-Webhook-Token", "t0ken-for-tests")])
        let open = try await post(gw.baseURL + "/hooks/open", body: #"{"type":"b"}"#, headers: [])
        // Opting out is per source: the verifying token source still refuses an unsigned request.
        #expect(try await post(gw.baseURL + "/hooks/token", body: #"{"type":"c"}"#, headers: []).status == 401)
        let expected = [signed.json["id"]: "body_signed", token.json["id"]: "sender_authenticated", open.json["id"]: "unverified"]
        #expect([signed, token, open].allSatisfy { $0.json["status"] == "accepted" })
        for (id, value) in expected {
            #expect(try gw.gateway.store.event(id: try #require(id))?.authenticity == value)
        }
        try await destination.waitForRequests(3)
        for r in destination.requests {
            let e = try envelope(r)
            #expect(e["inletauthenticity"] as? String == expected[e["id"] as? String], "\(e["id"] ?? "?")")
        }
        #expect(try gw.gateway.store.event(id: try #require(open.json["id"]))?.secretLabel == nil)
        try await gw.stop()
        await destination.stop()
    }

    @Test func binaryModeCarriesItAsAHeader() async throws {
        let destination = try await TestDestination()
        let gw = try await RunningGateway.start(sourcesTOML: stripeSource, destinationURL: destination.url, destinationExtra: "payload = \"cloudevents-binary\"")
        let body = stripeEvent("evt_auth_bin")
        #expect(try await post(gw.baseURL + "/hooks/stripe", body: body, headers: stripeHeaders(body: body)).status == 200)
        try await destination.waitForRequests(1)
        #expect(destination.requests[0].headers.first(name: "ce-inletauthenticity") == "body_signed")
        try await gw.stop()
        await destination.stop()
    }
}
