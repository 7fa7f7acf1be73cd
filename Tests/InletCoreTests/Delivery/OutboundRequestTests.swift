import Foundation
import InletCore
import Testing

/// The exact request a destination receives for one attempt, per payload mode.
@Suite("Outbound request")
struct OutboundRequestTests {
    let signer = try! StandardWebhooksSigner(secrets: ["whsec_" + Data("internal-hop-secret".utf8).base64EncodedString()])
    let event = OutboundEvent(
        id: "evt_01", source: "billing", provider: "stripe", eventKey: "evt_stripe_1", eventType: "invoice.paid", receivedAt: 1_700_000_000_000,
        body: Array(#"{"id":"evt_stripe_1"}"#.utf8), contentType: "application/json",
        headers: HTTPHeaderList([("Stripe-Signature", "t=1,v1=ab"), ("Host", "inlet"), ("Connection", "keep-alive"), ("User-Agent", "Stripe/1.0"),
                                 ("webhook-id", "forged"), ("Proxy-Authorization", "Basic x"), ("X-Trace", "1")]))

    func request(_ mode: PayloadMode, isReplay: Bool = false) -> OutboundRequest {
        OutboundRequest(event: event, payload: mode, attempt: 3, deliveryID: 42, isReplay: isReplay, signer: signer,
                        timestampSeconds: 1_700_000_001, userAgent: "Inlet/test")
    }

    @Test func everyModeIsSignedOverTheBytesSentAndTraced() {
        for mode in PayloadMode.allCases {
            let r = request(mode)
            #expect(signer.verify(id: "evt_01", timestamp: "1700000001", signatureHeader: r.headers.first("webhook-signature") ?? "",
                                  body: r.body, now: 1_700_000_001_000), "\(mode)")
            #expect(r.headers.first("Inlet-Event-Id") == "evt_01")
            #expect(r.headers.first("Inlet-Delivery-Id") == "42")
            #expect(r.headers.first("Inlet-Attempt") == "3")
            #expect(r.headers.all("User-Agent") == ["Inlet/test"])
            #expect(r.headers.first("Inlet-Replay") == nil)
        }
    }

    @Test func structuredCloudEventCarriesTheBodyAndInletExtensions() throws {
        let r = request(.cloudevents, isReplay: true)
        #expect(r.headers.first("Content-Type") == CloudEvent.jsonContentType)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any])
        #expect(json["specversion"] as? String == "1.0")
        #expect(json["id"] as? String == "evt_01")
        #expect(json["source"] as? String == "/sources/billing")
        #expect(json["type"] as? String == "invoice.paid")
        #expect(json["inletattempt"] as? String == "3")
        #expect(json["inletreplay"] as? String == "true")
        #expect((json["data"] as? [String: Any])?["id"] as? String == "evt_stripe_1")
        #expect(r.headers.first("Inlet-Replay") == "true")
    }

    @Test func binaryCloudEventKeepsTheExactBodyAndPutsAttributesInHeaders() {
        let r = request(.cloudeventsBinary)
        #expect(r.body == event.body)
        #expect(r.headers.first("ce-type") == "invoice.paid")
        #expect(r.headers.first("ce-source") == "/sources/billing")
        #expect(r.headers.first("ce-inleteventkey") == "evt_stripe_1")
        #expect(r.headers.first("Content-Type") == "application/json")
    }

    @Test func rawKeepsTheProvidersHeadersInOrderButNeverConnectionLevelOrForgedInternalOnes() {
        let r = request(.raw)
        #expect(r.body == event.body)
        let names = r.headers.entries.map(\.name)
        #expect(Array(names.prefix(3)) == ["Stripe-Signature", "X-Trace", "User-Agent"])
        #expect(r.headers.all("webhook-id") == ["evt_01"])
        for name in ["Host", "Connection", "Proxy-Authorization"] { #expect(r.headers.first(name) == nil, "\(name)") }
    }

    @Test func anEventWithoutATypeIsNamedAfterItsProvider() {
        var untyped = event
        untyped.eventType = nil
        #expect(untyped.cloudEventType == "stripe.webhook")
    }
}
