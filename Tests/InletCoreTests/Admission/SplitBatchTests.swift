import Foundation
import InletConfig
import InletCore
import InletTesting
import Testing

/// `split`: one request, many events. Items are the array's elements, byte for byte, each with its own key, type and
/// routes.
@Suite("Split batches")
struct SplitBatchTests {
    @Test func arrayElementsAreExactByteRanges() throws {
        let body = Array(#"{"meta":{},"events": [ {"id":"a","n":[1,2]} ,{"id":"b"},"x",  3 ]}"#.utf8)
        let items = try #require(try JSONScanner.arrayElements(at: JSONPointer("/events")!, in: body, limit: 10))
        #expect(items.map { String(decoding: body[$0.range], as: UTF8.self) } == [#"{"id":"a","n":[1,2]}"#, #"{"id":"b"}"#, #""x""#, "3"])
        #expect(items.map(\.kind) == [.object, .object, .string, .number])
        #expect(try JSONScanner.arrayElements(at: JSONPointer("/events")!, in: body, limit: 3) == nil)
        #expect(try JSONScanner.arrayElements(at: JSONPointer("/meta")!, in: body, limit: 10) == nil)
        #expect(try JSONScanner.arrayElements(at: JSONPointer("")!, in: Array("[]".utf8), limit: 10) == [])
        #expect(throws: JSONScanError.self) { try JSONScanner.arrayElements(at: JSONPointer("")!, in: Array("[1,}".utf8), limit: 10) }
    }

    func gocardless(routes: [Route] = []) throws -> ResolvedSource {
        let profile = try #require(Repo.profiles["gocardless"])
        return ResolvedSource(name: "gc", path: "/hooks/gc", profile: profile, keys: [try #require(profile.makeKey(label: "k", secret: "gc-secret"))],
                              destinations: ["all"], routes: routes)
    }

    func signed(_ body: String, secret: String = "gc-secret") -> IncomingRequest {
        let profile = Repo.profiles["gocardless"]!
        let headers = profile.sign(body: Array(body.utf8), key: Array(secret.utf8), timestampSeconds: 0, id: "")
        return IncomingRequest(method: "POST", path: "/hooks/gc", headers: HTTPHeaderList(headers), body: Array(body.utf8), peer: nil, receivedAt: 0)
    }

    static let batch = #"{"events":[{"id":"EV1","resource_type":"payments","action":"confirmed"},{"id":"EV2","resource_type":"mandates","action":"created"}],"meta":{"webhook_id":"WB1"}}"#

    @Test func eachItemHasItsOwnKeyTypeAndRoutes() throws {
        let source = try gocardless(routes: [Route(destination: "payments", types: [TypePattern("payments")]),
                                             Route(destination: "confirmed", conditions: [FieldCondition(pointer: JSONPointer("/action")!, test: .equals("confirmed"))])])
        guard case .admit(let a) = source.admit(signed(Self.batch), now: 0) else { Issue.record("not admitted"); return }
        #expect(a.items.map(\.eventKey) == ["EV1", "EV2"])
        #expect(a.items.map(\.eventType) == ["payments", "mandates"])
        #expect(a.items.map(\.destinations) == [["all", "payments", "confirmed"], ["all"]])
        #expect(a.items.allSatisfy { $0.keyOrigin == .provider })
        let body = Array(Self.batch.utf8)
        #expect(String(decoding: body[a.items[1].range], as: UTF8.self) == #"{"id":"EV2","resource_type":"mandates","action":"created"}"#)
        // The request-level key stays what it was (the whole batch's), for a body that is not a batch.
        #expect(a.eventKey == "WB1")
    }

    @Test func aBodyWithoutTheArrayIsOneEvent() throws {
        guard case .admit(let a) = try gocardless().admit(signed(#"{"meta":{"webhook_id":"WB2"}}"#), now: 0) else { Issue.record("not admitted"); return }
        #expect(a.items.isEmpty && a.eventKey == "WB2")
        guard case .admit(let e) = try gocardless().admit(signed(#"{"events":[],"meta":{"webhook_id":"WB3"}}"#), now: 0) else { Issue.record("not admitted"); return }
        #expect(e.items.isEmpty)
    }

    @Test func rootArraysSplitAndItemsWithoutAnIDKeyOnTheirBytes() throws {
        let profile = try #require(Repo.profiles["okta"])
        #expect(profile.split?.pointer == JSONPointer("/data/events"))
        #expect(Repo.profiles["sendgrid"]?.split?.pointer == JSONPointer(""))
        #expect(Repo.profiles["hubspot"]?.split?.idSources == [.json(JSONPointer("/eventId")!)])
        let okta = ResolvedSource(name: "okta", path: "/hooks/okta", profile: profile, keys: [VerificationKey(label: "k", keyBytes: Array("tok".utf8))])
        let body = #"{"eventType":"com.okta.event_hook","data":{"events":[{"uuid":"u1","eventType":"user.session.start"},{"eventType":"x"}]}}"#
        let request = IncomingRequest(method: "POST", path: "/hooks/okta", headers: HTTPHeaderList([("Authorization", "tok")]), body: Array(body.utf8), peer: nil, receivedAt: 0)
        guard case .admit(let a) = okta.admit(request, now: 0) else { Issue.record("not admitted"); return }
        #expect(a.items.map(\.eventKey) == ["u1", sha256Hex(Array(#"{"eventType":"x"}"#.utf8))])
        #expect(a.items.map(\.keyOrigin) == [.provider, .bodyHash])
        #expect(a.items.map(\.eventType) == ["user.session.start", "x"])
    }

    @Test func itemKeysOnlyApplyWithSplit() {
        let text = """
        name = "t"
        confidence = "docs"
        reference = "r"
        [[signature]]
        headers = ["X-Sig"]
        algorithm = "hmac-sha256"
        [event]
        item_id = ["json:/id"]
        """
        #expect(throws: ConfigError.self) { try ProfileLoader.parse(text, file: "t.toml") }
        #expect(throws: ConfigError.self) { try ProfileLoader.parse(text.replacingOccurrences(of: "[[signature]]", with: "split = \"events\"\n[[signature]]"), file: "t.toml") }
        #expect((try? ProfileLoader.parse(text.replacingOccurrences(of: "[[signature]]", with: "split = \"/events\"\n[[signature]]"), file: "t.toml"))?.split != nil)
    }
}
