import AsyncHTTPClient
import Foundation
import InletCore
import InletTesting
import Testing
@testable import InletCLI

/// The pieces of `inlet listen` that need no gateway: reading a pulled batch, the retry schedule, group names and
/// the request the local server receives.
@Suite("inlet listen")
struct ListenTests {
    static let cloudEvent = #"{"specversion":"1.0","id":"evt_01","source":"/sources/stripe","type":"invoice.paid","inleteventkey":"evt_s1","data":{"amount":12345678901234567890.50}}"#

    static func batch(raw: String = "") -> [UInt8] {
        Array(#"{"stream":"ledger","group":"g","receipt":"r1","lease_expires_at":"2026-12-03T00:00:30Z","events":[{"sequence":17,"event":\#(cloudEvent)\#(raw)},{"sequence":18,"event":{"id":"evt_02","source":"/sources/gh","type":"push"}}]}"#.utf8)
    }

    @Test func aBatchKeepsEachCloudEventsExactBytes() throws {
        let parsed = try StreamBatch.parse(Self.batch())
        #expect(parsed.items.map(\.sequence) == [17, 18])
        // A number JSON decoding would round is forwarded as written.
        #expect(String(decoding: parsed.items[0].cloudEvent, as: UTF8.self) == Self.cloudEvent)
        #expect(parsed.items[0].summary == "stripe invoice.paid evt_01 (seq 17)")
        #expect(parsed.items[0].sourceName == "stripe")
        #expect(parsed.items[0].eventKey == "evt_s1")
        #expect(parsed.items[0].raw == nil)
    }

    @Test func anEmptyBatchAndMalformedAnswers() throws {
        #expect(try StreamBatch.parse(Array(#"{"events":[],"receipt":null}"#.utf8)).items.isEmpty)
        for bad in [#"{"receipt":null}"#, #"{"events":[{"event":{}}]}"#, #"{"events":[{"sequence":-1,"event":{}}]}"#,
                    #"{"events":[{"sequence":99999999999999999999999,"event":{}}]}"#, "not json"] {
            #expect(throws: StreamConsumer.Failure.self, "\(bad)") { try StreamBatch.parse(Array(bad.utf8)) }
        }
    }

    @Test func theRawRequestIsDecodedWithHeadersInOrder() throws {
        let body = Data("{\"id\":\"evt_s1\"}".utf8).base64EncodedString()
        let raw = #","raw":{"method":"POST","path":"/hooks/stripe","headers":[["Stripe-Signature","t=1,v1=ab"],["Content-Type","application/json"]],"body_base64":"\#(body)"}"#
        let item = try #require(try StreamBatch.parse(Self.batch(raw: raw)).items.first)
        #expect(item.raw?.method == "POST")
        #expect(item.raw?.headers.map(\.0) == ["Stripe-Signature", "Content-Type"])
        #expect(item.raw?.body == Array("{\"id\":\"evt_s1\"}".utf8))
        let broken = #","raw":{"method":"POST","headers":[["a"]],"body_base64":"!!"}"#
        #expect(throws: StreamConsumer.Failure.self) { try StreamBatch.parse(Self.batch(raw: broken)) }
    }

    @Test func retriesBackOffFromHalfASecondToThirtySeconds() {
        var backoff = Backoff()
        let delays = (0..<9).map { _ in backoff.next() }
        #expect(delays == [500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000].map { Duration.milliseconds($0) })
        backoff.reset()
        #expect(backoff.next() == .milliseconds(500))
        #expect(Backoff.describe(.milliseconds(1500)) == "1500 ms")
        #expect(Backoff.describe(.seconds(30)) == "30 s")
    }

    @Test func groupNames() {
        #expect(StreamConsumer.defaultGroup(hostname: "anna's MacBook.local") == "listen-anna-s-MacBook.local")
        #expect(StreamConsumer.defaultGroup(hostname: "") == "listen-local")
        #expect(RouteTarget.isValidName(StreamConsumer.defaultGroup(hostname: String(repeating: "h", count: 300))))
        #expect(!RouteTarget.isValidName(""))
        #expect(!RouteTarget.isValidName("a b"))
        #expect(!RouteTarget.isValidName(String(repeating: "g", count: 65)))
    }

    @Test func cloudEventsModePostsTheEventAsIs() throws {
        let forwarder = LocalForwarder(url: "http://127.0.0.1:1/x", payload: .cloudevents, resolved: nil, client: HTTPClient.shared)
        let item = try #require(try StreamBatch.parse(Self.batch()).items.first)
        let built = try forwarder.request(for: item, now: 0)
        #expect(built.method == "POST")
        #expect(built.body == item.cloudEvent)
        #expect(built.headers.first { $0.0 == "Content-Type" }?.1 == CloudEvent.jsonContentType)
    }

    @Test func rawModeResignsWithTheLocalConfigsSecret() throws {
        let body = #"{"id":"evt_s1","type":"invoice.paid"}"#
        let stale = "t=1,v1=" + String(repeating: "0", count: 64)
        let raw = #","raw":{"method":"POST","path":"/hooks/stripe","headers":[["Stripe-Signature","\#(stale)"],["Host","gateway"],["Content-Type","application/json"]],"body_base64":"\#(Data(body.utf8).base64EncodedString())"}"#
        let item = try #require(try StreamBatch.parse(Self.batch(raw: raw)).items.first)
        let resolved = try resolvedSnapshot(destinationTOML("svc", url: "http://127.0.0.1:1/x") + stripeSource).resolved

        let plain = try LocalForwarder(url: "http://127.0.0.1:1/x", payload: .raw, resolved: nil, client: HTTPClient.shared).request(for: item, now: 0)
        #expect(plain.headers.first { $0.0 == "Stripe-Signature" }?.1 == stale)
        #expect(plain.headers.first { $0.0 == "Host" } == nil)  // connection-level headers are the client's own

        let now: EpochMillis = 1_800_000_000_000
        let resigned = try LocalForwarder(url: "http://127.0.0.1:1/x", payload: .raw, resolved: resolved, client: HTTPClient.shared).request(for: item, now: now)
        let signature = try #require(resigned.headers.first { $0.0.lowercased() == "stripe-signature" }?.1)
        #expect(signature != stale)
        #expect(resigned.body == Array(body.utf8))
        // What the local code's Stripe SDK would check: the new header verifies with the source's secret.
        let decision = try #require(resolved.sources.first { $0.name == "stripe" })
            .decide(makeRequest(headers: ["Stripe-Signature": signature, "Content-Type": "application/json"], body: body, receivedAt: now), now: now)
        guard case .admit = decision else { Issue.record("re-signed request not admitted: \(decision)"); return }
    }
}
