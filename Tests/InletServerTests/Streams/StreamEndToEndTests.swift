import AsyncHTTPClient
import Foundation
import InletCore
import InletServer
import NIOCore
import NIOHTTP1
import Testing

/// A stream consumer's view of a gateway's admin listener.
struct StreamClient {
    let admin: String
    var token = "consumer-token"

    struct Answer {
        let status: Int
        let body: [UInt8]
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:] }
        var error: String? { json["error"] as? String }
        var sequences: [Int64] { (json["events"] as? [[String: Any]] ?? []).compactMap { ($0["sequence"] as? NSNumber)?.int64Value } }
        var receipt: String? { json["receipt"] as? String }
        var events: [[String: Any]] { json["events"] as? [[String: Any]] ?? [] }
    }

    func call(_ method: HTTPMethod = .GET, _ path: String, body: String? = nil, token: String? = nil, timeout: Int64 = 70) async throws -> Answer {
        var request = HTTPClientRequest(url: admin + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(token ?? self.token)")
        if let body { request.body = .bytes(Array(body.utf8)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(timeout))
        return Answer(status: Int(response.status.code), body: Array(buffer: try await response.body.collect(upTo: 16 << 20)))
    }

    func events(_ query: String, stream: String = "ledger") async throws -> Answer { try await call(.GET, "/v1/streams/\(stream)/events?\(query)") }

    func ack(_ group: String, receipt: String, stream: String = "ledger") async throws -> Answer {
        try await call(.POST, "/v1/streams/\(stream)/ack", body: #"{"group":"\#(group)","receipt":"\#(receipt)"}"#)
    }
}

@Suite("Streams end to end")
struct StreamEndToEndTests {
    static let streamsTOML = """
        [admin]
        listen = "127.0.0.1:0"
        tokens = ["admin-token"]

        [streams.ledger]
        tokens = ["consumer-token"]
        lease_seconds = 30

        [streams.other]
        tokens = ["other-token"]

        [sources.stripe]
        provider = "stripe"
        secrets = ["\(stripeSecret)"]
        destinations = ["stream:ledger"]

        """

    func send(_ gw: RunningGateway, _ key: String) async throws -> String {
        let body = stripeEvent(key)
        let reply = try await post(gw.baseURL + "/hooks/stripe", body: body, headers: stripeHeaders(body: body))
        #expect(reply.status == 200)
        return try #require(reply.json["id"])
    }

    /// The 200 ack means the event is in the stream: the database files as they are right after the ack (copied while
    /// the gateway runs, as a crash would leave them) hold it, and a gateway started on them serves it with its
    /// sequence, as the CloudEvent push delivery sends (data byte for byte).
    @Test func acknowledgedEventIsInTheStreamAfterACrash() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("inlet-stream-\(UUID().uuidString)")
        let crashed = try await RunningGateway.start(sourcesTOML: Self.streamsTOML, destinationURL: "http://127.0.0.1:9/",
                                                     storePath: dir.appendingPathComponent("a/inlet.sqlite").path)
        let id = try await send(crashed, "evt_stream_1")
        let copy = dir.appendingPathComponent("b")
        try FileManager.default.createDirectory(at: copy, withIntermediateDirectories: true)
        for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: crashed.storePath + suffix) {
            try FileManager.default.copyItem(atPath: crashed.storePath + suffix, toPath: copy.appendingPathComponent("inlet.sqlite" + suffix).path)
        }
        try await crashed.stop()

        let gw = try await RunningGateway.start(sourcesTOML: Self.streamsTOML, destinationURL: "http://127.0.0.1:9/",
                                                storePath: copy.appendingPathComponent("inlet.sqlite").path)
        let client = StreamClient(admin: "http://127.0.0.1:\(try await gw.gateway.adminPort())")
        let batch = try await client.events("group=workers&include=raw")
        #expect(batch.status == 200)
        #expect(batch.sequences == [1])
        let item = try #require(batch.events.first)
        let event = try #require(item["event"] as? [String: Any])
        #expect(event["id"] as? String == id && event["specversion"] as? String == "1.0" && event["type"] as? String == "invoice.paid")
        #expect(event["source"] as? String == "/sources/stripe")
        #expect((event["data"] as? [String: Any])?["id"] as? String == "evt_stream_1")
        let raw = try #require(item["raw"] as? [String: Any])
        #expect(raw["method"] as? String == "POST" && raw["path"] as? String == "/hooks/stripe")
        #expect(Base64.decode(raw["body_base64"] as? String ?? "") == Array(stripeEvent("evt_stream_1").utf8))
        #expect((raw["headers"] as? [[String]])?.contains { $0.first?.lowercased() == "stripe-signature" } == true)
        #expect(batch.json["stream"] as? String == "ledger" && batch.json["group"] as? String == "workers" && batch.json["lease_expires_at"] is String)

        let ack = try await client.ack("workers", receipt: try #require(batch.receipt))
        #expect(ack.status == 200 && (ack.json["acknowledged"] as? Int) == 1 && (ack.json["cursor"] as? Int) == 2)
        let empty = try await client.events("group=workers")
        #expect(empty.status == 200 && empty.events.isEmpty && empty.json["receipt"] is NSNull)
        try await gw.stop()
    }

    /// A long-poll answers as soon as an event is committed, far sooner than its `wait`.
    @Test func longPollWakesOnCommit() async throws {
        let gw = try await RunningGateway.start(configBody: Self.streamsTOML)
        let client = StreamClient(admin: "http://127.0.0.1:\(try await gw.gateway.adminPort())")
        _ = try await client.events("group=g")  // creates the group at the start
        let started = ContinuousClock.now
        async let polled = client.events("group=g&wait=30")
        try await Task.sleep(for: .milliseconds(300))
        _ = try await send(gw, "evt_wake")
        let answer = try await polled
        let took = ContinuousClock.now - started
        #expect(answer.sequences == [1])
        #expect(took < .seconds(10), "the long-poll waited for its timeout instead of the commit (\(took))")
        // Empty after its wait when nothing comes.
        let idle = ContinuousClock.now
        let none = try await client.events("group=g&wait=1")
        #expect(none.events.isEmpty && ContinuousClock.now - idle >= .milliseconds(900))
        try await gw.stop()
    }

    /// Several workers of one group pulling concurrently never hold the same event at once, and together see each once.
    @Test func workersOfOneGroupShareTheWork() async throws {
        let gw = try await RunningGateway.start(configBody: Self.streamsTOML)
        let client = StreamClient(admin: "http://127.0.0.1:\(try await gw.gateway.adminPort())")
        for n in 0..<60 { _ = try await send(gw, "evt_share_\(n)") }
        let seen = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for _ in 0..<4 {
                group.addTask {
                    var mine: [Int64] = []
                    while true {
                        let batch = try await client.events("group=shared&max=7")
                        guard let receipt = batch.receipt else { return mine }
                        mine += batch.sequences
                        #expect(try await client.ack("shared", receipt: receipt).status == 200)
                    }
                }
            }
            var all: [[Int64]] = []
            for try await s in group { all.append(s) }
            return all
        }
        let flat = seen.flatMap { $0 }
        #expect(flat.count == 60 && Set(flat) == Set(1...60))
        try await gw.stop()
    }

    /// A batch whose worker disappears is served again after its lease; another group reads independently; an admin
    /// rewind serves from the chosen sequence again.
    @Test func expiredLeaseIsServedAgainAndGroupsAreIndependent() async throws {
        let gw = try await RunningGateway.start(configBody: Self.streamsTOML)
        let admin = "http://127.0.0.1:\(try await gw.gateway.adminPort())"
        let client = StreamClient(admin: admin)
        for n in 0..<3 { _ = try await send(gw, "evt_lease_\(n)") }
        let dying = try await client.events("group=a&lease=5")
        #expect(dying.sequences == [1, 2, 3])
        #expect(try await client.events("group=a").events.isEmpty)
        // The long-poll looks again every second: it answers once the lease has run out.
        let again = try await client.events("group=a&wait=30")
        #expect(again.sequences == [1, 2, 3])
        let late = try await client.ack("a", receipt: try #require(dying.receipt))
        #expect(late.status == 409 && late.error == "receipt_expired")
        #expect(try await client.ack("a", receipt: try #require(again.receipt)).status == 200)
        #expect(try await client.events("group=b").sequences == [1, 2, 3])

        let operatorClient = StreamClient(admin: admin, token: "admin-token")
        let rewind = try await operatorClient.call(.POST, "/v1/streams/ledger/groups/a/rewind", body: #"{"sequence":2}"#)
        #expect(rewind.status == 200 && (rewind.json["cursor"] as? Int) == 2)
        #expect(try await client.events("group=a").sequences == [2, 3])
        let groups = try await operatorClient.call(.GET, "/v1/streams/ledger/groups")
        let list = try AdminJSON.decode(AdminAPI.StreamGroupList.self, from: groups.body)
        #expect(list.groups.map(\.group) == ["a", "b"])
        #expect(list.groups.first { $0.group == "b" }?.leased == 3)
        let streams = try AdminJSON.decode(AdminAPI.StreamList.self, from: try await operatorClient.call(.GET, "/v1/streams").body)
        #expect(streams.streams.map(\.name) == ["ledger", "other"])
        #expect(streams.streams.first?.length == 3 && streams.streams.first?.lastSequence == 3)
        #expect(try await operatorClient.call(.DELETE, "/v1/streams/ledger/groups/b").status == 200)
        #expect(try await operatorClient.call(.DELETE, "/v1/streams/ledger/groups/b").error == "unknown_group")
        try await gw.stop()
    }

    /// Every kind of bad input gets its own code; tokens are per stream and admin tokens read no events.
    @Test func badInputAndTokens() async throws {
        let gw = try await RunningGateway.start(configBody: Self.streamsTOML)
        let client = StreamClient(admin: "http://127.0.0.1:\(try await gw.gateway.adminPort())")
        #expect(try await client.events("group=g&max=1001").error == "max_out_of_range")
        #expect(try await client.events("group=g&max=0").error == "max_out_of_range")
        #expect(try await client.events("group=g&max=99999999999999999999999").error == "max_out_of_range")
        #expect(try await client.events("group=g&wait=61").error == "wait_out_of_range")
        #expect(try await client.events("group=g&lease=0").error == "lease_out_of_range")
        #expect(try await client.events("group=g&start=later").error == "invalid_start")
        #expect(try await client.events("group=g&include=everything").error == "invalid_include")
        #expect(try await client.events("").error == "missing_group")
        #expect(try await client.events("group=a%20b").error == "invalid_group")
        #expect(try await client.events("group=g", stream: "nope").status == 404)
        #expect(try await client.events("group=g", stream: "nope").error == "unknown_stream")
        #expect(try await client.ack("never-read", receipt: "r0").error == "unknown_group")
        _ = try await client.events("group=g")
        let expired = try await client.ack("g", receipt: "r-not-a-receipt")
        #expect(expired.status == 409 && expired.error == "receipt_expired")
        #expect(try await client.call(.POST, "/v1/streams/ledger/ack", body: "{").error == "invalid_body")
        #expect(try await client.call(.POST, "/v1/streams/ledger/ack", body: #"{"group":"g"}"#).error == "invalid_body")

        // Tokens: the stream's own, not another stream's, not an admin token; management takes admin tokens only.
        #expect(try await client.call(.GET, "/v1/streams/ledger/events?group=g", token: "wrong").status == 401)
        #expect(try await client.call(.GET, "/v1/streams/ledger/events?group=g", token: "other-token").status == 401)
        #expect(try await client.call(.GET, "/v1/streams/ledger/events?group=g", token: "admin-token").status == 401)
        #expect(try await client.call(.GET, "/v1/streams/nope/events?group=g", token: "wrong").status == 401)
        #expect(try await client.call(.GET, "/v1/streams/other/events?group=g", token: "other-token").status == 200)
        #expect(try await client.call(.GET, "/v1/streams").status == 401)
        #expect(try await client.call(.GET, "/v1/events").status == 401)
        #expect(try await client.call(.GET, "/v1/streams", token: "admin-token").status == 200)
        try await gw.stop()
    }
}
