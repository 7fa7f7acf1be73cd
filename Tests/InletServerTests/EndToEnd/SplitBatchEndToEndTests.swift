import Foundation
import InletCore
import InletServer
import InletStore
import Testing

/// A batched provider through a running gateway (GoCardless `events[]`): each item is forwarded as its own event, and a
/// retried batch with one new item forwards only that item.
@Suite("Split batches end to end")
struct SplitBatchEndToEndTests {
    static let source = """
    [sources.gocardless]
    provider = "gocardless"
    secrets = ["gc-endpoint-secret"]
    destinations = ["svc"]
    """

    func headers(_ body: String) -> [(String, String)] {
        Repo.profiles["gocardless"]!.sign(body: Array(body.utf8), key: Array("gc-endpoint-secret".utf8), timestampSeconds: 0, id: "")
            + [("Content-Type", "application/json")]
    }

    func item(_ id: String, _ type: String) -> String { #"{"id":"\#(id)","created_at":"2026-12-03T10:00:00.000Z","resource_type":"\#(type)","action":"created","links":{}}"# }

    @Test func aRetriedBatchIsDeduplicatedItemByItem() async throws {
        let destination = try await TestDestination()
        let gw = try await RunningGateway.start(sourcesTOML: Self.source, destinationURL: destination.url)
        let url = gw.baseURL + "/hooks/gocardless"
        let first = #"{"events":[\#(item("EV001", "payments")),\#(item("EV002", "mandates"))],"meta":{"webhook_id":"WB001"}}"#
        let one = try await post(url, body: first, headers: headers(first))
        #expect(one.status == 200 && one.json["status"] == "accepted")
        #expect(one.body.contains(#""accepted":2,"duplicates":0"#))
        try await destination.waitForRequests(2)

        // GoCardless retries the webhook; here with one more event in it.
        let retried = #"{"events":[\#(item("EV001", "payments")),\#(item("EV002", "mandates")),\#(item("EV003", "payouts"))],"meta":{"webhook_id":"WB002"}}"#
        let two = try await post(url, body: retried, headers: headers(retried))
        #expect(two.status == 200 && two.body.contains(#""accepted":1,"duplicates":2"#))
        try await destination.waitForRequests(3)
        // Exactly the same batch again: all duplicates.
        let three = try await post(url, body: retried, headers: headers(retried))
        #expect(three.json["status"] == "duplicate" && three.body.contains(#""accepted":0,"duplicates":3"#))

        // A later single event proves nothing else was queued behind it.
        let later = #"{"events":[\#(item("EV004", "refunds"))],"meta":{"webhook_id":"WB003"}}"#
        #expect(try await post(url, body: later, headers: headers(later)).status == 200)
        try await destination.waitForRequests(4)
        try await gw.stop()
        #expect(destination.requests.count == 4)
        let forwarded = destination.requests.map { r in
            (JSONScanner.scalarText(at: JSONPointer("/inleteventkey")!, in: r.body) ?? "", JSONScanner.scalarText(at: JSONPointer("/type")!, in: r.body) ?? "")
        }
        #expect(forwarded.map(\.0).sorted() == ["EV001", "EV002", "EV003", "EV004"])
        #expect(Set(forwarded.map(\.1)) == ["payments", "mandates", "payouts", "refunds"])
        // Each CloudEvent's data is the item's exact bytes.
        let ev3 = try #require(destination.requests.first { JSONScanner.scalarText(at: JSONPointer("/inleteventkey")!, in: $0.body) == "EV003" })
        #expect(String(decoding: ev3.body, as: UTF8.self).hasSuffix(#""data":\#(item("EV003", "payouts"))}"#))
        // Stored: four events, each naming its request, kept once per delivery that brought something new.
        #expect(try gw.gateway.store.counts().events == 4)
        let events = try gw.gateway.store.events(matching: EventFilter(source: "gocardless"), before: nil, limit: 10)
        let ev3Stored = try #require(events.first { $0.eventKey == "EV003" })
        let batchID = try #require(ev3Stored.batchID)
        let batch = try #require(try gw.gateway.store.batch(id: batchID))
        #expect(batch.body == Array(retried.utf8) && batch.items == 3 && ev3Stored.batchIndex == 2)
        await destination.stop()
    }
}
